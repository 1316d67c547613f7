import { resolve } from 'node:path';
import { EncryptionService, JobPayloads, QUEUE, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { waitingLoginCodeAt } from './support/login-code-row';

const ENTRY = resolve(__dirname, '../dist/main.js');
const CWD = resolve(__dirname);

/**
 * The built api as a process, at the most verbose log level, through a whole sign-in: what it
 * writes must be JSON lines that never contain the code, the token or the address.
 */
describe('auth logs (api process)', () => {
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

  it('never logs a code, a token or an unmasked address', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      extra: { PORT: String(port), LOG_LEVEL: 'trace' },
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
    const url = (path: string) => `http://127.0.0.1:${port}${path}`;
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(url(path), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });

    const email = 'Secret.Person@Example.com';
    let code = '';
    let token = '';
    try {
      expect((await post('/auth/send-code', JSON.stringify({ email }))).status).toBe(200);
      const [job] = await emailQueue.getJobs(['waiting', 'prioritized', 'delayed']);
      code = await waitingLoginCodeAt(
        database.url,
        encryption,
        (job.data as JobPayloads['login-code']).loginCodeId,
      );

      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      expect((await post('/auth/verify-code', JSON.stringify({ email, code: wrong }))).status).toBe(
        401,
      );
      const signedIn = await post('/auth/verify-code', JSON.stringify({ email, code }), {
        'user-agent': 'log-test',
      });
      expect(signedIn.status).toBe(200);
      token = ((await signedIn.json()) as { token: string }).token;

      const auth = { authorization: `Bearer ${token}` };
      expect((await fetch(url('/auth/me'), { headers: auth })).status).toBe(200);
      // Malformed and invalid bodies that carry the secrets must not bring them into the logs.
      expect((await post('/auth/verify-code', `{"email":"${email}","code":"${code}"`)).status).toBe(
        400,
      );
      expect(
        (await post('/auth/verify-code', JSON.stringify({ email, code, extra: token }))).status,
      ).toBe(400);
      expect((await post('/auth/logout', '', auth)).status).toBe(200);
      expect((await fetch(url('/auth/me'), { headers: auth })).status).toBe(401);
    } finally {
      await emailQueue.close();
      expect(await api.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }

    const output = api.output();
    const lines = api.logLines();
    expect(lines.length).toBeGreaterThan(10);

    const lower = output.toLowerCase();
    expect(lower).not.toContain(email.toLowerCase());
    expect(lower).not.toContain('secret.person');
    expect(output).not.toContain(token);
    expect(output).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
    // What it does log: the masked address, and a request id on each request's line.
    expect(output).toContain('s***@e***.com');
    const requests = lines.filter((line) => line.req && line.res);
    expect(requests.length).toBeGreaterThanOrEqual(7);
    expect(requests.every((line) => typeof (line.req as { id?: unknown }).id === 'string')).toBe(
      true,
    );
  });
});
