import { freePort, testRedisUrl, waitFor } from '@subscribernest/testkit';
import Redis from 'ioredis';
import { startTestApi, TestApi } from './support/test-api';
import { TcpProxy } from './support/tcp-proxy';

const LIMIT = 3;
/** Far below a hang: a throttle check gives up on Redis within half a second. */
const ANSWER_WITHIN_MS = 2_000;

/**
 * The per-IP auth limit when its Redis is down: it fails open onto the replica's own memory (the
 * limit still holds per replica; nobody gets a 500 or a hung sign-in), and counts in Redis again
 * once Redis is back.
 */
describe('auth per-IP throttling with Redis unavailable (real app)', () => {
  let api: TestApi;
  let proxy: TcpProxy;
  let redis: Redis;

  /** A wrong code from the test's one IP, answered within ANSWER_WITHIN_MS. */
  const guess = async (expected?: number) => {
    const started = Date.now();
    const response = await api
      .http()
      .post('/auth/verify-code')
      .send({ email: 'guesser@example.com', code: '123456' });
    expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
    if (expected !== undefined) expect(response.status).toBe(expected);
    return response;
  };
  const throttlerKeys = () => redis.keys(`${api.env.QUEUE_PREFIX}:throttler:*`);

  beforeAll(async () => {
    // Read before the app's env (REDIS_URL = the proxy) lands in process.env.
    const realUrl = testRedisUrl();
    const real = new URL(realUrl);
    redis = new Redis(realUrl);
    proxy = new TcpProxy(await freePort(), {
      host: real.hostname,
      port: Number(real.port || 6379),
    });
    api = await startTestApi({
      redisUrl: `redis://127.0.0.1:${proxy.port}${real.pathname}`,
      authPolicy: { requestsPerIp: { limit: LIMIT, windowMs: 60_000 } },
    });
  });

  afterAll(async () => {
    await api?.close();
    await proxy?.stop();
    redis?.disconnect();
    // ioredis keeps a 2 s safety timer after disconnecting a client that was reconnecting.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  it("still limits per IP, in the replica's memory, and answers at once", async () => {
    for (let i = 0; i < LIMIT; i++) await guess(401);
    const limited = await guess(429);
    expect(limited.body.message).toBe('Too many requests from this address; try again later');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(await throttlerKeys()).toEqual([]);
  });

  it('counts in Redis again once Redis is back', async () => {
    await proxy.start();
    await waitFor(
      async () => {
        await guess();
        return (await throttlerKeys()).length > 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'throttle counters in Redis' },
    );
  });

  it('falls back again when Redis goes away after having been up', async () => {
    await proxy.stop();
    // Counted in memory again (where this IP is still blocked): refused, neither 500 nor a hang.
    const limited = await guess(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});
