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
  waitFor,
} from '@subscribernest/testkit';

const ENTRY = resolve(__dirname, '../dist/main.js');
// Run from an empty directory so no developer .env file leaks into the test.
const CWD = resolve(__dirname);

describe('api process', () => {
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

  it('boots, answers /health and /metrics, logs JSON with request ids, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { PORT: String(port) },
      }),
      readyUrl: `http://127.0.0.1:${port}/health`,
    });

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, redis: { status: 'up' } },
    });

    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('process_cpu_user_seconds_total');

    const missing = await fetch(`http://127.0.0.1:${port}/no-such-route`, {
      headers: { 'x-request-id': 'req-e2e-1' },
    });
    expect(missing.status).toBe(404);
    // No trusted proxy (TRUST_PROXY unset): a client does not pick the id, one is made for it.
    const madeId = missing.headers.get('x-request-id');
    expect(madeId).toMatch(/^[0-9a-f-]{36}$/);

    const exit = await api.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });

    const lines = api.logLines();
    expect(lines.every((line) => line.service === 'api')).toBe(true);
    expect(lines.some((line) => (line.req as { id?: string })?.id === madeId)).toBe(true);
    expect(lines.some((line) => String(line.msg).includes('SIGTERM received'))).toBe(true);
  });

  it('answers /health with 503 naming Redis when Redis is unreachable', async () => {
    const port = await freePort();
    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        redisUrl: deadRedis,
        extra: { PORT: String(port) },
      }),
    });
    try {
      const body = await waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
          return response?.status === 503 ? response.json() : undefined;
        },
        { description: 'a 503 from /health' },
      );
      expect(body).toMatchObject({
        status: 'error',
        details: { database: { status: 'up' }, redis: { status: 'down' } },
      });
    } finally {
      expect(await api.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  });

  it('refuses to start with one line naming a missing or malformed variable', async () => {
    const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
    delete env.HMAC_KEY;
    const api = await startService({ entry: ENTRY, cwd: CWD, env: { ...env, PORT: 'eighty' } });
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.output().trim()).toBe(
      'api: Invalid configuration: PORT must be an integer between 1 and 65535; HMAC_KEY is required',
    );
  });

  it('refuses to start with one line when ACCOUNT_DELETION_GRACE_DAYS is malformed', async () => {
    const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: { ...env, ACCOUNT_DELETION_GRACE_DAYS: '0' },
    });
    expect(await api.exited).toEqual({ code: 1, signal: null });
    expect(api.output().trim()).toBe(
      'api: Invalid configuration: ACCOUNT_DELETION_GRACE_DAYS must be a whole number of days from 1 to 365',
    );
  });
});
