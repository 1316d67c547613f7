import { freePort, testRedisUrl, waitFor } from '@subscribernest/testkit';
import { LoginCodeService } from '../src/auth/login-code.service';
import { latestLoginCode, startTestApi, TestApi } from './support/test-api';
import { waitingLoginCode } from './support/login-code-row';
import { TcpProxy } from './support/tcp-proxy';

/**
 * The app's Redis sits behind a proxy the test switches on and off: the api starts with Redis
 * down, keeps serving, answers honestly, and recovers once Redis is back.
 */
describe('auth with Redis unavailable (real app)', () => {
  let api: TestApi;
  let redis: TcpProxy;

  beforeAll(async () => {
    const real = new URL(testRedisUrl());
    redis = new TcpProxy(await freePort(), {
      host: real.hostname,
      port: Number(real.port || 6379),
    });
    api = await startTestApi({
      redisUrl: `redis://127.0.0.1:${redis.port}${real.pathname}`,
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
  });

  afterAll(async () => {
    await api?.close();
    await redis?.stop();
    // ioredis keeps a 2 s safety timer after disconnecting a client that was reconnecting; let it
    // run out so jest exits promptly.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  const codeRows = async (email: string): Promise<number> => {
    const [{ count }] = await api.dataSource.query(
      'SELECT count(*)::int AS count FROM login_codes WHERE email = $1',
      [email],
    );
    return count as number;
  };

  it('answers send-code with 503 and keeps no code that was never sent', async () => {
    const email = 'no-redis@example.com';
    const response = await api.http().post('/auth/send-code').send({ email }).expect(503);
    expect(response.body).toEqual({
      statusCode: 503,
      message: 'Sign-in emails cannot be sent right now; please try again in a minute',
      error: 'Service Unavailable',
    });
    expect(await codeRows(email)).toBe(0);
  });

  it('still signs in with a valid code: the sign-in notice is skipped, not the sign-in', async () => {
    const email = 'already-has-a-code@example.com';
    const issued = await api.app.get(LoginCodeService).issue(email, null);
    const code = await waitingLoginCode(api.dataSource, api.encryption, issued.id);
    const response = await api.http().post('/auth/verify-code').send({ email, code }).expect(200);
    await api
      .http()
      .get('/auth/me')
      .set('authorization', `Bearer ${response.body.token}`)
      .expect(200);
  });

  it('sends codes again once Redis is back', async () => {
    await redis.start();
    const email = 'redis-is-back@example.com';
    await waitFor(
      async () => (await api.http().post('/auth/send-code').send({ email })).status === 200,
      { timeoutMs: 45_000, intervalMs: 500, description: 'send-code to succeed again' },
    );
    const { job, code } = await latestLoginCode(api, email);
    expect(code).toMatch(/^\d{6}$/);
    expect(job.data).toEqual({ loginCodeId: job.id });
    // Only the code whose email was queued is kept.
    expect(await codeRows(email)).toBe(1);
  });

  it('answers 503 again when Redis goes away after having been up', async () => {
    await redis.stop();
    const email = 'redis-went-away@example.com';
    const started = Date.now();
    await api.http().post('/auth/send-code').send({ email }).expect(503);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await codeRows(email)).toBe(0);
  });
});
