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

describe('worker process', () => {
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

  it('boots, serves only /health and /metrics on the ops port, and exits 0 on SIGTERM', async () => {
    const opsPort = await freePort();
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { OPS_PORT: String(opsPort) },
      }),
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
    const ops = `http://127.0.0.1:${opsPort}`;

    const health = await fetch(`${ops}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      details: { database: { status: 'up' }, redis: { status: 'up' } },
    });

    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('nodejs_eventloop_lag_seconds');

    expect((await fetch(`${ops}/esp-connections`)).status).toBe(404);
    expect((await fetch(`${ops}/health`, { method: 'POST' })).status).toBe(405);

    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const lines = worker
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.every((line) => line.service === 'worker')).toBe(true);
    expect(lines.some((line) => String(line.msg).includes('worker started'))).toBe(true);
  });

  it('refuses to start with one line naming a malformed variable', async () => {
    const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: { ...env, REDIS_URL: 'localhost:6379' },
    });
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    expect(worker.output().trim()).toBe(
      'worker: Invalid configuration: REDIS_URL must be a URL starting with redis:// or rediss://',
    );
  });
});
