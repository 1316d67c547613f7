import { randomUUID } from 'node:crypto';
import { JOB, QUEUE } from '@subscribernest/shared';
import { EspTestApi, KEYS, startEspTestApi, TestUser } from './support/fake-esp-api';

interface JobBody {
  id: string;
  jobId: string;
  queue: string;
  name: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  delayedUntil: string | null;
  correlationId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

describe('GET /jobs/:id (real app, Postgres, Redis and the fake ESP)', () => {
  let harness: EspTestApi;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let syncRunId: string;
  const answers: string[] = [];

  const sql = <T>(query: string, parameters: unknown[] = []) =>
    harness.api.dataSource.query<T>(query, parameters);
  const insertJobRun = async (values: {
    queue: string;
    name: string;
    jobId: string;
    userId: string | null;
    status?: string;
    attempts?: number;
    maxAttempts?: number;
    lastError?: string | null;
  }): Promise<string> => {
    const [row] = await sql<{ id: string }[]>(
      `INSERT INTO job_runs (queue, name, job_id, user_id, status, attempts, max_attempts, last_error, started_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING id`,
      [
        values.queue,
        values.name,
        values.jobId,
        values.userId,
        values.status ?? 'failed',
        values.attempts ?? 2,
        values.maxAttempts ?? 5,
        values.lastError ?? 'SMTP said no',
      ],
    );
    return row.id;
  };

  beforeAll(async () => {
    harness = await startEspTestApi();
    alice = await TestUser.signIn(harness.api, 'alice@example.com', answers);
    bob = await TestUser.signIn(harness.api, 'bob@example.com', answers);
    admin = await TestUser.signIn(harness.api, 'root@example.com', answers);
    await sql(`UPDATE users SET role = 'admin' WHERE id = $1`, [admin.id]);

    const connection = await alice
      .post('/esp-connections', {
        espType: 'beehiiv',
        apiKey: KEYS.beehiiv,
        publicationId: 'pub_weekly',
      })
      .expect(201);
    const sync = await alice.post(`/esp-connections/${connection.body.id}/sync`).expect(202);
    syncRunId = (sync.body as { jobId: string }).jobId;
  });

  afterAll(async () => {
    await harness?.close();
  });

  describe('a job recorded in job_runs', () => {
    let jobRunId: string;
    const jobId = randomUUID();

    beforeAll(async () => {
      jobRunId = await insertJobRun({
        queue: QUEUE.email,
        name: JOB.loginCode,
        jobId,
        userId: alice.id,
      });
    });

    it('answers its owner, by job_runs id and by BullMQ job id', async () => {
      const byRowId = await alice.get(`/jobs/${jobRunId}`).expect(200);
      expect(byRowId.body).toEqual({
        id: jobRunId,
        jobId,
        queue: 'email',
        name: 'login-code',
        status: 'failed',
        attempts: 2,
        maxAttempts: 5,
        lastError: 'SMTP said no',
        delayedUntil: null,
        correlationId: null,
        startedAt: expect.any(String),
        finishedAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      } satisfies Record<keyof JobBody, unknown>);
      const byJobId = await alice.get(`/jobs/${jobId}`).expect(200);
      expect(byJobId.body).toEqual(byRowId.body);
    });

    it('answers an admin', async () => {
      expect((await admin.get(`/jobs/${jobRunId}`).expect(200)).body.id).toBe(jobRunId);
      expect((await admin.get(`/jobs/${jobId}`).expect(200)).body.id).toBe(jobRunId);
    });

    it('answers 404 to anyone else, and 401 without a session', async () => {
      for (const id of [jobRunId, jobId]) {
        const response = await bob.get(`/jobs/${id}`).expect(404);
        expect(response.body).toEqual({
          statusCode: 404,
          message: 'Job not found',
          error: 'Not Found',
        });
        await harness.api.http().get(`/jobs/${id}`).expect(401);
      }
    });

    it('finds jobs whose id is not a UUID (admin) and hides system jobs from users', async () => {
      const id = 'run-cron:midnight-sync:202501010000';
      const rowId = await insertJobRun({
        queue: 'scheduler-ticks',
        name: 'run-cron',
        jobId: id,
        userId: null,
        status: 'completed',
      });
      expect((await admin.get(`/jobs/${id}`).expect(200)).body.id).toBe(rowId);
      await alice.get(`/jobs/${id}`).expect(404);
    });
  });

  it('shows a delayed job with when it runs again', async () => {
    const id = await insertJobRun({
      queue: QUEUE.subscriberSync,
      name: JOB.syncPublication,
      jobId: randomUUID(),
      userId: alice.id,
      status: 'delayed',
      attempts: 1,
      lastError: 'rate limited by the ESP (429): waiting until 2030-01-01T00:01:00.000Z',
    });
    await sql(`UPDATE job_runs SET delayed_until = '2030-01-01T00:01:00Z' WHERE id = $1`, [id]);
    expect((await alice.get(`/jobs/${id}`).expect(200)).body).toMatchObject({
      status: 'delayed',
      delayedUntil: '2030-01-01T00:01:00.000Z',
      lastError: 'rate limited by the ESP (429): waiting until 2030-01-01T00:01:00.000Z',
    });
  });

  describe('a sync, by the id POST /esp-connections/:id/sync answered', () => {
    it('answers from sync_runs while the worker has not recorded the job yet', async () => {
      const response = await alice.get(`/jobs/${syncRunId}`).expect(200);
      expect(response.body).toMatchObject({
        id: syncRunId,
        jobId: syncRunId,
        queue: QUEUE.subscriberSync,
        name: JOB.syncPublication,
        status: 'queued',
        attempts: 0,
        maxAttempts: 5,
        lastError: null,
      });
      expect((await admin.get(`/jobs/${syncRunId}`).expect(200)).body.id).toBe(syncRunId);
      await bob.get(`/jobs/${syncRunId}`).expect(404);
    });

    it('maps the sync run status to job words', async () => {
      await sql(`UPDATE sync_runs SET status = 'running', started_at = now() WHERE id = $1`, [
        syncRunId,
      ]);
      expect((await alice.get(`/jobs/${syncRunId}`).expect(200)).body.status).toBe('active');
      await sql(
        `UPDATE sync_runs SET status = 'failed', completed_at = now(), error_message = 'ESP down' WHERE id = $1`,
        [syncRunId],
      );
      expect((await alice.get(`/jobs/${syncRunId}`).expect(200)).body).toMatchObject({
        status: 'failed',
        lastError: 'ESP down',
        finishedAt: expect.any(String),
      });
    });

    it('answers from job_runs once the worker recorded it, owned through the sync run', async () => {
      const rowId = await insertJobRun({
        queue: QUEUE.subscriberSync,
        name: JOB.syncPublication,
        jobId: syncRunId,
        userId: null,
        status: 'dead',
        attempts: 5,
        lastError: 'gave up',
      });
      const response = await alice.get(`/jobs/${syncRunId}`).expect(200);
      expect(response.body).toMatchObject({
        id: rowId,
        jobId: syncRunId,
        status: 'dead',
        attempts: 5,
      });
      expect((await alice.get(`/jobs/${rowId}`).expect(200)).body.id).toBe(rowId);
      await bob.get(`/jobs/${syncRunId}`).expect(404);
      await bob.get(`/jobs/${rowId}`).expect(404);
    });
  });

  it('answers 404 for unknown ids and 400 for malformed ones', async () => {
    await alice.get(`/jobs/${randomUUID()}`).expect(404);
    await admin.get('/jobs/no-such-job').expect(404);
    for (const bad of ['%20', 'a b', `${'x'.repeat(256)}`, '..', "x' OR '1'='1"]) {
      const response = await alice.get(`/jobs/${encodeURIComponent(bad)}`).expect(400);
      expect(response.body.message).toMatch(/^id must be a job id/);
    }
  });
});
