import { Agent, get, IncomingMessage } from 'node:http';
import { resolve } from 'node:path';
import { freePort, ServiceProcess, startService, waitFor } from '@subscribernest/testkit';
import { insertConnection, insertSubscribers, manySubscribers } from './support/subscriber-factory';
import { signIn, SignedIn, startTestApi, TestApi } from './support/test-api';

const ENTRY = resolve(__dirname, '../dist/main.js');
const CWD = resolve(__dirname);
/** Large enough (about 20 MB of JSON) that loopback socket buffers cannot hold the whole file. */
const ROWS = 100_000;

/** A GET whose body the test reads at its own pace. */
function open(url: string, token: string, agent?: Agent): Promise<IncomingMessage> {
  return new Promise((resolvePromise, reject) => {
    get(url, { headers: { authorization: `Bearer ${token}` }, agent }, resolvePromise).on(
      'error',
      reject,
    );
  });
}

/** Reads what is left of `response`: the body, and whether it arrived whole (final chunk seen). */
function readRest(
  response: IncomingMessage,
  first: Buffer[],
): Promise<{ body: string; complete: boolean }> {
  return new Promise((resolvePromise) => {
    const chunks = [...first];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    const done = () =>
      resolvePromise({ body: Buffer.concat(chunks).toString(), complete: response.complete });
    response.once('end', done);
    response.once('aborted', done);
    response.once('error', done);
    response.resume();
  });
}

/** Waits for the first chunk of `response`, then pauses it. */
function firstChunk(response: IncomingMessage): Promise<Buffer[]> {
  return new Promise((resolvePromise) => {
    response.once('data', (chunk: Buffer) => {
      response.pause();
      resolvePromise([chunk]);
    });
  });
}

/**
 * The built api (dist/main.js) as production runs it, on a database seeded through an in-process
 * api: SIGTERM during a large export download.
 */
describe('api shutdown with a download in flight (real process)', () => {
  let seeded: TestApi;
  let owner: SignedIn;
  let exportPath: string;

  beforeAll(async () => {
    seeded = await startTestApi();
    owner = await signIn(seeded, 'owner@example.com');
    const connectionId = await insertConnection(seeded, owner.user.id);
    await insertSubscribers(seeded, connectionId, manySubscribers(ROWS));
    exportPath = `/esp-connections/${connectionId}/subscribers/export?format=json`;
  }, 120_000);

  afterAll(async () => {
    await seeded?.close();
  });

  const startApi = async (
    env: Record<string, string> = {},
  ): Promise<{ api: ServiceProcess; base: string }> => {
    const port = await freePort();
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: { ...seeded.env, LOG_LEVEL: 'info', PORT: String(port), ...env },
      readyUrl: `http://127.0.0.1:${port}/health`,
    });
    return { api, base: `http://127.0.0.1:${port}` };
  };
  const logged = (api: ServiceProcess, text: string) =>
    waitFor(async () => api.output().includes(text), { description: `the api to log "${text}"` });

  it('lets the download finish, closes idle keep-alive sockets at once, refuses new connections, exits 0', async () => {
    const { api, base } = await startApi({ SHUTDOWN_TIMEOUT_MS: '20000' });
    // An idle keep-alive connection, as a browser or a proxy keeps one.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const health = await open(`${base}/health`, owner.token, agent);
    await readRest(health, []);
    const events: string[] = [];
    const [idle] = Object.values(agent.freeSockets).flat();
    expect(idle).toBeDefined();
    idle!.once('close', () => events.push('idle socket closed'));

    const download = await open(`${base}${exportPath}`, owner.token);
    expect(download.statusCode).toBe(200);
    const first = await firstChunk(download);

    const exit = api.stop('SIGTERM');
    await logged(api, 'Draining 1 in-flight request(s)');
    await waitFor(async () => events.includes('idle socket closed'), {
      description: 'the idle keep-alive socket to be closed',
    });
    await expect(fetch(`${base}/health`)).rejects.toThrow();

    const { body, complete } = await readRest(download, first);
    events.push('download ended');
    expect(complete).toBe(true);
    const rows = JSON.parse(body) as { email: string }[];
    expect(rows).toHaveLength(ROWS);
    expect(events).toEqual(['idle socket closed', 'download ended']);
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(api.output()).toContain('Drained: 1 in-flight request(s) finished');
    agent.destroy();
  }, 120_000);

  it('cuts a download still running when the drain time is up so the client can tell, and exits 0', async () => {
    const { api, base } = await startApi({
      SHUTDOWN_TIMEOUT_MS: '10000',
      HTTP_DRAIN_TIMEOUT_MS: '1000',
    });
    const download = await open(`${base}${exportPath}`, owner.token);
    const first = await firstChunk(download);
    // The client stops reading (a stalled mobile connection): the download cannot finish.
    const exit = api.stop('SIGTERM');
    await logged(api, 'cutting off 1 request(s) still running');
    expect(await exit).toEqual({ code: 0, signal: null });

    const { body, complete } = await readRest(download, first);
    expect(complete).toBe(false);
    // And the body itself does not pass for a whole file.
    expect(() => JSON.parse(body)).toThrow();
  }, 120_000);
});
