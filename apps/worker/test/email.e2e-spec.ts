import { randomInt, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  DEFAULT_JOB_OPTIONS,
  EncryptionService,
  JOB,
  JobPayloads,
  JobRun,
  maskEmail,
  QUEUE,
  runMigrations,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeSmtpServer,
  freePort,
  serviceEnv,
  ServiceProcess,
  startService,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
  waitFor,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import {
  insertLoginCode,
  insertSignIn,
  LoginCodeRow,
  loginCodeCiphertext,
} from './support/email-rows';

const ENTRY = resolve(__dirname, '../dist/main.js');
// Run from a directory with no .env file, so no developer setting leaks into the test.
const CWD = resolve(__dirname);

type LogLine = Record<string, unknown> & { msg?: string; level?: number };

const logLines = (worker: ServiceProcess): LogLine[] =>
  worker
    .output()
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');
const newAddress = () => `jane.${randomUUID().slice(0, 8)}@example.com`;

describe('email queue → worker → SMTP (built worker, real Redis and Postgres, fake SMTP)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let smtp: FakeSmtpServer;
  let worker: ServiceProcess;
  let env: Record<string, string>;
  let encryption: EncryptionService;
  let email: Queue;
  let dataSource: DataSource;
  /** Every plaintext address and code the tests sent: none may appear in the worker's logs. */
  const secrets: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    smtp = await FakeSmtpServer.start();
    const opsPort = await freePort();
    env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      extra: { OPS_PORT: String(opsPort), SMTP_URL: smtp.url },
    });
    // The same keys as the worker: what the api does when it enqueues.
    encryption = EncryptionService.fromSettings(
      env as { ENCRYPTION_KEY: string; HMAC_KEY: string },
    );
    email = new Queue(QUEUE.email, {
      connection: { url: testRedisUrl() },
      prefix: queues.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[QUEUE.email],
    });
    dataSource = new DataSource({ type: 'postgres', url: database.url, entities: [JobRun] });
    await dataSource.initialize();
    worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env,
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
  });

  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await email?.close();
    await dataSource?.destroy();
    await smtp?.stop();
    await database?.drop();
    await queues?.cleanup();
  });

  /** A code as the api leaves it (row with the encrypted code) and the job it queues: ids only. */
  const loginCodeJob = async (address: string, code: string, row: Partial<LoginCodeRow> = {}) => {
    secrets.push(address, code);
    const loginCodeId = await insertLoginCode(dataSource, encryption, {
      email: address,
      code,
      ...row,
    });
    const payload: JobPayloads[typeof JOB.loginCode] = { loginCodeId };
    return payload;
  };

  const runOf = (jobId: string, status: JobRun['status']) =>
    waitFor(
      async () => {
        const row = await dataSource.getRepository(JobRun).findOneBy({ queue: QUEUE.email, jobId });
        return row?.status === status ? row : undefined;
      },
      { description: `email job ${jobId} to be ${status}` },
    );

  it('delivers a login code to the right address with the code, validity and an ignore line', async () => {
    const address = newAddress();
    const code = newCode();
    const payload = await loginCodeJob(address, code);
    // As the api adds it: job id = login code id, the queue's default options.
    await email.add(JOB.loginCode, payload, { jobId: payload.loginCodeId });

    const message = await smtp.waitForMessage((m) => m.to.includes(address));
    expect(message.to).toEqual([address]);
    expect(message.from).toBe('"SubscriberNest" <no-reply@subscribernest.local>');
    expect(message.subject).toBe('Your SubscriberNest sign-in code');
    expect(message.text).toContain(`Your SubscriberNest sign-in code is: ${code}`);
    expect(message.text).toContain('valid for 10 minutes');
    expect(message.text).toContain("If you didn't ask to sign in");
    expect(message.html).toContain(`>${code}</p>`);
    expect(message.html).toContain('valid for 10 minutes');
    expect(message.html).toContain('you can ignore this email');

    const run = await runOf(payload.loginCodeId, 'completed');
    expect(run).toMatchObject({ name: JOB.loginCode, attempts: 1, maxAttempts: 5 });
    // Mailed: the ciphertext is gone, so the same job run again (BullMQ, an operator) sends nothing.
    expect(await loginCodeCiphertext(dataSource, payload.loginCodeId)).toBeNull();
  });

  it('sends a sign-in notification with the time in UTC, IP, user agent and a "not you?" line', async () => {
    const address = newAddress();
    secrets.push(address);
    const userAgent = 'Mozilla/5.0 (X11; Linux x86_64) <Firefox>';
    const payload: JobPayloads[typeof JOB.signInNotification] = await insertSignIn(dataSource, {
      email: address,
      signedInAt: new Date('2026-11-24T09:05:03.120Z'),
      ip: '203.0.113.7',
      userAgent,
    });
    await email.add(JOB.signInNotification, payload, { jobId: payload.sessionId });

    const message = await smtp.waitForMessage((m) => m.to.includes(address));
    expect(message.subject).toBe('New sign-in to your SubscriberNest account');
    for (const part of [message.text, message.html]) {
      expect(part).toContain('2026-11-24 09:05:03 UTC');
      expect(part).toContain('203.0.113.7');
      expect(part).toContain('Not you? Log out of all sessions');
      expect(part).toContain('contact SubscriberNest support');
    }
    expect(message.text).toContain(`Device: ${userAgent}`);
    expect(message.html).toContain('Mozilla/5.0 (X11; Linux x86_64) &lt;Firefox&gt;');
    const run = await runOf(payload.sessionId, 'completed');
    expect(run.userId).toBe(payload.userId);
  });

  it('retries after transient 4xx answers and then delivers', async () => {
    const address = newAddress();
    const code = newCode();
    const payload = await loginCodeJob(address, code);
    smtp.failNext(2, 451);
    await email.add(JOB.loginCode, payload, {
      jobId: payload.loginCodeId,
      backoff: { type: 'exponential', delay: 100 },
    });

    const message = await smtp.waitForMessage((m) => m.to.includes(address));
    expect(message.text).toContain(code);
    const run = await runOf(payload.loginCodeId, 'completed');
    expect(run.attempts).toBe(3);
    expect(smtp.messages.filter((m) => m.to.includes(address))).toHaveLength(1);
  });

  it('ends dead in job_runs after the last failed attempt, with a masked error log', async () => {
    const address = newAddress();
    const payload = await loginCodeJob(address, newCode());
    smtp.failNext(3, 550);
    await email.add(JOB.loginCode, payload, {
      jobId: payload.loginCodeId,
      attempts: 3,
      backoff: { type: 'exponential', delay: 100 },
    });

    const dead = await runOf(payload.loginCodeId, 'dead');
    expect(dead).toMatchObject({ attempts: 3, maxAttempts: 3 });
    expect(dead.lastError).toContain('550');
    expect(smtp.messages.some((m) => m.to.includes(address))).toBe(false);
    // What Redis (and the queue board) keeps of the failure: a redacted reason, no stack.
    const failed = await email.getJob(payload.loginCodeId);
    expect(failed?.failedReason).toContain('550');
    expect(failed?.failedReason).not.toContain(address);
    expect(failed?.stacktrace).toEqual([]);

    const final = await waitFor(() =>
      logLines(worker).find(
        (line) =>
          line.msg === 'email not delivered: no attempts left, job is dead' &&
          line.loginCodeId === payload.loginCodeId,
      ),
    );
    expect(final).toMatchObject({ level: 50, maskedEmail: maskEmail(address), attempt: 3 });
  });

  /** The refusal the worker logged for a job, once its run completed without sending. */
  const refusalOf = async (jobId: string, address?: string) => {
    const run = await runOf(jobId, 'completed');
    if (address) expect(smtp.messages.some((m) => m.to.includes(address))).toBe(false);
    const line = await waitFor(() =>
      logLines(worker).find((l) => l.jobId === jobId && String(l.msg).startsWith('email not sent')),
    );
    return { run, line };
  };

  it.each([
    ['expired', { expiresInMs: -1_000 }, 'the login code expired before it could be sent'],
    ['consumed', { consumed: true }, 'the login code was already used'],
  ] as const)(
    'refuses a %s login code: nothing sent, the reason logged',
    async (reason, row, msg) => {
      const address = newAddress();
      const payload = await loginCodeJob(address, newCode(), row);
      await email.add(JOB.loginCode, payload, { jobId: payload.loginCodeId });
      const { run, line } = await refusalOf(payload.loginCodeId, address);
      expect(line).toMatchObject({ level: 40, reason, msg: `email not sent: ${msg}` });
      expect(run.attempts).toBe(1);
    },
  );

  it('refuses a code superseded by a newer one for the same address, and drops its ciphertext', async () => {
    const address = newAddress();
    const older = await loginCodeJob(address, newCode(), {
      createdAt: new Date(Date.now() - 60_000),
    });
    await loginCodeJob(address, newCode());
    await email.add(JOB.loginCode, older, { jobId: older.loginCodeId });
    const { line } = await refusalOf(older.loginCodeId, address);
    expect(line.reason).toBe('superseded');
    expect(await loginCodeCiphertext(dataSource, older.loginCodeId)).toBeNull();
  });

  it('refuses a job naming no login code, or a code it already sent', async () => {
    const unknown = randomUUID();
    await email.add(JOB.loginCode, { loginCodeId: unknown }, { jobId: unknown });
    expect((await refusalOf(unknown)).line.reason).toBe('missing');
    await email.add(JOB.loginCode, { loginCodeId: 'not-a-uuid' }, { jobId: 'not-a-uuid' });
    expect((await refusalOf('not-a-uuid')).line.reason).toBe('missing');

    // An operator (or a forged job) replays a sent code under a new job id: nothing goes out.
    const address = newAddress();
    const sent = await loginCodeJob(address, newCode());
    await email.add(JOB.loginCode, sent, { jobId: sent.loginCodeId });
    await smtp.waitForMessage((m) => m.to.includes(address));
    await runOf(sent.loginCodeId, 'completed');
    const replayId = `${sent.loginCodeId}-again`;
    await email.add(JOB.loginCode, sent, { jobId: replayId });
    expect((await refusalOf(replayId)).line.reason).toBe('no-code');
    expect(smtp.messages.filter((m) => m.to.includes(address))).toHaveLength(1);
  });

  it('sends to the address on the row, whatever else a forged payload carries', async () => {
    const address = newAddress();
    const attacker = 'attacker@evil.example';
    const payload = await loginCodeJob(address, newCode());
    const forged = { ...payload, email: attacker, to: attacker, emailEncrypted: attacker };
    await email.add(JOB.loginCode, forged, { jobId: payload.loginCodeId });
    const message = await smtp.waitForMessage((m) => m.to.includes(address));
    expect(message.to).toEqual([address]);
    expect(smtp.messages.some((m) => m.to.includes(attacker))).toBe(false);
  });

  it("refuses a sign-in notification whose session is gone or is not the user's", async () => {
    const address = newAddress();
    const { userId, sessionId } = await insertSignIn(dataSource, { email: address });
    const stranger = randomUUID();
    await email.add(JOB.signInNotification, { userId: stranger, sessionId }, { jobId: 'n-1' });
    expect((await refusalOf('n-1', address)).line.reason).toBe('no-session');
    await dataSource.query('DELETE FROM users WHERE id = $1', [userId]);
    await email.add(JOB.signInNotification, { userId, sessionId }, { jobId: 'n-2' });
    expect((await refusalOf('n-2', address)).line.reason).toBe('no-session');
  });

  it('never writes a plaintext address or code to its logs', () => {
    const output = worker.output();
    expect(output).toContain('email sent');
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      // A code must not appear as a number of its own (a timestamp may hold its digits inside).
      expect(output).not.toMatch(new RegExp(`(?<![\\d.])${secret.replace(/\./g, '\\.')}(?!\\d)`));
    }
  });
});

describe('email without SMTP_URL (built worker)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let outbox: string;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    outbox = mkdtempSync(join(tmpdir(), 'sn-outbox-'));
  });

  afterAll(async () => {
    await database?.drop();
    await queues?.cleanup();
    rmSync(outbox, { recursive: true, force: true });
  });

  it('in development, writes each message as an .eml file and logs its path', async () => {
    const opsPort = await freePort();
    const env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      extra: { NODE_ENV: 'development', OPS_PORT: String(opsPort), EMAIL_OUTBOX_DIR: outbox },
    });
    const encryption = EncryptionService.fromSettings(
      env as { ENCRYPTION_KEY: string; HMAC_KEY: string },
    );
    const email = new Queue(QUEUE.email, {
      connection: { url: testRedisUrl() },
      prefix: queues.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[QUEUE.email],
    });
    const db = await new DataSource({ type: 'postgres', url: database.url }).initialize();
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env,
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
    try {
      const address = newAddress();
      const code = newCode();
      const loginCodeId = await insertLoginCode(db, encryption, { email: address, code });
      await email.add(JOB.loginCode, { loginCodeId }, { jobId: loginCodeId });

      const logged = await waitFor(() =>
        logLines(worker).find(
          (line) =>
            line.msg === 'email written to the outbox folder (no SMTP_URL)' &&
            line.loginCodeId === loginCodeId,
        ),
      );
      const path = String(logged.path);
      expect(path).toBe(join(outbox, `login-code-${loginCodeId}.eml`));
      expect(existsSync(path)).toBe(true);
      const eml = readFileSync(path, 'utf8');
      expect(eml).toContain(`To: ${address}`);
      expect(eml).toContain('Subject: Your SubscriberNest sign-in code');
      expect(eml).toContain(code);
      expect(eml).toContain('\r\n');
      expect(logged.maskedEmail).toBe(maskEmail(address));
      expect(worker.output()).not.toContain(address);
      expect(worker.output()).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
    } finally {
      await worker.stop('SIGTERM');
      await email.close();
      await db.destroy();
    }
  });

  it('in production, refuses to start with one line naming SMTP_URL', async () => {
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { NODE_ENV: 'production', OPS_PORT: String(await freePort()) },
      }),
    });
    expect(await worker.exited).toEqual({ code: 1, signal: null });
    expect(worker.output()).toContain('Invalid configuration: SMTP_URL is required');
  });
});
