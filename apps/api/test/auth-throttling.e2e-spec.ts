import { DEFAULT_AUTH_POLICY } from '../src/auth/auth-policy';
import { startTestApi, TestApi } from './support/test-api';

/** The production per-IP limits, on an app of its own (every request here comes from one IP). */
describe('auth per-IP throttling (real app)', () => {
  const { limit } = DEFAULT_AUTH_POLICY.requestsPerIp;
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });

  afterAll(async () => {
    await api?.close();
  });

  it('answers 429 with Retry-After once one IP asks for too many codes, whatever the address', async () => {
    for (let i = 0; i < limit; i++) {
      await api
        .http()
        .post('/auth/send-code')
        .send({ email: `ip-limit-${i}@example.com` })
        .expect(200);
    }
    const limited = await api
      .http()
      .post('/auth/send-code')
      .send({ email: 'one-more@example.com' })
      .expect(429);
    expect(limited.body).toEqual({
      statusCode: 429,
      message: 'Too many requests from this address; try again later',
      error: 'Too Many Requests',
    });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(DEFAULT_AUTH_POLICY.requestsPerIp.windowMs / 1000);
    // Nothing was issued for the refused request.
    const [{ count }] = await api.dataSource.query(
      `SELECT count(*)::int AS count FROM login_codes WHERE email = 'one-more@example.com'`,
    );
    expect(count).toBe(0);
  });

  it('limits code guesses per IP separately from sending', async () => {
    for (let i = 0; i < limit; i++) {
      await api
        .http()
        .post('/auth/verify-code')
        .send({ email: `guess-${i}@example.com`, code: '123456' })
        .expect(401);
    }
    const limited = await api
      .http()
      .post('/auth/verify-code')
      .send({ email: 'guess@example.com', code: '123456' })
      .expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('does not throttle authenticated routes or health checks', async () => {
    for (let i = 0; i < limit + 5; i++) {
      await api.http().get('/auth/me').expect(401);
      await api.http().get('/health').expect(200);
    }
  });
});
