import { testRedisUrl } from '@subscribernest/testkit';
import Redis from 'ioredis';
import { DEFAULT_AUTH_POLICY } from '../src/auth/auth-policy';
import { startTestApi, TestApi } from './support/test-api';

/**
 * Two replicas of the api (two Nest apps on one database, one Redis and one QUEUE_PREFIX), as
 * behind a load balancer: the auth limits are counted once for both, not once per replica.
 * TRUST_PROXY=1 lets each test act as a client of its own (X-Forwarded-For).
 */
describe('auth limits across two api replicas (real apps, shared Redis)', () => {
  const perIp = DEFAULT_AUTH_POLICY.requestsPerIp;
  const perEmail = DEFAULT_AUTH_POLICY.codesPerEmail;
  let a: TestApi;
  let b: TestApi;
  let redis: Redis;

  beforeAll(async () => {
    a = await startTestApi({ env: { TRUST_PROXY: '1' } });
    b = await startTestApi({ replicaOf: a });
    redis = new Redis(testRedisUrl());
  });

  afterAll(async () => {
    redis?.disconnect();
    await b?.close();
    await a?.close();
  });

  /** Replica a for even requests, b for odd ones. */
  const replica = (i: number) => (i % 2 === 0 ? a : b);
  const sendCode = (i: number, email: string, clientIp: string) =>
    replica(i).http().post('/auth/send-code').set('x-forwarded-for', clientIp).send({ email });

  it('refuses the request after the per-IP limit counted on both replicas, with Retry-After', async () => {
    const ip = '203.0.113.10';
    for (let i = 0; i < perIp.limit; i++) {
      await sendCode(i, `replicas-ip-${i}@example.com`, ip).expect(200);
    }
    // Each replica alone has seen only half the limit: only a shared count refuses these.
    for (const api of [a, b]) {
      const limited = await api
        .http()
        .post('/auth/send-code')
        .set('x-forwarded-for', ip)
        .send({ email: 'replicas-ip-one-more@example.com' })
        .expect(429);
      expect(limited.body.message).toBe('Too many requests from this address; try again later');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(perIp.windowMs / 1000);
    }
    // The counters are in Redis, under the deployment's prefix.
    const keys = await redis.keys(`${a.env.QUEUE_PREFIX}:throttler:*`);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('refuses a code after the per-address limit counted on both replicas, with Retry-After', async () => {
    const email = 'replicas-email@example.com';
    for (let i = 0; i < perEmail.limit; i++) {
      // A fresh client address each time: only the per-address limit can refuse.
      await sendCode(i, email, `198.51.100.${i + 1}`).expect(200);
    }
    for (const [i, api] of [a, b].entries()) {
      const limited = await api
        .http()
        .post('/auth/send-code')
        .set('x-forwarded-for', `198.51.100.${100 + i}`)
        .send({ email })
        .expect(429);
      expect(limited.body.message).toBe(
        'Too many sign-in codes were requested for this address; try again later',
      );
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(perEmail.windowMs / 1000);
    }
    const [{ count }] = await a.dataSource.query(
      'SELECT count(*)::int AS count FROM login_codes WHERE email = $1',
      [email],
    );
    expect(count).toBe(perEmail.limit);
  });

  it('keeps the counts of one deployment (QUEUE_PREFIX) away from another on the same Redis', async () => {
    const other = await startTestApi({ env: { TRUST_PROXY: '1' } });
    try {
      // 203.0.113.10 is blocked on a and b (first test), not on a deployment with its own prefix.
      await other
        .http()
        .post('/auth/send-code')
        .set('x-forwarded-for', '203.0.113.10')
        .send({ email: 'other-deployment@example.com' })
        .expect(200);
    } finally {
      await other.close();
    }
  });
});
