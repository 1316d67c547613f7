import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeEspServer,
  FakeSmtpServer,
  freePort,
  serviceEnv,
  ServiceProcess,
  startService,
  TestDatabase,
  TestQueuePrefix,
  waitFor,
} from '@subscribernest/testkit';

const WORKER_ENTRY = resolve(__dirname, '../dist/main.js');
const API_ENTRY = resolve(__dirname, '../../api/dist/main.js');
// Run from a directory with no .env file, so no developer setting leaks into the test.
const CWD = resolve(__dirname);

const KEY = 'bh-live-key';
const LISTS = {
  first: { id: 'pub_first', size: 2_500 },
  second: { id: 'pub_second', size: 1_200 },
};

interface SyncAccepted {
  jobId: string;
  status: string;
}
interface SyncRun {
  id: string;
  status: string;
  trigger: string;
  subscriberCount: number | null;
}
interface SubscriberPage {
  data: { maskedEmail: string; status: string }[];
  total: number;
}

// turbo.json makes the worker's tests wait for the api's build, so the api is always there.
describe('manual sync end to end: api → event → worker → subscribers (built services, fake ESP)', () => {
  beforeAll(() => {
    if (!existsSync(API_ENTRY)) throw new Error(`${API_ENTRY} is missing: build the api first`);
  });

  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let esp: FakeEspServer;
  let smtp: FakeSmtpServer;
  let env: Record<string, string>;
  let api: ServiceProcess;
  let worker: ServiceProcess | undefined;
  let apiUrl: string;
  let token: string;

  const startWorker = async (): Promise<ServiceProcess> => {
    const opsPort = await freePort();
    return startService({
      entry: WORKER_ENTRY,
      cwd: CWD,
      env: { ...env, OPS_PORT: String(opsPort), SMTP_URL: smtp.url },
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
  };

  const call = async <T>(method: string, path: string, body?: unknown): Promise<[number, T]> => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return [response.status, (await response.json()) as T];
  };

  const connect = async (publicationId: string): Promise<string> => {
    const [status, connection] = await call<{ id: string }>('POST', '/esp-connections', {
      espType: 'beehiiv',
      apiKey: KEY,
      publicationId,
    });
    expect(status).toBe(201);
    return connection.id;
  };

  const latestRun = async (connectionId: string): Promise<SyncRun | undefined> => {
    const [, runs] = await call<SyncRun[]>(
      'GET',
      `/esp-connections/${connectionId}/sync-history?limit=1`,
    );
    return runs[0];
  };

  const finishedRun = (connectionId: string): Promise<SyncRun> =>
    waitFor(
      async () => {
        const run = await latestRun(connectionId);
        return run && ['success', 'failed'].includes(run.status) ? run : undefined;
      },
      { description: 'the sync to finish', timeoutMs: 60_000 },
    );

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    smtp = await FakeSmtpServer.start();
    esp = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: KEY,
          lists: Object.values(LISTS).map(({ id, size }) => ({ id, name: id, size })),
        },
      ],
    });
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      extra: { BEEHIIV_API_URL: esp.baseUrls.beehiiv, OUTBOX_SWEEP_INTERVAL_MS: '500' },
    });
    api = await startService({
      entry: API_ENTRY,
      cwd: CWD,
      env: { ...env, PORT: String(port) },
      readyUrl: `${apiUrl}/health`,
    });
    worker = await startWorker();

    // Sign in the way a user does: the code arrives by email, sent by the worker.
    const email = 'owner@example.com';
    expect((await call('POST', '/auth/send-code', { email }))[0]).toBe(200);
    const message = await smtp.waitForMessage((m) => m.subject.includes('sign-in code'));
    const code = /sign-in code is: (\d{6})/.exec(message.text)?.[1];
    const [status, session] = await call<{ token: string }>('POST', '/auth/verify-code', {
      email,
      code,
    });
    expect(status).toBe(200);
    token = session.token;
  });

  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await api?.stop('SIGTERM');
    await esp?.stop();
    await smtp?.stop();
    await database?.drop();
    await queues?.cleanup();
  });

  it('syncs a connection on request, and its subscribers are listed', async () => {
    const connectionId = await connect(LISTS.first.id);

    const [status, accepted] = await call<SyncAccepted>(
      'POST',
      `/esp-connections/${connectionId}/sync`,
    );
    expect(status).toBe(202);
    expect(accepted.status).toBe('queued');

    const run = await finishedRun(connectionId);
    expect(run).toMatchObject({
      id: accepted.jobId,
      status: 'success',
      trigger: 'manual',
      subscriberCount: LISTS.first.size,
    });
    const [, page] = await call<SubscriberPage>(
      'GET',
      `/esp-connections/${connectionId}/subscribers?limit=50`,
    );
    expect(page.total).toBe(LISTS.first.size);
    expect(page.data).toHaveLength(50);
    expect(page.data[0].maskedEmail).toMatch(/\*/);
    const [, connection] = await call<{ syncStatus: string }>(
      'GET',
      `/esp-connections/${connectionId}`,
    );
    expect(connection.syncStatus).toBe('synced');
  });

  it('keeps a sync requested while no worker runs, and runs it once a worker starts', async () => {
    expect(await worker!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    worker = undefined;
    const connectionId = await connect(LISTS.second.id);

    const [status, accepted] = await call<SyncAccepted>(
      'POST',
      `/esp-connections/${connectionId}/sync`,
    );
    expect(status).toBe(202);
    // Nobody works on it: it stays queued, and the frontend keeps showing `syncing`.
    await new Promise((settle) => setTimeout(settle, 1_000));
    expect(await latestRun(connectionId)).toMatchObject({ id: accepted.jobId, status: 'queued' });
    const [, waiting] = await call<{ syncStatus: string }>(
      'GET',
      `/esp-connections/${connectionId}`,
    );
    expect(waiting.syncStatus).toBe('syncing');

    worker = await startWorker();
    expect(await finishedRun(connectionId)).toMatchObject({
      id: accepted.jobId,
      status: 'success',
      subscriberCount: LISTS.second.size,
    });
    const [, page] = await call<SubscriberPage>(
      'GET',
      `/esp-connections/${connectionId}/subscribers?limit=10`,
    );
    expect(page.total).toBe(LISTS.second.size);
  });
});
