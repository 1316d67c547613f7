import { SchedulerRegistry } from '@nestjs/schedule';
import { closePeriodJobId, CRON, JOB, PayloadOf, QUEUE } from '@subscribernest/shared';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { ClosePeriodResult } from '../src/billing/close-period.service';
import {
  MONTHLY_BILLING_SCHEDULE,
  MonthlyBillingScheduler,
} from '../src/billing/monthly-billing.scheduler';
import { CronTicksService } from '../src/schedulers/cron-ticks.service';
import { completedJob, failedJob } from './support/job-states';
import { startTestWorker, TestWorker } from './support/test-worker';

type ClosePeriod = PayloadOf<typeof JOB.closePeriod>;

/**
 * The monthly-billing cron and `close-period` processor on the real worker, without Stripe (the
 * self-hosted and demo case): which users a tick closes, the figures each month gets, and that a
 * tick run again, or a job run again, writes each month once. billing-stripe.e2e-spec.ts covers
 * the reports to Stripe.
 */
describe('monthly billing without Stripe (real worker)', () => {
  let worker: TestWorker;
  let sql: DataSource;
  let queue: Queue<ClosePeriod>;

  const seedUser = async (email: string): Promise<string> => {
    const [{ id }] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [email],
    );
    return id;
  };

  /** Daily snapshots of one connection: `counts[i]` on `firstDay + i`. */
  const snapshots = async (
    userId: string,
    connectionId: string,
    firstDay: string,
    counts: number[],
  ): Promise<void> => {
    await sql.query(
      `INSERT INTO subscriber_count_snapshots (user_id, esp_connection_id, day, subscriber_count)
       SELECT $1, $2, $3::date + (i - 1)::int, c FROM unnest($4::int[]) WITH ORDINALITY AS t(c, i)`,
      [userId, connectionId, firstDay, counts],
    );
  };

  const finished = (jobId: string) => completedJob<ClosePeriod, ClosePeriodResult>(queue, jobId);

  const periodsOf = (userId: string) =>
    sql.query<
      { period_start: string; period_end: string; max: number; cents: number; status: string }[]
    >(
      `SELECT to_char(period_start, 'YYYY-MM-DD') AS period_start,
              to_char(period_end, 'YYYY-MM-DD') AS period_end,
              max_subscriber_count AS max, amount_cents AS cents, status
         FROM billing_periods WHERE user_id = $1 ORDER BY period_start`,
      [userId],
    );

  beforeAll(async () => {
    worker = await startTestWorker({ env: { STRIPE_SECRET_KEY: '' } });
    sql = worker.dataSource;
    queue = worker.queue<ClosePeriod>(QUEUE.billing);
  });

  afterAll(async () => {
    await worker?.close();
  });

  it('registers monthly-billing as "0 1 1 * *" in UTC, with a handler for re-runs', () => {
    const job = worker.app.get(SchedulerRegistry).getCronJob(CRON.monthlyBilling);
    expect(job.cronTime.source).toBe(MONTHLY_BILLING_SCHEDULE);
    expect(MONTHLY_BILLING_SCHEDULE).toBe('0 1 1 * *');
    expect(job.cronTime.timeZone).toBe('UTC');
    const next = job.nextDate().toJSDate();
    expect([next.getUTCDate(), next.getUTCHours(), next.getUTCMinutes()]).toEqual([1, 1, 0]);
    expect(worker.app.get(CronTicksService).handlerOf(CRON.monthlyBilling)).toBeDefined();
  });

  it("closes the month before the tick: each connection's peak, summed, priced, recorded not_invoiced", async () => {
    const twoLists = await seedUser('two-lists@example.com');
    const small = await seedUser('small@example.com');
    const empty = await seedUser('empty@example.com');
    const idle = await seedUser('idle@example.com');
    // November 2031: list A peaks at 60,000 on the 3rd, list B at 40,001 on the 30th; the
    // billed count is 100,001, whatever day each peak fell on. December's snapshot is not billed.
    await snapshots(
      twoLists,
      '11111111-1111-4111-8111-111111111111',
      '2031-11-01',
      [50_000, 55_000, 60_000, 58_000],
    );
    await snapshots(
      twoLists,
      '22222222-2222-4222-8222-222222222222',
      '2031-11-28',
      [30_000, 39_000, 40_001],
    );
    await snapshots(twoLists, '22222222-2222-4222-8222-222222222222', '2031-12-01', [900_000]);
    await snapshots(small, '33333333-3333-4333-8333-333333333333', '2031-11-15', [1, 10_000]);
    await snapshots(empty, '44444444-4444-4444-8444-444444444444', '2031-11-10', [0, 0]);
    // Only an October snapshot: nothing to bill in November, so no row.
    await snapshots(idle, '55555555-5555-4555-8555-555555555555', '2031-10-31', [500]);

    const scheduler = worker.app.get(MonthlyBillingScheduler);
    const result = await scheduler.runScheduled(new Date('2031-12-01T01:00:00.030Z'));
    expect(result).toMatchObject({ status: 'completed', outcome: { queued: 3, skipped: 0 } });

    const jobs = await Promise.all(
      [twoLists, small, empty].map((userId) => finished(closePeriodJobId(userId, '2031-11-01'))),
    );
    expect(jobs.map((job) => job.returnvalue)).toEqual([
      { result: 'closed', status: 'not_invoiced', maxSubscriberCount: 100_001, amountCents: 1_500 },
      { result: 'closed', status: 'not_invoiced', maxSubscriberCount: 10_000, amountCents: 500 },
      { result: 'closed', status: 'skipped', maxSubscriberCount: 0, amountCents: 0 },
    ]);
    expect(await periodsOf(twoLists)).toEqual([
      {
        period_start: '2031-11-01',
        period_end: '2031-12-01',
        max: 100_001,
        cents: 1_500,
        status: 'not_invoiced',
      },
    ]);
    expect(await periodsOf(idle)).toEqual([]);
    // The tick's own record, for operators.
    const [run] = await sql.query<{ status: string; queued_count: number }[]>(
      `SELECT status, queued_count FROM cron_runs WHERE name = 'monthly-billing'`,
    );
    expect(run).toEqual({ status: 'completed', queued_count: 3 });
  });

  it('writes each month once however often its tick or its jobs run again', async () => {
    const user = await seedUser('again@example.com');
    await snapshots(user, '66666666-6666-4666-8666-666666666666', '2032-01-05', [12_345]);
    const scheduler = worker.app.get(MonthlyBillingScheduler);
    const ticks = worker.app.get(CronTicksService);
    const handler = ticks.handlerOf(CRON.monthlyBilling);
    if (!handler) throw new Error('no monthly-billing handler');

    await scheduler.runScheduled(new Date('2032-02-01T01:00:00.010Z'));
    const jobId = closePeriodJobId(user, '2032-01-01');
    await finished(jobId);
    // The same tick again is not claimed; a manual run later that month closes the same month and
    // adds nothing while the job is still in Redis.
    await expect(
      scheduler.runScheduled(new Date('2032-02-01T01:00:00.900Z')),
    ).resolves.toMatchObject({ status: 'not-claimed' });
    await expect(
      ticks.runTick(CRON.monthlyBilling, new Date('2032-02-09T10:00:00Z'), 'manual', handler),
    ).resolves.toMatchObject({ status: 'completed' });
    // Once Redis forgot the job (retention), a further run adds it again: it finds its month done.
    await queue.clean(0, 1_000, 'completed');
    await ticks.runTick(CRON.monthlyBilling, new Date('2032-02-10T10:00:00Z'), 'manual', handler);
    const again = await finished(jobId);
    expect(again.returnvalue).toMatchObject({ result: 'closed', status: 'not_invoiced' });
    expect(await periodsOf(user)).toEqual([
      expect.objectContaining({ period_start: '2032-01-01', max: 12_345, cents: 600 }),
    ]);
  });

  it('refuses a job that names no first-of-month period, and writes nothing', async () => {
    const user = await seedUser('malformed@example.com');
    const jobId = closePeriodJobId(user, '2032-03-15');
    await queue.add(
      JOB.closePeriod,
      { userId: user, periodStart: '2032-03-15' },
      { jobId, attempts: 3 },
    );
    const failed = await failedJob(queue, jobId);
    expect(failed.failedReason).toContain('first of a month');
    expect(await periodsOf(user)).toEqual([]);
  });
});
