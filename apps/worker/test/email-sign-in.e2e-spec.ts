import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { maskEmail, runMigrations } from '@subscribernest/shared';
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
} from '@subscribernest/testkit';

const WORKER_ENTRY = resolve(__dirname, '../dist/main.js');
const API_ENTRY = resolve(__dirname, '../../api/dist/main.js');
// Run from a directory with no .env file, so no developer setting leaks into the test.
const CWD = resolve(__dirname);

// turbo.json makes the worker's tests wait for the api's build, so the api is always there.
describe('sign-in by email, end to end (built api and worker, fake SMTP)', () => {
  beforeAll(() => {
    if (!existsSync(API_ENTRY)) throw new Error(`${API_ENTRY} is missing: build the api first`);
  });

  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let smtp: FakeSmtpServer;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let apiUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    smtp = await FakeSmtpServer.start();
    const [port, opsPort] = [await freePort(), await freePort()];
    const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
    apiUrl = `http://127.0.0.1:${port}`;
    api = await startService({
      entry: API_ENTRY,
      cwd: CWD,
      env: { ...env, PORT: String(port) },
      readyUrl: `${apiUrl}/health`,
    });
    worker = await startService({
      entry: WORKER_ENTRY,
      cwd: CWD,
      env: { ...env, OPS_PORT: String(opsPort), SMTP_URL: smtp.url },
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
  });

  afterAll(async () => {
    await worker?.stop('SIGTERM');
    await api?.stop('SIGTERM');
    await smtp?.stop();
    await database?.drop();
    await queues?.cleanup();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'e2e-browser/1.0' },
      body: JSON.stringify(body),
    });

  it('POST /auth/send-code → worker → SMTP; the emailed code signs in, then a notification follows', async () => {
    const email = 'Signin.Person@Example.com';
    const address = email.toLowerCase();
    expect((await post('/auth/send-code', { email })).status).toBe(200);

    const message = await smtp.waitForMessage(
      (m) => m.to.includes(address) && m.subject.includes('sign-in code'),
    );
    const code = /sign-in code is: (\d{6})/.exec(message.text)?.[1];
    expect(code).toMatch(/^\d{6}$/);
    expect(message.html).toContain(`>${code}</p>`);

    const signedIn = await post('/auth/verify-code', { email, code });
    expect(signedIn.status).toBe(200);
    expect(((await signedIn.json()) as { token?: unknown }).token).toEqual(expect.any(String));

    const notification = await smtp.waitForMessage(
      (m) => m.to.includes(address) && m.subject === 'New sign-in to your SubscriberNest account',
    );
    expect(notification.text).toContain('Device: e2e-browser/1.0');
    expect(notification.text).toContain('Not you?');

    const logs = worker.output();
    expect(logs).toContain(maskEmail(address));
    expect(logs).not.toContain(address);
    // Not as a number on its own (a timestamp may hold the same six digits inside it).
    expect(logs).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
  });
});
