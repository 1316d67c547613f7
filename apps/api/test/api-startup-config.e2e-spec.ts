import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
  TestDatabase,
  TestQueuePrefix,
} from '@subscribernest/testkit';

const ENTRY = resolve(__dirname, '../dist/main.js');
// Run from an empty directory so no developer .env file leaks into the test.
const CWD = resolve(__dirname);

/** This machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === 'IPv4' && !entry.internal)?.address;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolvePromise(false);
    });
    socket.once('error', () => resolvePromise(false));
  });
}

describe('api process: start-up configuration (HOST, TLS in production)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
  });

  afterAll(async () => {
    await database?.drop();
    await queues?.cleanup();
  });

  it('binds to HOST=127.0.0.1 only: loopback answers, other interfaces refuse', async () => {
    const port = await freePort();
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { PORT: String(port), HOST: '127.0.0.1' },
      }),
      readyUrl: `http://127.0.0.1:${port}/health`,
    });
    try {
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const external = externalAddress();
      if (external) expect(await accepts(external, port)).toBe(false);
    } finally {
      expect(await api.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
    expect(
      api.logLines().some((line) => line.msg === `api listening on 127.0.0.1 port ${port}`),
    ).toBe(true);
  });

  it('refuses to start with a HOST that is not an address, naming it in one line', async () => {
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { PORT: String(await freePort()), HOST: 'not a host' },
      }),
    });
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.output()).toBe(
      'api: Invalid configuration: HOST must be an IP address or host name to listen on ' +
        '(0.0.0.0: every interface; 127.0.0.1: this machine only)\n',
    );
  });

  it('refuses, in production, an ESP URL over plain http://, in one line naming it', async () => {
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: {
          NODE_ENV: 'production',
          PORT: String(await freePort()),
          KIT_API_URL: 'http://kit.internal/v4',
        },
      }),
    });
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.output()).toBe(
      'api: Invalid configuration: KIT_API_URL must be an https:// URL in production\n',
    );
  });
});
