import { randomUUID } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CRON, deleteAccountJobId, JOB, PayloadOf, QUEUE } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { AccountDeletionRepository } from '../src/account-deletion/account-deletion.repository';
import {
  ACCOUNT_DELETION_SCHEDULE,
  AccountDeletionScheduler,
} from '../src/account-deletion/account-deletion.scheduler';
import { AccountDeletionResult } from '../src/account-deletion/account-deletion.service';
import { CronTicksService } from '../src/schedulers/cron-ticks.service';
import { SyncSchedulerService } from '../src/schedulers/midnight-sync.scheduler';
import { startTestWorker, TestWorker } from './support/test-worker';

type DeleteAccount = PayloadOf<typeof JOB.deleteAccount>;

const BATCH = 5_000;
const GRACE_DAYS = 30;

interface Account {
  userId: string;
  email: string;
  connectionIds: string[];
  syncRunIds: string[];
}

/**
 * Every row of an account, table by table, written independently of the code under test: what
 * "nothing of this user is left" and "nothing of another user changed" are measured with.
 */
const OWNED_ROWS: Record<string, string> = {
  users: `SELECT count(*)::int AS n FROM users WHERE id = $1`,
  esp_connections: `SELECT count(*)::int AS n FROM esp_connections WHERE user_id = $1`,
  subscribers: `SELECT count(*)::int AS n FROM subscribers s
                  JOIN esp_connections c ON c.id = s.esp_connection_id WHERE c.user_id = $1`,
  sync_runs: `SELECT count(*)::int AS n FROM sync_runs WHERE user_id = $1`,
  sync_seen_batches: `SELECT count(*)::int AS n FROM sync_seen_batches
                        WHERE sync_run_id = ANY($3::uuid[])`,
  sync_seen_subscribers: `SELECT count(*)::int AS n FROM sync_seen_subscribers
                            WHERE sync_run_id = ANY($3::uuid[])`,
  subscriber_count_snapshots: `SELECT count(*)::int AS n FROM subscriber_count_snapshots
                                 WHERE user_id = $1`,
  outbox_events: `SELECT count(*)::int AS n FROM outbox_events
                    WHERE payload->>'userId' = $1::text
                       OR payload->>'espConnectionId' = ANY($4::text[])`,
  job_runs: `SELECT count(*)::int AS n FROM job_runs
              WHERE (user_id = $1 AND queue <> 'account-deletion')
                 OR job_id IN (SELECT r::text FROM unnest($3::uuid[]) AS r)
                 OR job_id IN (SELECT id::text FROM login_codes WHERE email = $2)`,
  sessions: `SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`,
  login_codes: `SELECT count(*)::int AS n FROM login_codes WHERE email = $2`,
  billing_accounts: `SELECT count(*)::int AS n FROM billing_accounts WHERE user_id = $1`,
  billing_periods: `SELECT count(*)::int AS n FROM billing_periods WHERE user_id = $1`,
};

/**
 * The account-deletion cron and `delete-account` processor on the real worker (WorkerModule, real
 * Postgres and Redis): what a due deletion removes and keeps, a withdrawn request, batching and a
 * deletion interrupted half-way, waiting out a running sync, and the cron's registration.
 */
describe('account deletion (real worker)', () => {
  let worker: TestWorker;
  let sql: DataSource;
  let queue: Queue<DeleteAccount>;
  let nextTick = Date.UTC(2031, 0, 1, 3, 0);

  const tick = () => {
    nextTick += 86_400_000;
    return new Date(nextTick + 20);
  };

  /** An account with a row in every table that can hold one of its rows. */
  const seedAccount = async (
    email: string,
    requestedDaysAgo: number | null,
    subscribers = 30,
  ): Promise<Account> => {
    const [{ id: userId }] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email, delete_requested_at)
       VALUES ($1, CASE WHEN $2::int IS NULL THEN NULL ELSE now() - make_interval(days => $2::int) END)
       RETURNING id`,
      [email, requestedDaysAgo],
    );
    const connections = await sql.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       SELECT $1, 'beehiiv', 'v1.test.not-a-key', 'pub-' || g FROM generate_series(1, 2) AS g
       RETURNING id`,
      [userId],
    );
    const connectionIds = connections.map((row) => row.id);
    await sql.query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                email_masked, status)
       SELECT c, 'ext-' || g, 'v1.test.x', md5(c::text || g), 's***@example.com', 'active'
         FROM unnest($1::uuid[]) AS c, generate_series(1, $2::int) AS g`,
      [connectionIds, Math.ceil(subscribers / 2)],
    );
    const runs = await sql.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status)
       SELECT c, $2, 'manual', 'success' FROM unnest($1::uuid[]) AS c RETURNING id`,
      [connectionIds, userId],
    );
    const syncRunIds = runs.map((row) => row.id);
    await sql.query(
      `INSERT INTO sync_seen_subscribers (sync_run_id, external_id)
       SELECT r, 'ext-' || g FROM unnest($1::uuid[]) AS r, generate_series(1, 5) AS g`,
      [syncRunIds],
    );
    await sql.query(
      `INSERT INTO sync_seen_batches (sync_run_id, external_ids, id_count)
       SELECT r, '["ext-1", "ext-2"]', 2 FROM unnest($1::uuid[]) AS r`,
      [syncRunIds],
    );
    await sql.query(
      `INSERT INTO subscriber_count_snapshots (user_id, day, subscriber_count)
       VALUES ($1, current_date, 10), ($1, current_date - 1, 9)`,
      [userId],
    );
    await sql.query(
      `INSERT INTO outbox_events (id, event_type, payload)
       VALUES ($1, 'sync-requested', $2), ($3, 'sync-requested', $4)`,
      [
        randomUUID(),
        { userId, espConnectionId: connectionIds[0], syncRunId: syncRunIds[0] },
        randomUUID(),
        { espConnectionId: connectionIds[1] },
      ],
    );
    const [{ id: loginCodeId }] = await sql.query<{ id: string }[]>(
      `INSERT INTO login_codes (email, code_hash, expires_at)
       VALUES ($1, 'h', now() + interval '10 minutes'), ($1, 'h2', now()) RETURNING id`,
      [email],
    );
    await sql.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at)
       VALUES ($1, $2, now() + interval '1 day'), ($1, $3, now() + interval '1 day')`,
      [userId, `t-${randomUUID()}`, `t-${randomUUID()}`],
    );
    await sql.query(
      `INSERT INTO job_runs (queue, name, job_id, user_id, status)
       VALUES ('email', 'sign-in-notification', $2, $1, 'completed'),
              ('subscriber-sync', 'sync-publication', $3, NULL, 'completed'),
              ('email', 'login-code', $4, NULL, 'completed')`,
      [userId, `sin-${randomUUID()}`, syncRunIds[0], loginCodeId],
    );
    await sql.query(`INSERT INTO billing_accounts (user_id, stripe_customer_id) VALUES ($1, $2)`, [
      userId,
      `cus_${randomUUID()}`,
    ]);
    await sql.query(
      `INSERT INTO billing_periods (user_id, period_start, period_end)
       VALUES ($1, '2030-01-01', '2030-01-31'), ($1, '2030-02-01', '2030-02-28')`,
      [userId],
    );
    return { userId, email, connectionIds, syncRunIds };
  };

  /** One OWNED_ROWS count; the params CTE types every parameter, used or not. */
  const countOwned = async (query: string, account: Account): Promise<number> => {
    const [{ n }] = await sql.query<{ n: number }[]>(
      `WITH params AS (SELECT $1::uuid, $2::text, $3::uuid[], $4::text[]) ${query}`,
      [account.userId, account.email, account.syncRunIds, account.connectionIds],
    );
    return n;
  };

  const rowsOf = async (account: Account): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const [table, query] of Object.entries(OWNED_ROWS)) {
      counts[table] = await countOwned(query, account);
    }
    return counts;
  };

  const totalRows = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const table of Object.keys(OWNED_ROWS)) {
      // The deletion's own audit row (ids and counts) is written after it, so it is left out.
      const where = table === 'job_runs' ? `WHERE queue <> 'account-deletion'` : '';
      const [{ n }] = await sql.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM ${table} ${where}`,
      );
      counts[table] = n;
    }
    return counts;
  };

  const finished = async (jobId: string): Promise<Job<DeleteAccount, AccountDeletionResult>> =>
    waitFor(
      async () => {
        const job = await queue.getJob(jobId);
        const state = await job?.getState();
        if (state === 'failed') throw new Error(`job ${jobId} failed: ${job?.failedReason}`);
        return state === 'completed' ? (job as Job<DeleteAccount, AccountDeletionResult>) : false;
      },
      { description: `job ${jobId} to complete`, timeoutMs: 60_000 },
    );

  const requestedAtOf = async (userId: string): Promise<Date> => {
    const [row] = await sql.query<{ at: Date }[]>(
      `SELECT delete_requested_at AS at FROM users WHERE id = $1`,
      [userId],
    );
    return row.at;
  };

  beforeAll(async () => {
    worker = await startTestWorker({
      env: {
        ACCOUNT_DELETION_BATCH_SIZE: String(BATCH),
        ACCOUNT_DELETION_GRACE_DAYS: String(GRACE_DAYS),
      },
    });
    sql = worker.dataSource;
    queue = worker.queue<DeleteAccount>(QUEUE.accountDeletion);
  });

  afterAll(async () => {
    await worker?.close();
  });

  it('registers account-deletion as "0 3 * * *" in UTC, with a handler for re-runs', () => {
    const job = worker.app.get(SchedulerRegistry).getCronJob(CRON.accountDeletion);
    expect(job.cronTime.source).toBe(ACCOUNT_DELETION_SCHEDULE);
    expect(ACCOUNT_DELETION_SCHEDULE).toBe('0 3 * * *');
    expect(job.cronTime.timeZone).toBe('UTC');
    const next = job.nextDate().toJSDate();
    expect([next.getUTCHours(), next.getUTCMinutes(), next.getUTCSeconds()]).toEqual([3, 0, 0]);
    expect(worker.app.get(CronTicksService).handlerOf(CRON.accountDeletion)).toBeDefined();
  });

  it('deletes every row of an account past its grace period, and not one row of another', async () => {
    const due = await seedAccount('due@example.com', GRACE_DAYS + 1);
    const kept = await seedAccount('kept@example.com', null);
    const inGrace = await seedAccount('in-grace@example.com', GRACE_DAYS - 1);
    const before = {
      due: await rowsOf(due),
      kept: await rowsOf(kept),
      inGrace: await rowsOf(inGrace),
    };
    for (const counts of Object.values(before)) {
      for (const [table, n] of Object.entries(counts)) {
        expect({ table, seeded: n > 0 }).toEqual({ table, seeded: true });
      }
    }
    const totalBefore = await totalRows();

    const result = await worker.app.get(AccountDeletionScheduler).runScheduled(tick());
    expect(result).toMatchObject({ status: 'completed', outcome: { queued: 1 } });
    const jobId = deleteAccountJobId(due.userId, await requestedAtOf(due.userId));
    const job = await finished(jobId);

    expect(await rowsOf(due)).toEqual(
      Object.fromEntries(Object.keys(OWNED_ROWS).map((table) => [table, 0])),
    );
    expect(await rowsOf(kept)).toEqual(before.kept);
    expect(await rowsOf(inGrace)).toEqual(before.inGrace);
    // Everything that went was the due account's, table by table.
    const totalAfter = await totalRows();
    for (const table of Object.keys(OWNED_ROWS)) {
      expect({ table, gone: totalBefore[table] - totalAfter[table] }).toEqual({
        table,
        gone: before.due[table],
      });
    }
    // Counts only, in the job's result.
    expect(job.returnvalue).toMatchObject({
      result: 'deleted',
      deleted: { users: 1, subscribers: 30, esp_connections: 2, sessions: 2, login_codes: 2 },
    });
    expect(JSON.stringify(job.returnvalue)).not.toContain('@');
    // Only the due request was queued.
    expect(await queue.getJobCountByTypes('completed', 'waiting', 'active', 'delayed')).toBe(1);
  });

  it('deletes nothing for a request withdrawn (or made again) after its job was queued', async () => {
    const withdrawn = await seedAccount('withdrawn@example.com', GRACE_DAYS + 2);
    const renewed = await seedAccount('renewed@example.com', GRACE_DAYS + 2);
    const queuedFor = {
      withdrawn: await requestedAtOf(withdrawn.userId),
      renewed: await requestedAtOf(renewed.userId),
    };
    // What the cron queued, before the owner changed their mind.
    await sql.query(`UPDATE users SET delete_requested_at = NULL WHERE id = $1`, [
      withdrawn.userId,
    ]);
    await sql.query(`UPDATE users SET delete_requested_at = now() WHERE id = $1`, [renewed.userId]);
    const before = { withdrawn: await rowsOf(withdrawn), renewed: await rowsOf(renewed) };
    for (const [name, account] of [
      ['withdrawn', withdrawn],
      ['renewed', renewed],
    ] as const) {
      const jobId = deleteAccountJobId(account.userId, queuedFor[name]);
      await queue.add(
        JOB.deleteAccount,
        { userId: account.userId, requestedAt: queuedFor[name].toISOString() },
        { jobId },
      );
      const job = await finished(jobId);
      expect(job.returnvalue.result).toBe('withdrawn');
      expect(Object.values(job.returnvalue.deleted).every((n) => n === 0)).toBe(true);
      expect(await rowsOf(account)).toEqual(before[name]);
    }
  });

  it('deletes a large account in batches, and a deletion stopped half-way finishes on the retried job', async () => {
    const large = await seedAccount('large@example.com', GRACE_DAYS + 3, 50_000);
    const other = await seedAccount('other@example.com', null, 1_000);
    const otherBefore = await rowsOf(other);
    const repository = worker.app.get(AccountDeletionRepository);
    const original = repository.deleteBatch.bind(repository);
    let subscriberBatches = 0;
    let leftAtCrash = -1;
    let startedAtCrash: Date | null = null;
    // The first attempt dies after three subscriber batches (each already committed).
    const spy = jest.spyOn(repository, 'deleteBatch').mockImplementation(async (step, ...rest) => {
      if (step === 'subscribers' && ++subscriberBatches === 4) {
        leftAtCrash = await countOwned(OWNED_ROWS.subscribers, large);
        const [user] = await sql.query<{ deletion_started_at: Date | null }[]>(
          'SELECT deletion_started_at FROM users WHERE id = $1',
          [large.userId],
        );
        startedAtCrash = user.deletion_started_at;
        throw new Error('worker died mid-deletion (simulated)');
      }
      return original(step, ...rest);
    });
    try {
      const requestedAt = await requestedAtOf(large.userId);
      const jobId = deleteAccountJobId(large.userId, requestedAt);
      await queue.add(
        JOB.deleteAccount,
        { userId: large.userId, requestedAt: requestedAt.toISOString() },
        { jobId, attempts: 3, backoff: { type: 'fixed', delay: 50 } },
      );
      const job = await finished(jobId);
      expect(leftAtCrash).toBe(50_000 - 3 * BATCH);
      // Marked started before the first batch: the api refuses a cancel from then on (409), and
      // even a request withdrawn behind its back would not stop the retry finishing the job.
      expect(startedAtCrash).toBeInstanceOf(Date);
      // The job ran again after the crash and that run deleted what the first one left, in
      // batches of BATCH. (How it came to run again — BullMQ's retry, or its stalled-job check
      // when the failing attempt's lock had lapsed on a loaded machine — does not matter, so the
      // attempt count is not asserted.)
      expect(job.returnvalue.deleted.subscribers).toBe(leftAtCrash);
      expect(job.returnvalue.batches).toBeGreaterThan(Math.ceil(leftAtCrash / BATCH));
      expect(Object.values(await rowsOf(large)).every((n) => n === 0)).toBe(true);
      expect(await rowsOf(other)).toEqual(otherBefore);
      const [audit] = await sql.query<{ status: string; attempts: number }[]>(
        `SELECT status, attempts FROM job_runs WHERE queue = 'account-deletion' AND job_id = $1`,
        [jobId],
      );
      expect(audit).toMatchObject({ status: 'completed', attempts: 2 });
    } finally {
      spy.mockRestore();
    }
  });

  it('waits for a sync of the account that is still running, then deletes', async () => {
    const syncing = await seedAccount('syncing@example.com', GRACE_DAYS + 4);
    const [{ id: runId }] = await sql.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status)
       VALUES ($1, $2, 'scheduled', 'running') RETURNING id`,
      [syncing.connectionIds[0], syncing.userId],
    );
    const requestedAt = await requestedAtOf(syncing.userId);
    const jobId = deleteAccountJobId(syncing.userId, requestedAt);
    await queue.add(
      JOB.deleteAccount,
      { userId: syncing.userId, requestedAt: requestedAt.toISOString() },
      { jobId },
    );
    const job = await waitFor(
      async () => {
        const found = await queue.getJob(jobId);
        return (await found?.getState()) === 'delayed' ? found : false;
      },
      { description: 'the deletion to wait for the sync' },
    );
    expect((await rowsOf(syncing)).subscribers).toBe(30);

    await sql.query(`UPDATE sync_runs SET status = 'failed' WHERE id = $1`, [runId]);
    await job.promote();
    const done = await finished(jobId);
    expect(done.returnvalue.result).toBe('deleted');
    expect(done.attemptsMade).toBeLessThanOrEqual(1);
    expect(Object.values(await rowsOf(syncing)).every((n) => n === 0)).toBe(true);
  });

  it('the midnight sync skips every account with a pending deletion, from the moment it is requested', async () => {
    const pending = await seedAccount('pending@example.com', 0);
    const active = await seedAccount('active@example.com', null);
    const before = await sql.query<{ user_id: string }[]>(
      `SELECT DISTINCT c.user_id FROM esp_connections c
         JOIN users u ON u.id = c.user_id
        WHERE c.status = 'active' AND u.delete_requested_at IS NULL`,
    );
    expect(before.map((row) => row.user_id)).toContain(active.userId);

    const firedAt = new Date('2031-06-01T00:00:00.040Z');
    const result = await worker.app.get(SyncSchedulerService).runScheduled(firedAt);
    expect(result.status).toBe('completed');
    const scheduled = await sql.query<{ user_id: string; n: number }[]>(
      `SELECT user_id, count(*)::int AS n FROM sync_runs WHERE trigger = 'scheduled'
        GROUP BY user_id`,
    );
    const byUser = new Map(scheduled.map((row) => [row.user_id, row.n]));
    expect(byUser.get(active.userId)).toBe(active.connectionIds.length);
    expect(byUser.has(pending.userId)).toBe(false);
    // Only accounts without a request got a scheduled run.
    const [{ n: wrong }] = await sql.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM sync_runs r JOIN users u ON u.id = r.user_id
        WHERE r.trigger = 'scheduled' AND u.delete_requested_at IS NOT NULL`,
    );
    expect(wrong).toBe(0);
  });
});
