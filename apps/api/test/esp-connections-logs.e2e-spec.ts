import { resolve } from 'node:path';
import { EncryptionService, JobPayloads, QUEUE, runMigrations } from '@subscribernest/shared';
import {
  clearEspBudgets,
  createTestDatabase,
  createTestQueuePrefix,
  FakeEspServer,
  freePort,
  serviceEnv,
  startService,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { waitingLoginCodeAt } from './support/login-code-row';
import { espEnv, FAKE_ACCOUNTS, KEYS } from './support/fake-esp-api';

const ENTRY = resolve(__dirname, '../dist/main.js');
const CWD = resolve(__dirname);
/** An EncryptionService ciphertext: `v1.<key id>.<iv>.<body>`. */
const CIPHERTEXT = /v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{20,}/;

/**
 * The built api as a process at the most verbose log level, through every ESP connection and
 * sync route, successes and failures (rejected keys, rate limits, ESP errors with retries): what
 * it writes must never contain an API key, plain or encrypted.
 */
describe('ESP connection logs (api process)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let esp: FakeEspServer;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    esp = await FakeEspServer.start({ accounts: FAKE_ACCOUNTS });
  });

  afterAll(async () => {
    await esp?.stop();
    await database?.drop();
    await queues?.cleanup();
  });

  it('never logs an API key', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      // One retry, so the ESP client's retry warnings are part of what is checked.
      extra: { PORT: String(port), LOG_LEVEL: 'trace', ...espEnv(esp), ESP_MAX_RETRIES: '1' },
    });
    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env,
      readyUrl: `http://127.0.0.1:${port}/health`,
    });
    const emailQueue = new Queue(QUEUE.email, {
      connection: { url: testRedisUrl() },
      prefix: queues.prefix,
    });
    const encryption = EncryptionService.fromSettings({
      ENCRYPTION_KEY: env.ENCRYPTION_KEY,
      HMAC_KEY: env.HMAC_KEY,
    });
    let auth: Record<string, string> = {};
    const call = async (method: string, path: string, body?: unknown): Promise<number> => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...auth },
        body:
          body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const wrongKey = 'bh-wrong-key-7a6b5c4d3e';

    try {
      const email = 'logs@example.com';
      expect(await call('POST', '/auth/send-code', { email })).toBe(200);
      const [job] = await emailQueue.getJobs(['waiting', 'prioritized', 'delayed']);
      const code = await waitingLoginCodeAt(
        database.url,
        encryption,
        (job.data as JobPayloads['login-code']).loginCodeId,
      );
      const signIn = await fetch(`http://127.0.0.1:${port}/auth/verify-code`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, code }),
      });
      auth = { authorization: `Bearer ${((await signIn.json()) as { token: string }).token}` };

      const created = await fetch(`http://127.0.0.1:${port}/esp-connections`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({
          espType: 'beehiiv',
          apiKey: KEYS.beehiiv,
          publicationId: 'pub_weekly',
        }),
      });
      expect(created.status).toBe(201);
      const id = ((await created.json()) as { id: string }).id;

      const statuses = [
        await call('POST', '/esp-connections', { espType: 'kit', apiKey: KEYS.kit }),
        await call('POST', '/esp-connections', {
          espType: 'beehiiv',
          apiKey: wrongKey,
          publicationId: 'pub_weekly',
        }),
        await call('POST', '/esp-connections', `{"espType":"kit","apiKey":"${KEYS.kitOther}"`),
        await call('POST', '/esp-connections', {
          espType: 'kit',
          apiKey: KEYS.kitOther,
          note: KEYS.mailchimp,
        }),
        await call('GET', `/esp-connections/${id}`),
        await call('GET', `/esp-connections/${id}/lists`),
        await call('GET', `/esp-connections/${id}/subscriber-count`),
      ];
      esp.setFaults('beehiiv', 'pub_weekly', { rateLimitEvery: 1, retryAfterSeconds: 60 });
      statuses.push(await call('GET', `/esp-connections/${id}/subscriber-count`));
      // That 429 said "nothing for a minute", which the request budget honours: forget it.
      await clearEspBudgets(queues.prefix);
      esp.setFaults('beehiiv', 'pub_weekly', {
        serverErrorBurst: { afterRequests: 0, count: 100, status: 502 },
      });
      statuses.push(await call('GET', `/esp-connections/${id}/subscriber-count`));
      statuses.push(await call('PATCH', `/esp-connections/${id}`, { apiKey: KEYS.beehiiv }));
      esp.setFaults('beehiiv', 'pub_weekly', undefined);
      statuses.push(
        await call('PATCH', `/esp-connections/${id}`, { apiKey: wrongKey }),
        await call('PATCH', `/esp-connections/${id}`, { apiKey: KEYS.beehiiv }),
        await call('POST', `/esp-connections/${id}/sync`),
        await call('GET', `/esp-connections/${id}/sync-history`),
        await call('DELETE', `/esp-connections/${id}`),
      );
      expect(statuses).toEqual([
        201, 400, 400, 400, 200, 200, 200, 429, 502, 502, 400, 200, 202, 200, 200,
      ]);
    } finally {
      await emailQueue.close();
      expect(await api.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }

    const output = api.output();
    const lines = api.logLines();
    expect(lines.length).toBeGreaterThan(20);
    for (const secret of [...Object.values(KEYS), wrongKey]) expect(output).not.toContain(secret);
    expect(output).not.toMatch(CIPHERTEXT);
    // What it does log: the ESP failures, by code, and the connection's life.
    expect(output).toContain('ESP credentials not accepted');
    expect(output).toContain('"kind":"rate_limited"');
    expect(output).toContain('ESP could not check the credentials');
    expect(output).toContain('retry 1/1');
    expect(output).toContain('ESP connection deleted');
    expect(output).toContain('Outbox event published');
  });
});
