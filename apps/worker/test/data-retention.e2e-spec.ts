import { randomUUID } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CRON, CronRun, JOB, JobRun, PayloadOf, QUEUE, runCronJobId } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import {
  DATA_RETENTION_SCHEDULE,
  DataRetentionScheduler,
} from '../src/retention/data-retention.scheduler';
import {
  EXPIRED_CIPHERTEXT,
  PAST_RETENTION,
  RETENTION_TABLES,
} from '../src/retention/retention.repository';
import { CronClaim, CronTicksService } from '../src/schedulers/cron-ticks.service';
import { startTestWorker, TestWorker } from './support/test-worker';

type RunCron = PayloadOf<typeof JOB.runCron>;

/** Small batches, so a few hundred rows already take several statements per table. */
const BATCH = 100;

/**
 * The data-retention cron on the real worker (WorkerModule, real Postgres and Redis): which rows
 * each table loses and keeps, the expired ciphertexts it clears, batching, the `cron_runs`
 * record, the manual run through `scheduler-ticks`, and a tick that lost its lease stopping.
 */
describe('data retention (DataRetentionScheduler, real worker)', () => {
  let worker: TestWorker;
  let sql: DataSource;
  let scheduler: DataRetentionScheduler;
  let userId: string;
  let nextTick = Date.UTC(2031, 0, 1, 3, 30);

  /** A fresh scheduled tick for each run (a tick already completed is not claimed twice). */
  const tick = () => {
    nextTick += 86_400_000;
    return new Date(nextTick + 20);
  };

  const column = async (query: string): Promise<string[]> =>
    (await sql.query<{ tag: string }[]>(query)).map((row) => row.tag).sort();

  beforeAll(async () => {
    worker = await startTestWorker({ env: { RETENTION_BATCH_SIZE: String(BATCH) } });
    sql = worker.dataSource;
    scheduler = worker.app.get(DataRetentionScheduler);
    [{ id: userId }] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('owner@example.com') RETURNING id`,
    );
  });

  afterAll(async () => {
    await worker?.close();
  });

  afterEach(async () => {
    for (const table of RETENTION_TABLES) await sql.query(`DELETE FROM ${table}`);
  });

  it('registers data-retention as "30 3 * * *" in UTC, with a handler for re-runs', () => {
    const job = worker.app.get(SchedulerRegistry).getCronJob(CRON.dataRetention);
    expect(job.cronTime.source).toBe(DATA_RETENTION_SCHEDULE);
    expect(DATA_RETENTION_SCHEDULE).toBe('30 3 * * *');
    expect(job.cronTime.timeZone).toBe('UTC');
    const next = job.nextDate().toJSDate();
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([3, 30, 0]);
    expect(worker.app.get(CronTicksService).handlerOf(CRON.dataRetention)).toBeDefined();
  });

  it('prunes only final rows past their retention, clears expired ciphertexts, and records the tick', async () => {
    // login_codes (7 days): by creation; expired codes lose their ciphertext whatever their age.
    await sql.query(
      `INSERT INTO login_codes (email, code_hash, code_encrypted, requested_ip, created_at, expires_at)
       VALUES ('old@x', 'h', 'v1.k.old', '203.0.113.9', now() - interval '8 days', now() - interval '8 days' + interval '10 minutes'),
              ('old-no-code@x', 'h', NULL, '203.0.113.9', now() - interval '7 days 1 minute', now() - interval '7 days'),
              ('expired@x', 'h', 'v1.k.expired', '203.0.113.9', now() - interval '1 hour', now() - interval '50 minutes'),
              ('live@x', 'h', 'v1.k.live', '203.0.113.9', now(), now() + interval '10 minutes'),
              ('six-days@x', 'h', NULL, '203.0.113.9', now() - interval '6 days', now() - interval '6 days' + interval '10 minutes')`,
    );
    // sessions (30 days): after expiry or revocation.
    await sql.query(
      `INSERT INTO sessions (user_id, token_hash, created_at, expires_at, revoked_at)
       VALUES ($1, 'expired-31d', now() - interval '61 days', now() - interval '31 days', NULL),
              ($1, 'revoked-31d', now() - interval '40 days', now() + interval '5 days', now() - interval '31 days'),
              ($1, 'expired-29d', now() - interval '59 days', now() - interval '29 days', NULL),
              ($1, 'revoked-29d', now() - interval '40 days', now() - interval '10 days', now() - interval '29 days'),
              ($1, 'live-old', now() - interval '90 days', now() + interval '1 day', NULL),
              ($1, 'live', now(), now() + interval '30 days', NULL)`,
      [userId],
    );
    // outbox_events (7 days): only published ones, after publication.
    const outbox = (tag: string, created: string, published: string | null) =>
      sql.query(
        `INSERT INTO outbox_events (id, event_type, payload, created_at, published_at)
         VALUES ($1, 'sync-requested', $2, now() - $3::interval, now() - $4::interval)`,
        [randomUUID(), { tag }, created, published],
      );
    await outbox('published-8d', '8 days', '8 days');
    await outbox('published-6d', '9 days', '6 days');
    await outbox('unpublished-30d', '30 days', null);
    // job_runs (30 days): completed and dead only, by last update. A failed one is an attempt
    // that will be retried, not an outcome: kept whatever its age.
    await sql.query(
      `INSERT INTO job_runs (queue, name, job_id, status, created_at, updated_at)
       SELECT 'email', 'login-code', s || '-' || age, s, now() - interval '60 days',
              now() - (age || ' days')::interval
         FROM unnest(ARRAY['completed', 'failed', 'dead', 'queued', 'active', 'delayed']) AS s,
              unnest(ARRAY['31', '29']) AS age`,
    );
    // cron_runs (90 days): completed ticks only (a failed one waits for an admin's re-run, a
    // running one for its lease or recovery); each cron's newest scheduled tick stays.
    await sql.query(
      `INSERT INTO cron_runs (name, tick, trigger, status, claimed_by, started_at, finished_at,
                              lease_token, lease_expires_at)
       VALUES ('midnight-sync', now() - interval '100 days', 'schedule', 'completed', 'completed-100d', now() - interval '100 days', now() - interval '100 days', NULL, NULL),
              ('midnight-sync', now() - interval '99 days', 'catch-up', 'failed', 'failed-99d', now() - interval '99 days', now() - interval '99 days', NULL, NULL),
              ('midnight-sync', now() - interval '98 days', 'manual', 'completed', 'manual-98d', now() - interval '98 days', now() - interval '98 days', NULL, NULL),
              ('midnight-sync', now() - interval '97 days', 'schedule', 'running', 'running-97d', now() - interval '97 days', NULL, gen_random_uuid(), now() - interval '97 days'),
              ('midnight-sync', now() - interval '89 days', 'schedule', 'completed', 'completed-89d', now() - interval '89 days', now() - interval '89 days', NULL, NULL),
              ('monthly-billing', now() - interval '120 days', 'schedule', 'completed', 'billing-only-120d', now() - interval '120 days', now() - interval '120 days', NULL, NULL),
              ('monthly-billing', now() - interval '119 days', 'manual', 'completed', 'billing-manual-119d', now() - interval '119 days', now() - interval '119 days', NULL, NULL)`,
    );
    // admin_actions (365 days): by creation, whatever the outcome.
    await sql.query(
      `INSERT INTO admin_actions (admin_id, action, outcome, created_at)
       VALUES ($1, 'succeeded-366d', 'succeeded', now() - interval '366 days'),
              ($1, 'pending-366d', 'pending', now() - interval '366 days'),
              ($1, 'failed-364d', 'failed', now() - interval '364 days')`,
      [userId],
    );

    // stripe_webhook_events (90 days): by receipt.
    await sql.query(
      `INSERT INTO stripe_webhook_events (id, type, stripe_created_at, outcome, received_at)
       VALUES ('evt_91d', 'invoice.paid', now(), 'applied', now() - interval '91 days'),
              ('evt_89d', 'invoice.paid', now(), 'applied', now() - interval '89 days')`,
    );

    const at = tick();
    const result = await scheduler.runScheduled(at);

    expect(result).toMatchObject({
      status: 'completed',
      outcome: {
        queued: 2 + 2 + 1 + 2 + 3 + 2 + 1,
        skipped: 0,
        ciphertextsCleared: 2,
        deleted: {
          login_codes: 2,
          sessions: 2,
          outbox_events: 1,
          job_runs: 2,
          cron_runs: 3,
          admin_actions: 2,
          stripe_webhook_events: 1,
        },
      },
    });
    const codes = await sql.query<{ email: string; code_encrypted: string | null }[]>(
      `SELECT email, code_encrypted FROM login_codes ORDER BY email`,
    );
    expect(codes).toEqual([
      { email: 'expired@x', code_encrypted: null },
      { email: 'live@x', code_encrypted: 'v1.k.live' },
      { email: 'six-days@x', code_encrypted: null },
    ]);
    expect(await column(`SELECT token_hash AS tag FROM sessions`)).toEqual([
      'expired-29d',
      'live',
      'live-old',
      'revoked-29d',
    ]);
    expect(await column(`SELECT payload->>'tag' AS tag FROM outbox_events`)).toEqual([
      'published-6d',
      'unpublished-30d',
    ]);
    expect(await column(`SELECT job_id AS tag FROM job_runs`)).toEqual([
      'active-29',
      'active-31',
      'completed-29',
      'dead-29',
      'delayed-29',
      'delayed-31',
      'failed-29',
      'failed-31',
      'queued-29',
      'queued-31',
    ]);
    expect(
      await column(`SELECT claimed_by AS tag FROM cron_runs WHERE name <> 'data-retention'`),
    ).toEqual(['billing-only-120d', 'completed-89d', 'failed-99d', 'running-97d']);
    expect(await column(`SELECT action AS tag FROM admin_actions`)).toEqual(['failed-364d']);
    expect(await column(`SELECT id AS tag FROM stripe_webhook_events`)).toEqual(['evt_89d']);

    const recorded = await sql
      .getRepository(CronRun)
      .findOneByOrFail({ name: CRON.dataRetention, tick: new Date(nextTick) });
    expect(recorded).toMatchObject({
      trigger: 'schedule',
      status: 'completed',
      queuedCount: 13,
      skippedCount: 0,
      error: null,
    });

    // The same tick again is not claimed; the next one finds nothing more to do.
    await expect(scheduler.runScheduled(at)).resolves.toMatchObject({ status: 'not-claimed' });
    await expect(scheduler.runScheduled(tick())).resolves.toMatchObject({
      status: 'completed',
      outcome: { queued: 0, ciphertextsCleared: 0 },
    });
  });

  it('works through a backlog many batches deep', async () => {
    const rows = BATCH * 12 + 37;
    await sql.query(
      `INSERT INTO job_runs (queue, name, job_id, status, updated_at)
       SELECT 'email', 'login-code', 'old-' || g, 'completed', now() - interval '31 days'
         FROM generate_series(1, $1) AS g`,
      [rows],
    );
    await sql.query(
      `INSERT INTO login_codes (email, code_hash, code_encrypted, created_at, expires_at)
       SELECT 'c' || g || '@x', 'h', 'v1.k.c', now() - interval '2 days', now() - interval '2 days'
         FROM generate_series(1, $1) AS g`,
      [rows],
    );
    await sql.query(
      `INSERT INTO job_runs (queue, name, job_id, status, updated_at)
       VALUES ('email', 'login-code', 'young', 'completed', now())`,
    );

    const result = await scheduler.runScheduled(tick());

    expect(result).toMatchObject({
      status: 'completed',
      outcome: { ciphertextsCleared: rows, deleted: { job_runs: rows } },
    });
    expect(await column(`SELECT job_id AS tag FROM job_runs`)).toEqual(['young']);
    const [{ n }] = await sql.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM login_codes WHERE code_encrypted IS NOT NULL`,
    );
    expect(n).toBe(0);
  });

  it('stops between batches once its lease is lost, deleting nothing more', async () => {
    await sql.query(
      `INSERT INTO job_runs (queue, name, job_id, status, updated_at)
       SELECT 'email', 'login-code', 'old-' || g, 'dead', now() - interval '31 days'
         FROM generate_series(1, 10) AS g`,
    );
    const claim = new CronClaim(CRON.dataRetention, new Date(), {
      id: randomUUID(),
      token: randomUUID(),
      attempt: 1,
      trigger: 'manual',
    });
    claim.markLost();

    await expect(scheduler.pruneAll(claim)).rejects.toThrow(/lease lost to another attempt/);
    const [{ n }] = await sql.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM job_runs`);
    expect(n).toBe(10);
  });

  it('runs by hand through scheduler-ticks (POST /admin/schedulers/data-retention/run)', async () => {
    await sql.query(
      `INSERT INTO admin_actions (admin_id, action, created_at)
       VALUES ($1, 'ancient', now() - interval '400 days')`,
      [userId],
    );
    const requestedAt = new Date('2031-03-04T10:20:30Z');
    const jobId = runCronJobId(CRON.dataRetention, requestedAt);
    await worker
      .queue<RunCron>(QUEUE.schedulerTicks)
      .add(
        JOB.runCron,
        { name: CRON.dataRetention, requestedBy: 'admin', requestedAt: requestedAt.toISOString() },
        { jobId },
      );

    const job = await waitFor(
      async () => {
        const row = await sql
          .getRepository(JobRun)
          .findOneBy({ queue: QUEUE.schedulerTicks, jobId });
        return row && ['completed', 'dead'].includes(row.status) ? row : undefined;
      },
      { description: 'the manual data-retention tick to finish' },
    );
    expect(job.status).toBe('completed');
    expect(
      await sql
        .getRepository(CronRun)
        .findOneByOrFail({ name: CRON.dataRetention, tick: new Date('2031-03-04T10:20:00Z') }),
    ).toMatchObject({ trigger: 'manual', status: 'completed', queuedCount: 1 });
    expect(await column(`SELECT action AS tag FROM admin_actions`)).toEqual([]);
  });

  it('finds its rows through an index on every table, never a sequential scan', async () => {
    const plans: Record<string, string> = {};
    await sql.transaction(async (manager) => {
      await manager.query(`SET LOCAL enable_seqscan = off`);
      const plan = async (query: string, params: unknown[]) =>
        (await manager.query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${query}`, params))
          .map((row) => row['QUERY PLAN'])
          .join('\n');
      for (const table of RETENTION_TABLES) {
        plans[table] = await plan(
          `SELECT ${table}.id FROM ${table} WHERE ${PAST_RETENTION[table]} LIMIT 5000`,
          [30],
        );
      }
      plans.ciphertexts = await plan(
        `SELECT login_codes.id FROM login_codes WHERE ${EXPIRED_CIPHERTEXT} LIMIT 5000`,
        [],
      );
    });
    for (const [table, text] of Object.entries(plans)) {
      expect({ table, seqScan: /Seq Scan/.test(text) }).toEqual({ table, seqScan: false });
    }
    expect(plans.ciphertexts).toContain('login_codes_ciphertext_expires_at_idx');
    expect(plans.job_runs).toContain('job_runs_finished_updated_at_idx');
    expect(plans.cron_runs).toContain('cron_runs_finished_at_idx');
    expect(plans.outbox_events).toContain('outbox_events_published_at_idx');
  });
});
