import { randomUUID } from 'node:crypto';
import { JOB, QUEUE, QUEUE_NAMES } from '@subscribernest/shared';
import { testRedisUrl } from '@subscribernest/testkit';
import { appRoutes } from '@bull-board/api/dist/routes';
import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue, Worker } from 'bullmq';
import { signIn, SignedIn, startTestApi, TestApi } from './support/test-api';

interface DeadLetterPage {
  data: { id: string; jobId: string; status: string; userId: string | null }[];
  total: number;
  page: number;
  limit: number;
  totalPages: number;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('admin routes (real app, Postgres, Redis)', () => {
  let api: TestApi;
  let admin: SignedIn;
  let user: SignedIn;
  let emailQueue: Queue;
  let ticksQueue: Queue;

  const sql = <T>(query: string, parameters: unknown[] = []) =>
    api.dataSource.query<T>(query, parameters);
  const as = (token: string) => ({
    get: (path: string) => api.http().get(path).set('authorization', `Bearer ${token}`),
    post: (path: string) => api.http().post(path).set('authorization', `Bearer ${token}`),
  });
  const connection = () => ({ url: testRedisUrl() });

  /** An email job that failed its only attempt, as a worker with our prefix leaves it. */
  const failedJob = async (): Promise<Job> => {
    const job = await emailQueue.add(
      JOB.signInNotification,
      { userId: user.user.id, sessionId: randomUUID() },
      { jobId: randomUUID(), attempts: 1 },
    );
    const worker = new Worker(QUEUE.email, () => Promise.reject(new Error('SMTP is down')), {
      connection: { ...connection(), maxRetriesPerRequest: null },
      prefix: api.env.QUEUE_PREFIX,
    });
    try {
      await until(async () => (await job.getState()) === 'failed', 'the job to fail');
    } finally {
      await worker.close();
    }
    return job;
  };
  const insertDead = async (jobId: string, diedSecondsAgo = 0): Promise<string> => {
    const [row] = await sql<{ id: string }[]>(
      `INSERT INTO job_runs (queue, name, job_id, user_id, status, attempts, max_attempts, last_error, finished_at, updated_at)
       VALUES ($1, $2, $3, $4, 'dead', 1, 1, 'SMTP is down', now(), now() - make_interval(secs => $5))
       RETURNING id`,
      [QUEUE.email, JOB.signInNotification, jobId, user.user.id, diedSecondsAgo],
    );
    return row.id;
  };

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
    admin = await signIn(api, 'root@example.com');
    user = await signIn(api, 'user@example.com');
    await sql(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.user.id]);
    emailQueue = new Queue(QUEUE.email, {
      connection: connection(),
      prefix: api.env.QUEUE_PREFIX,
    });
    ticksQueue = new Queue(QUEUE.schedulerTicks, {
      connection: connection(),
      prefix: api.env.QUEUE_PREFIX,
    });
  });

  afterAll(async () => {
    await emailQueue?.close();
    await ticksQueue?.close();
    await api?.close();
  });

  describe('access', () => {
    const routes: ['get' | 'post', string][] = [
      ['get', '/admin/dead-letter'],
      ['post', `/admin/dead-letter/${randomUUID()}/retry`],
      ['post', '/admin/schedulers/midnight-sync/run'],
      ['get', '/admin/cron-runs'],
      ['post', `/admin/cron-runs/${randomUUID()}/rerun`],
      ['post', '/admin/queues/session'],
      ['get', '/admin/actions'],
      ['get', '/admin/queues'],
      ['get', '/admin/queues/api/queues'],
    ];

    it('answers 401 without a session and 403 to a non-admin', async () => {
      for (const [method, path] of routes) {
        const anonymous = await api.http()[method](path);
        expect({ path, status: anonymous.status }).toEqual({ path, status: 401 });
        expect(anonymous.headers['www-authenticate']).toBe('Bearer');
        const denied = await as(user.token)[method](path);
        expect({ path, status: denied.status }).toEqual({ path, status: 403 });
        expect(denied.body.error).toBe('Forbidden');
      }
      expect(await ticksQueue.getJobCounts()).toEqual(
        expect.objectContaining({ waiting: 0, delayed: 0 }),
      );
    });
  });

  describe('GET /admin/dead-letter', () => {
    const ids: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 25; i++) ids.push(await insertDead(randomUUID(), i));
      // Not dead: never listed.
      await sql(
        `INSERT INTO job_runs (queue, name, job_id, status) VALUES ('email', 'login-code', $1, 'failed')`,
        [randomUUID()],
      );
    });

    afterAll(async () => {
      await sql(`DELETE FROM job_runs`);
    });

    it('pages dead jobs, newest first', async () => {
      const first = (await as(admin.token).get('/admin/dead-letter?page=1&limit=10').expect(200))
        .body as DeadLetterPage;
      expect(first).toMatchObject({ total: 25, page: 1, limit: 10, totalPages: 3 });
      expect(first.data.map((row) => row.id)).toEqual(ids.slice(0, 10));
      expect(first.data[0]).toMatchObject({ status: 'dead', userId: user.user.id });

      const last = (await as(admin.token).get('/admin/dead-letter?page=3&limit=10').expect(200))
        .body as DeadLetterPage;
      expect(last.data.map((row) => row.id)).toEqual(ids.slice(20));

      const beyond = (await as(admin.token).get('/admin/dead-letter?page=9&limit=10').expect(200))
        .body as DeadLetterPage;
      expect(beyond).toMatchObject({ data: [], total: 25, totalPages: 3 });

      const defaults = (await as(admin.token).get('/admin/dead-letter').expect(200))
        .body as DeadLetterPage;
      expect(defaults).toMatchObject({ page: 1, limit: 20 });
      expect(defaults.data).toHaveLength(20);
    });

    it('answers 400 for a bad page or limit', async () => {
      for (const query of ['page=0', 'limit=0', 'limit=101', 'page=x', 'sort=id']) {
        await as(admin.token).get(`/admin/dead-letter?${query}`).expect(400);
      }
    });
  });

  describe('POST /admin/dead-letter/:id/retry', () => {
    it('retries a dead job BullMQ still keeps, with fresh attempts, and marks it queued', async () => {
      const job = await failedJob();
      const id = await insertDead(job.id!);

      const response = await as(admin.token).post(`/admin/dead-letter/${id}/retry`).expect(202);
      expect(response.body).toMatchObject({
        success: true,
        job: { id, jobId: job.id, status: 'queued', attempts: 0, lastError: 'SMTP is down' },
      });
      const retried = await emailQueue.getJob(job.id!);
      expect(await retried!.getState()).toBe('waiting');
      expect(retried!.attemptsMade).toBe(0);
      expect(retried!.data).toEqual({ userId: user.user.id, sessionId: expect.any(String) });

      const again = await as(admin.token).post(`/admin/dead-letter/${id}/retry`).expect(409);
      expect(again.body.message).toBe('Only dead jobs can be retried; this one is queued');
    });

    it('answers 409 when Redis no longer has the job, leaving it dead', async () => {
      const id = await insertDead(randomUUID());
      const response = await as(admin.token).post(`/admin/dead-letter/${id}/retry`).expect(409);
      expect(response.body.message).toMatch(/no longer in Redis.*cannot be retried/);
      const [row] = await sql<{ status: string }[]>('SELECT status FROM job_runs WHERE id = $1', [
        id,
      ]);
      expect(row.status).toBe('dead');
    });

    it('answers 409 when the job in Redis is not failed, leaving it dead', async () => {
      const job = await emailQueue.add(
        JOB.signInNotification,
        { userId: user.user.id, sessionId: randomUUID() },
        { jobId: randomUUID() },
      );
      const id = await insertDead(job.id!);
      const response = await as(admin.token).post(`/admin/dead-letter/${id}/retry`).expect(409);
      expect(response.body.message).toBe(
        'This job is "waiting" in Redis, not failed, so it cannot be retried',
      );
      const [row] = await sql<{ status: string }[]>('SELECT status FROM job_runs WHERE id = $1', [
        id,
      ]);
      expect(row.status).toBe('dead');
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      await as(admin.token).post(`/admin/dead-letter/${randomUUID()}/retry`).expect(404);
      await as(admin.token).post('/admin/dead-letter/not-a-uuid/retry').expect(400);
    });
  });

  describe('POST /admin/schedulers/:name/run', () => {
    it('answers 400 for names that are not manual crons', async () => {
      for (const name of ['nope', 'outbox-sweep', 'MIDNIGHT-SYNC', 'monthly billing']) {
        const response = await as(admin.token).post(`/admin/schedulers/${name}/run`).expect(400);
        expect(response.body.message).toBe(
          `Unknown scheduler "${name}"; one of: midnight-sync, data-retention, account-deletion, monthly-billing`,
        );
      }
      expect(await ticksQueue.count()).toBe(0);
    });

    it('enqueues one run-cron job per cron per minute: a double click is harmless', async () => {
      let ids: string[] = [];
      // Two clicks can straddle a minute boundary; then the pair is tried once more.
      for (let attempt = 0; attempt < 2; attempt++) {
        ids = [];
        for (let click = 0; click < 2; click++) {
          const response = await as(admin.token)
            .post('/admin/schedulers/midnight-sync/run')
            .expect(202);
          ids.push((response.body as { jobId: string }).jobId);
        }
        if (ids[0] === ids[1]) break;
      }
      expect(ids[0]).toBe(ids[1]);
      expect(ids[0]).toMatch(/^run-cron:midnight-sync:\d{12}$/);
      const job = await ticksQueue.getJob(ids[0]);
      expect(job?.name).toBe('run-cron');
      expect(job?.data).toEqual({
        name: 'midnight-sync',
        requestedBy: admin.user.id,
        requestedAt: expect.any(String),
      });
      expect(job?.opts.attempts).toBe(1);
    });
  });

  describe('GET /admin/cron-runs and POST /admin/cron-runs/:id/rerun', () => {
    const tick = (day: number) => new Date(Date.UTC(2030, 0, day)).toISOString();
    const insertTick = async (
      day: number,
      status: 'running' | 'completed' | 'failed',
      { name = 'midnight-sync', lease = null as string | null, attempts = 1 } = {},
    ): Promise<string> => {
      const [row] = await sql<{ id: string }[]>(
        `INSERT INTO cron_runs (name, tick, trigger, status, claimed_by, started_at, attempts,
                                lease_token, lease_expires_at, error)
         VALUES ($1, $2, 'schedule', $3::varchar, 'worker-1:42', now(), $4, gen_random_uuid(), $5::timestamptz,
                 CASE WHEN $3::varchar = 'failed' THEN 'Error: Redis unavailable' END)
         RETURNING id`,
        [name, tick(day), status, attempts, lease],
      );
      return row.id;
    };

    afterEach(async () => {
      await sql(`DELETE FROM cron_runs`);
      await ticksQueue.obliterate({ force: true });
    });

    it('pages ticks newest first, filtered by name and status, without lease tokens', async () => {
      for (let day = 1; day <= 5; day++) await insertTick(day, day % 2 ? 'completed' : 'failed');
      await insertTick(6, 'failed', { name: 'monthly-billing' });

      const first = await as(admin.token).get('/admin/cron-runs?limit=2').expect(200);
      expect(first.body).toMatchObject({ total: 6, page: 1, limit: 2, totalPages: 3 });
      expect(first.body.data.map((run: { tick: string }) => run.tick)).toEqual([tick(6), tick(5)]);
      expect(first.body.data[0]).not.toHaveProperty('leaseToken');

      const failed = await as(admin.token)
        .get('/admin/cron-runs?name=midnight-sync&status=failed')
        .expect(200);
      expect(failed.body.total).toBe(2);
      expect(failed.body.data[0]).toMatchObject({
        name: 'midnight-sync',
        status: 'failed',
        attempts: 1,
        error: 'Error: Redis unavailable',
        claimedBy: 'worker-1:42',
      });
    });

    it('answers 400 naming the bad filter', async () => {
      const name = await as(admin.token).get('/admin/cron-runs?name=nope').expect(400);
      expect(JSON.stringify(name.body.message)).toContain('name must be one of: midnight-sync');
      const status = await as(admin.token).get('/admin/cron-runs?status=dead').expect(400);
      expect(JSON.stringify(status.body.message)).toContain('status must be one of: running');
      await as(admin.token).get('/admin/cron-runs?limit=0').expect(400);
    });

    it('queues one re-run of a failed tick per attempt count: a double click is harmless', async () => {
      const id = await insertTick(10, 'failed', { attempts: 3 });
      const responses = await Promise.all([
        as(admin.token).post(`/admin/cron-runs/${id}/rerun`).expect(202),
        as(admin.token).post(`/admin/cron-runs/${id}/rerun`).expect(202),
      ]);
      expect(responses[0].body.jobId).toBe(`rerun-cron-tick:${id}:3`);
      expect(responses[1].body.jobId).toBe(responses[0].body.jobId);
      expect(responses[0].body.cronRun).toMatchObject({ id, status: 'failed', attempts: 3 });
      expect(await ticksQueue.count()).toBe(1);
      const job = await ticksQueue.getJob(responses[0].body.jobId);
      expect(job?.name).toBe('rerun-cron-tick');
      expect(job?.data).toEqual({ cronRunId: id, requestedBy: admin.user.id });
    });

    it('re-runs a tick left running by a dead worker, not one a live worker holds', async () => {
      const dead = await insertTick(11, 'running', { lease: '2000-01-01T00:00:00Z' });
      await as(admin.token).post(`/admin/cron-runs/${dead}/rerun`).expect(202);

      const live = await insertTick(12, 'running', {
        lease: new Date(Date.now() + 60_000).toISOString(),
      });
      const held = await as(admin.token).post(`/admin/cron-runs/${live}/rerun`).expect(409);
      expect(held.body.message).toMatch(/is running on worker-1:42 \(lease until .+\)$/);
      expect(await ticksQueue.count()).toBe(1);
    });

    it('answers 409 for a completed tick or a cron no worker runs, 404/400 for bad ids', async () => {
      const done = await insertTick(13, 'completed');
      const completed = await as(admin.token).post(`/admin/cron-runs/${done}/rerun`).expect(409);
      expect(completed.body.message).toContain('POST /admin/schedulers/midnight-sync/run');
      // The outbox sweep is an interval of every worker, not a cron ticks are re-run for.
      const sweep = await insertTick(14, 'failed', { name: 'outbox-sweep' });
      const none = await as(admin.token).post(`/admin/cron-runs/${sweep}/rerun`).expect(409);
      expect(none.body.message).toBe('No worker scheduler runs "outbox-sweep" yet');
      await as(admin.token).post(`/admin/cron-runs/${randomUUID()}/rerun`).expect(404);
      await as(admin.token).post('/admin/cron-runs/nope/rerun').expect(400);
      expect(await ticksQueue.count()).toBe(0);
    });
  });

  describe('Bull Board at /admin/queues', () => {
    it('serves the UI to an admin with a bearer token, under helmet CSP', async () => {
      const page = await as(admin.token).get('/admin/queues').expect(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).toContain('<base href="/admin/queues/"');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    });

    it('shows every shared queue', async () => {
      const response = await as(admin.token).get('/admin/queues/api/queues').expect(200);
      const names = (response.body as { queues: { name: string }[] }).queues.map((q) => q.name);
      expect(names).toEqual(expect.arrayContaining(QUEUE_NAMES));
      expect(names).toContain('scheduler-ticks');
    });

    it('is read-only on every queue: every write route of the board refuses, nothing changes', async () => {
      const board = '/admin/queues/api/queues';
      const listed = await as(admin.token).get(board).expect(200);
      const queues = (listed.body as { queues: { name: string; readOnlyMode: boolean }[] }).queues;
      expect(queues.every((queue) => queue.readOnlyMode)).toBe(true);

      const job = await failedJob();
      const dataBefore = (await emailQueue.getJob(job.id!))!.data as unknown;
      const countsBefore = await emailQueue.getJobCounts();
      // Every write route this Bull Board version has, so one added by an upgrade is covered too.
      const writes = appRoutes.api.flatMap((route) =>
        (Array.isArray(route.method) ? route.method : [route.method])
          .filter((method) => method !== 'get')
          .flatMap((method) =>
            (Array.isArray(route.route) ? route.route : [route.route]).map((path) => ({
              method: method,
              path: `/admin/queues${path
                .replace(':queueName', QUEUE.email)
                .replace(':jobId', job.id!)
                .replace(':queueStatus', 'failed')
                .replace(':schedulerId', 'some-scheduler')}`,
            })),
          ),
      );
      expect(writes.length).toBeGreaterThanOrEqual(20);
      for (const { method, path } of writes) {
        const response = await api
          .http()
          [method](path)
          .set('authorization', `Bearer ${admin.token}`)
          // A valid body for each route, so the refusal is the read-only check's, not validation's.
          .send({
            name: 'login-code',
            data: { loginCodeId: randomUUID() },
            jobData: { loginCodeId: randomUUID() },
            delay: 0,
            runAt: Date.now() + 60_000,
            priority: 1,
            concurrency: 5,
            max: 1,
            duration: 1000,
            pattern: '* * * * *',
          });
        // Global pause/resume answer 200 but skip read-only queues; the rest refuse outright.
        const allowed = /\/api\/queues\/(pause|resume)$/.test(path) ? [200] : [405];
        expect({ path, status: allowed.includes(response.status) }).toEqual({ path, status: true });
      }
      expect(await emailQueue.isPaused()).toBe(false);
      expect(await emailQueue.getJobCounts()).toEqual(countsBefore);
      const after = await emailQueue.getJob(job.id!);
      expect(after!.data).toEqual(dataBefore);
      expect(await after!.getState()).toBe('failed');
    });

    it('shows jobs without stacks, with redacted reasons and id fields only', async () => {
      const jobId = randomUUID();
      await emailQueue.add(
        JOB.loginCode,
        { loginCodeId: jobId, emailEncrypted: 'v1.k1.aaaa.bbbb' },
        { jobId, attempts: 1 },
      );
      const worker = new Worker(
        QUEUE.email,
        () =>
          Promise.reject(new Error('550 5.1.1 <victim@example.com>: Recipient address rejected')),
        {
          connection: { ...connection(), maxRetriesPerRequest: null },
          prefix: api.env.QUEUE_PREFIX,
        },
      );
      try {
        await until(
          async () => (await emailQueue.getJob(jobId))?.failedReason !== undefined,
          'fail',
        );
      } finally {
        await worker.close();
      }
      const shown = await as(admin.token)
        .get(`/admin/queues/api/queues/email/${jobId}`)
        .expect(200);
      const text = JSON.stringify(shown.body);
      expect(text).not.toContain('victim@example.com');
      expect(text).not.toContain('v1.k1');
      expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules/);
      const listed = await as(admin.token)
        .get('/admin/queues/api/queues?activeQueue=email&status=failed')
        .expect(200);
      expect(JSON.stringify(listed.body)).not.toContain('victim@example.com');
      expect(JSON.stringify(listed.body)).not.toContain('v1.k1');
    });

    describe('browser session cookie', () => {
      let session: SignedIn;
      let cookie: string;

      beforeAll(async () => {
        session = await signIn(api, 'root@example.com');
        const response = await as(session.token).post('/admin/queues/session').expect(204);
        const setCookie = response.headers['set-cookie'] as unknown as string[];
        expect(setCookie).toHaveLength(1);
        expect(setCookie[0]).toMatch(
          /^sn_queue_board=[^;]+; Path=\/admin\/queues; Max-Age=900; HttpOnly; SameSite=Strict$/,
        );
        cookie = setCookie[0].split(';')[0];
        expect(cookie).not.toContain(session.token);
      });

      it('opens the board without a bearer header', async () => {
        await api.http().get('/admin/queues').set('cookie', cookie).expect(200);
        await api.http().get('/admin/queues/api/queues').set('cookie', cookie).expect(200);
      });

      it('is not a bearer token anywhere else', async () => {
        await api.http().get('/admin/dead-letter').set('cookie', cookie).expect(401);
      });

      it('rejects a tampered cookie', async () => {
        const tampered = cookie.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'));
        await api.http().get('/admin/queues').set('cookie', tampered).expect(401);
      });

      it('stops working for a user who is no longer admin, and after sign-out', async () => {
        await sql(`UPDATE users SET role = 'user' WHERE id = $1`, [admin.user.id]);
        await api.http().get('/admin/queues').set('cookie', cookie).expect(403);
        await sql(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.user.id]);
        await as(session.token).post('/auth/logout').expect(200);
        await api.http().get('/admin/queues').set('cookie', cookie).expect(401);
      });
    });
  });

  describe('GET /admin/actions: what admins did, on record', () => {
    interface ActionPage {
      data: {
        adminId: string;
        action: string;
        target: string | null;
        outcome: string;
        statusCode: number | null;
        detail: string | null;
        requestId: string | null;
        createdAt: string;
        finishedAt: string | null;
      }[];
      total: number;
    }
    const actionsOf = async (query: string) =>
      (await as(admin.token).get(`/admin/actions?adminId=${admin.user.id}&${query}`).expect(200))
        .body as ActionPage;

    it('records each action with the admin, the target, when and how it ended', async () => {
      const before = Date.now() - 1_000;
      await as(admin.token).post('/admin/schedulers/midnight-sync/run').expect(202);
      const unknown = randomUUID();
      await as(admin.token).post(`/admin/dead-letter/${unknown}/retry`).expect(404);
      await as(admin.token).post('/admin/queues/session').expect(204);

      const ran = await actionsOf('action=scheduler.run');
      expect(ran.data[0]).toMatchObject({
        adminId: admin.user.id,
        action: 'scheduler.run',
        target: 'midnight-sync',
        outcome: 'succeeded',
        statusCode: 202,
        detail: null,
        requestId: expect.any(String),
      });
      expect(new Date(ran.data[0].createdAt).getTime()).toBeGreaterThan(before);
      expect(ran.data[0].finishedAt).not.toBeNull();

      const retried = await actionsOf('action=dead-letter.retry');
      expect(retried.data[0]).toMatchObject({
        target: unknown,
        outcome: 'failed',
        statusCode: 404,
        detail: 'Job not found',
      });
      const opened = await actionsOf('action=queue-board.open');
      expect(opened.data[0]).toMatchObject({ target: null, outcome: 'succeeded', statusCode: 204 });
    });

    it('records a malformed target as it came, made safe, without failing the request', async () => {
      await as(admin.token).post('/admin/dead-letter/%00evil%0A/retry').expect(400);
      const page = await actionsOf('action=dead-letter.retry');
      expect(page.data[0]).toMatchObject({ target: '?evil?', outcome: 'failed', statusCode: 400 });
    });

    it('is for admins only, and names a bad filter', async () => {
      await as(user.token).get('/admin/actions').expect(403);
      const bad = await as(admin.token).get('/admin/actions?adminId=nope').expect(400);
      expect(JSON.stringify(bad.body)).toContain('adminId must be a UUID');
      const badAction = await as(admin.token).get('/admin/actions?action=drop-tables').expect(400);
      expect(JSON.stringify(badAction.body)).toContain('action must be one of');
      // A normal user's requests leave nothing here.
      await as(user.token).get('/auth/me').expect(200);
      const mine = await as(admin.token).get(`/admin/actions?adminId=${user.user.id}`).expect(200);
      expect((mine.body as ActionPage).total).toBe(0);
    });
  });

  describe('Bull Board errors', () => {
    const previousEnv = process.env.NODE_ENV;
    // Bull Board's own handler adds the stack in development: prove ours never does.
    beforeAll(() => {
      process.env.NODE_ENV = 'development';
    });
    afterAll(() => {
      process.env.NODE_ENV = previousEnv;
    });

    it.each([
      '/admin/queues/api/queues/email/%E0%A4%A',
      '/admin/queues/api/queues/%E0%A4%A/1',
      '/admin/queues/api/queues/no-such-queue/1',
      '/admin/queues/api/queues/email/no-such-job',
      '/admin/queues/api/queues/email/no-such-job/logs',
      '/admin/queues/static/%E0%A4%A',
      '/admin/queues/static/../../../../etc/passwd',
      '/admin/queues/queue/%E0%A4%A',
      '/admin/queues/api/redis/stats?x=%E0%A4%A',
    ])('answer %s without a stack trace or a path', async (path) => {
      const response = await as(admin.token).get(path);
      const body = response.text;
      expect(response.status).toBeLessThan(500);
      expect(body).not.toMatch(/\bat .+:\d+:\d+/);
      expect(body).not.toMatch(/node_modules|\/work\/|\/usr\/|\/home\//);
      expect(body).not.toContain(process.cwd());
    });

    it('answer a handler that fails with a generic 500 and keep the details for the log', async () => {
      const queue = api.app.get<Queue>(getQueueToken(QUEUE.email), { strict: false });
      const failure = new Error(
        `ENOENT: no such file or directory, open '${process.cwd()}/x.json'`,
      );
      const getJob = jest.spyOn(queue, 'getJob').mockRejectedValue(failure);
      try {
        const response = await as(admin.token).get(
          `/admin/queues/api/queues/email/${randomUUID()}`,
        );
        expect(response.status).toBe(500);
        expect(response.body).toEqual({
          error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' },
          statusCode: 500,
          message: 'The queue board could not answer; the api log has the details',
        });
      } finally {
        getJob.mockRestore();
      }
    });

    it('leaves POST /admin/queues/session to the api', async () => {
      await api.http().post('/admin/queues/session').expect(401);
      await as(user.token).post('/admin/queues/session').expect(403);
      await as(admin.token).post('/admin/queues/session').expect(204);
    });
  });
});
