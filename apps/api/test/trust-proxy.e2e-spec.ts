import { JobPayloads } from '@subscribernest/shared';
import { Job } from 'bullmq';
import { latestLoginCode, startTestApi, TestApi } from './support/test-api';

const LIMIT = 3;
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const UPSTREAM = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const TRACERESPONSE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

/** GET /health with `traceparent` (when given): the trace context the api answered with. */
async function traced(api: TestApi, traceparent?: string) {
  const req = api.http().get('/health');
  if (traceparent !== undefined) req.set('traceparent', traceparent);
  const response = await req.expect(200);
  const match = TRACERESPONSE.exec(String(response.headers['traceresponse']));
  expect(match).not.toBeNull();
  const [, traceId, spanId, flags] = match!;
  return { traceId, spanId, flags };
}

/** verify-code with a wrong code, as the client behind `forwardedFor` (when given). */
const guess = (api: TestApi, forwardedFor?: string) => {
  const req = api.http().post('/auth/verify-code');
  if (forwardedFor) req.set('x-forwarded-for', forwardedFor);
  return req.send({ email: 'guesser@example.com', code: '123456' });
};

/**
 * Signs in through the routes from behind `forwardedFor`: the IP the session records, which is the
 * one the sign-in notice shows (its job names the session; the worker reads the IP there).
 */
async function signInNoticeIp(api: TestApi, email: string, forwardedFor: string) {
  await api
    .http()
    .post('/auth/send-code')
    .set('x-forwarded-for', forwardedFor)
    .send({ email })
    .expect(200);
  const { code } = await latestLoginCode(api, email);
  const signedIn = await api
    .http()
    .post('/auth/verify-code')
    .set('x-forwarded-for', forwardedFor)
    .send({ email, code })
    .expect(200);
  const [session] = await api.dataSource.query<{ id: string; ip: string | null }[]>(
    'SELECT s.id, s.ip FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.id = $1',
    [signedIn.body.user.id],
  );
  const notice = (await api.emailQueue.getJob(session.id)) as
    Job<JobPayloads['sign-in-notification']> | undefined;
  return { sessionIp: session.ip, noticeSessionId: notice?.data.sessionId, sessionId: session.id };
}

describe('TRUST_PROXY (real app)', () => {
  describe('unset (the default): X-Forwarded-For is ignored', () => {
    let api: TestApi;

    beforeAll(async () => {
      api = await startTestApi({
        authPolicy: { requestsPerIp: { limit: LIMIT, windowMs: 60_000 } },
      });
    });

    afterAll(async () => {
      await api?.close();
    });

    it('records the connecting address, not the forwarded one, for the sign-in', async () => {
      const { sessionIp, noticeSessionId, sessionId } = await signInNoticeIp(
        api,
        'direct@example.com',
        '203.0.113.50',
      );
      expect(sessionIp).toMatch(/127\.0\.0\.1$|^::1$/);
      expect(noticeSessionId).toBe(sessionId);
    });

    it('does not let a client escape the per-IP limit by forging X-Forwarded-For', async () => {
      // The sign-in above spent one verify-code request of this client's budget.
      for (let i = 1; i < LIMIT; i++) await guess(api, `203.0.113.${i}`).expect(401);
      const limited = await guess(api, '203.0.113.99').expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      await guess(api).expect(429);
    });

    it('starts a trace of its own for every request, whatever traceparent a client sends', async () => {
      const mine = await traced(api, UPSTREAM);
      expect(mine.traceId).not.toBe(TRACE_ID);
      expect(mine.flags).toBe('00');
      expect((await traced(api)).traceId).not.toBe(mine.traceId);
    });
  });

  describe('TRUST_PROXY=1 (one load balancer): the client is the last X-Forwarded-For entry', () => {
    let api: TestApi;

    beforeAll(async () => {
      api = await startTestApi({
        env: { TRUST_PROXY: '1' },
        authPolicy: { requestsPerIp: { limit: LIMIT, windowMs: 60_000 } },
      });
    });

    afterAll(async () => {
      await api?.close();
    });

    it('keys the per-IP limit by the forwarded client address', async () => {
      for (let i = 0; i < LIMIT; i++) await guess(api, '203.0.113.1').expect(401);
      const limited = await guess(api, '203.0.113.1').expect(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Another client behind the same load balancer is not held back.
      await guess(api, '203.0.113.2').expect(401);
      // Only the hop the load balancer appended counts: an address the client put first does not.
      await guess(api, '198.51.100.7, 203.0.113.1').expect(429);
      await guess(api, '203.0.113.1, 203.0.113.3').expect(401);
    });

    it('records the forwarded client address for the sign-in and its notification', async () => {
      const { sessionIp, noticeSessionId, sessionId } = await signInNoticeIp(
        api,
        'behind-lb@example.com',
        '198.51.100.23',
      );
      expect(sessionIp).toBe('198.51.100.23');
      expect(noticeSessionId).toBe(sessionId);
    });

    it("continues the proxy's trace (a new span of it, its sampled flag kept)", async () => {
      const continued = await traced(api, UPSTREAM);
      expect(continued).toMatchObject({ traceId: TRACE_ID, flags: '01' });
      expect(continued.spanId).not.toBe('00f067aa0ba902b7');
    });

    it.each([
      ['garbage', 'not-a-traceparent'],
      ['upper-case hex', UPSTREAM.toUpperCase()],
      ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
      ['version ff', UPSTREAM.replace(/^00/, 'ff')],
      ['8 KB', `01-${TRACE_ID}-00f067aa0ba902b7-01-${'x'.repeat(8_000)}`],
      ['empty', ''],
    ])(
      'ignores a malformed traceparent (%s): a new trace, never an error',
      async (_why, header) => {
        const fresh = await traced(api, header);
        expect(fresh.traceId).not.toBe(TRACE_ID);
        expect(fresh.flags).toBe('00');
      },
    );
  });
});
