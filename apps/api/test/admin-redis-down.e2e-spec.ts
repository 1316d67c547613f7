import { randomUUID } from 'node:crypto';
import { JOB, QUEUE } from '@subscribernest/shared';
import { freePort } from '@subscribernest/testkit';
import { LoginCodeService } from '../src/auth/login-code.service';
import { startTestApi, TestApi } from './support/test-api';
import { waitingLoginCode } from './support/login-code-row';

/** Well under a hang, well over the bounded waits for Redis (3 s to connect). */
const ANSWER_WITHIN_MS = 8_000;

/**
 * The api pointed at a Redis that is not there (a free port, nothing listening): the admin routes
 * that need Redis answer a clear 503 quickly, never a 500 or a hung request; what only needs
 * Postgres keeps working.
 */
describe('admin routes with Redis unreachable (real app)', () => {
  let api: TestApi;
  let token: string;

  const timed = async <T>(request: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await request();
    expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);
    return result;
  };
  const asAdmin = {
    get: (path: string) => api.http().get(path).set('authorization', `Bearer ${token}`),
    post: (path: string) => api.http().post(path).set('authorization', `Bearer ${token}`),
  };
  const expect503 = (body: unknown, message: string) =>
    expect(body).toEqual({ statusCode: 503, message, error: 'Service Unavailable' });

  beforeAll(async () => {
    api = await startTestApi({ redisUrl: `redis://127.0.0.1:${await freePort()}` });
    // send-code needs Redis (the email queue): take a code straight from the service instead.
    const email = 'admin-without-redis@example.com';
    const issued = await api.app.get(LoginCodeService).issue(email, null);
    const code = await waitingLoginCode(api.dataSource, api.encryption, issued.id);
    const signedIn = await api.http().post('/auth/verify-code').send({ email, code }).expect(200);
    token = signedIn.body.token;
    await api.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [
      signedIn.body.user.id,
    ]);
  });

  afterAll(async () => {
    await api?.close();
    // ioredis keeps a 2 s safety timer after disconnecting a client that was reconnecting.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  it('lists dead jobs from Postgres: the listing does not need Redis', async () => {
    const response = await timed(() => asAdmin.get('/admin/dead-letter').expect(200));
    expect(response.body).toMatchObject({ data: [], total: 0, page: 1 });
  });

  it('answers a dead-letter retry with 503 and leaves the job dead', async () => {
    const [row] = await api.dataSource.query<{ id: string }[]>(
      `INSERT INTO job_runs (queue, name, job_id, status, attempts, max_attempts, last_error, finished_at)
       VALUES ($1, $2, $3, 'dead', 1, 1, 'SMTP is down', now()) RETURNING id`,
      [QUEUE.email, JOB.signInNotification, randomUUID()],
    );
    const response = await timed(() => asAdmin.post(`/admin/dead-letter/${row.id}/retry`));
    expect(response.status).toBe(503);
    expect503(response.body, 'The job queue (Redis) is unavailable; try again later');
    const [after] = await api.dataSource.query<{ status: string }[]>(
      'SELECT status FROM job_runs WHERE id = $1',
      [row.id],
    );
    expect(after.status).toBe('dead');
    const listed = await asAdmin.get('/admin/dead-letter').expect(200);
    expect(listed.body.total).toBe(1);
  });

  it('answers a manual cron run with 503', async () => {
    const response = await timed(() => asAdmin.post('/admin/schedulers/midnight-sync/run'));
    expect(response.status).toBe(503);
    expect503(response.body, 'The job queue (Redis) is unavailable; try again later');
  });

  it.each(['/admin/queues', '/admin/queues/api/queues'])(
    'answers Bull Board (%s) with 503',
    async (path) => {
      const response = await timed(() => asAdmin.get(path));
      expect(response.status).toBe(503);
      expect503(
        response.body,
        'Bull Board needs the job queue (Redis), which is unavailable; try again later',
      );
    },
  );

  it('still answers 401 before anything about Redis on Bull Board', async () => {
    await timed(() => api.http().get('/admin/queues').expect(401));
  });
});
