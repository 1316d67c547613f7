import {
  closePeriodJobId,
  deleteAccountJobId,
  JOB,
  PayloadOf,
  QUEUE,
} from '@subscribernest/shared';
import {
  FAKE_STRIPE_PRICE_ID,
  FAKE_STRIPE_SECRET_KEY,
  FakeStripeServer,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { AccountDeletionResult } from '../src/account-deletion/account-deletion.service';
import { BillingPeriodRepository } from '../src/billing/billing-period.repository';
import { ClosePeriodResult } from '../src/billing/close-period.service';
import { MonthlyBillingScheduler } from '../src/billing/monthly-billing.scheduler';
import { meterEventIdentifier } from '../src/billing/stripe-meter-reporter';
import { CRON } from '@subscribernest/shared';
import { CronTicksService } from '../src/schedulers/cron-ticks.service';
import { SyncSchedulerService } from '../src/schedulers/midnight-sync.scheduler';
import { completedJob } from './support/job-states';
import { startTestWorker, TestWorker } from './support/test-worker';

type ClosePeriod = PayloadOf<typeof JOB.closePeriod>;
type DeleteAccount = PayloadOf<typeof JOB.deleteAccount>;

const DAY_SECONDS = 86_400;

/**
 * The worker with Stripe configured, against the fake Stripe in packages/testkit through the real
 * `stripe` SDK: each user's month reported to the meter exactly once (a tick run again, a job
 * retried after Stripe failed, a job retried after Stripe accepted but our write failed), the
 * midnight sync leaving users without a subscription alone, and an account deletion cancelling
 * the subscription first.
 */
describe('billing with Stripe (real worker, fake Stripe)', () => {
  let fake: FakeStripeServer;
  let stripe: Stripe;
  let worker: TestWorker;
  let sql: DataSource;
  let periods: Queue<ClosePeriod>;
  let deletions: Queue<DeleteAccount>;
  let emails = 0;

  /** A user, optionally a Stripe customer with a subscription in `status` until `periodEnd`. */
  const seedUser = async (
    options: {
      customer?: boolean;
      subscription?: { status: string; periodEnd: number } | null;
      deleteRequestedDaysAgo?: number;
    } = {},
  ): Promise<{ userId: string; customerId: string | null; subscriptionId: string | null }> => {
    const email = `owner-${++emails}@example.com`;
    const [{ id: userId }] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email, delete_requested_at)
       VALUES ($1, CASE WHEN $2::int IS NULL THEN NULL
                        ELSE now() - make_interval(days => $2::int) END)
       RETURNING id`,
      [email, options.deleteRequestedDaysAgo ?? null],
    );
    if (!options.customer) return { userId, customerId: null, subscriptionId: null };
    const customer = await stripe.customers.create({ email, metadata: { userId } });
    let subscriptionId: string | null = null;
    if (options.subscription) {
      const session = await stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: customer.id,
        line_items: [{ price: FAKE_STRIPE_PRICE_ID }],
        success_url: 'http://localhost:3000/settings/billing',
      });
      const subscription = fake.completeCheckoutSession(session.id, {
        periodEnd: options.subscription.periodEnd,
      });
      subscriptionId = subscription.id;
      if (options.subscription.status !== 'active') {
        fake.updateSubscription(subscription.id, { status: options.subscription.status });
      }
    }
    await sql.query(
      `INSERT INTO billing_accounts
         (user_id, stripe_customer_id, stripe_subscription_id, subscription_status,
          current_period_end)
       VALUES ($1, $2, $3, $4, to_timestamp($5))`,
      [
        userId,
        customer.id,
        subscriptionId,
        options.subscription?.status ?? null,
        options.subscription?.periodEnd ?? null,
      ],
    );
    return { userId, customerId: customer.id, subscriptionId };
  };

  const snapshot = async (userId: string, day: string, count: number): Promise<void> => {
    await sql.query(
      `INSERT INTO subscriber_count_snapshots (user_id, esp_connection_id, day, subscriber_count)
       VALUES ($1, gen_random_uuid(), $2::date, $3)`,
      [userId, day, count],
    );
  };

  const periodOf = async (userId: string, periodStart: string) => {
    const [row] = await sql.query<
      {
        status: string;
        amount_cents: number;
        reported_value: number | null;
        meter_event_identifier: string | null;
        reported_at: Date | null;
      }[]
    >(
      `SELECT status, amount_cents, reported_value, meter_event_identifier, reported_at
         FROM billing_periods WHERE user_id = $1 AND period_start = $2::date`,
      [userId, periodStart],
    );
    return row;
  };

  const meterEventsOf = (customerId: string | null) =>
    fake.meterEvents.filter((event) => event.payload.stripe_customer_id === customerId);

  const nowSeconds = () => Math.floor(Date.now() / 1000);

  /** A Stripe customer with a subscription active for another day. */
  const seedSubscriber = () =>
    seedUser({
      customer: true,
      subscription: { status: 'active', periodEnd: nowSeconds() + DAY_SECONDS },
    });

  /** A close-period job with three attempts 50 ms apart, once it completed. */
  const closeWithRetries = async (userId: string, periodStart: string) => {
    const jobId = closePeriodJobId(userId, periodStart);
    await periods.add(
      JOB.closePeriod,
      { userId, periodStart },
      { jobId, attempts: 3, backoff: { type: 'fixed', delay: 50 } },
    );
    return completedJob<ClosePeriod, ClosePeriodResult>(periods, jobId);
  };

  /** The first day of the month now running (`YYYY-MM-DD`). */
  const runningMonthStart = () =>
    new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1))
      .toISOString()
      .slice(0, 10);

  beforeAll(async () => {
    fake = await FakeStripeServer.start();
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, fake.clientOptions());
    worker = await startTestWorker({
      env: { STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY, STRIPE_API_URL: fake.url },
    });
    sql = worker.dataSource;
    periods = worker.queue<ClosePeriod>(QUEUE.billing);
    deletions = worker.queue<DeleteAccount>(QUEUE.accountDeletion);
  });

  afterAll(async () => {
    await worker?.close();
    await fake?.stop();
  });

  it("reports each subscriber's month to the meter once, however often the tick runs", async () => {
    // The month before the real one, so that Stripe's 35-day window holds the month's last second.
    const now = new Date();
    const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
    const periodStart = month.toISOString().slice(0, 10);
    const tick = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1, 1, 0, 0, 20));
    const paying = await seedUser({
      customer: true,
      subscription: { status: 'active', periodEnd: nowSeconds() + 20 * DAY_SECONDS },
    });
    const neverSubscribed = await seedUser();
    await snapshot(paying.userId, periodStart, 25_000);
    await snapshot(neverSubscribed.userId, periodStart, 3);

    const scheduler = worker.app.get(MonthlyBillingScheduler);
    const ticks = worker.app.get(CronTicksService);
    const handler = ticks.handlerOf(CRON.monthlyBilling);
    if (!handler) throw new Error('no monthly-billing handler');
    await expect(scheduler.runScheduled(tick)).resolves.toMatchObject({
      status: 'completed',
      outcome: { queued: 2 },
    });
    const jobId = closePeriodJobId(paying.userId, periodStart);
    const first = await completedJob<ClosePeriod, ClosePeriodResult>(periods, jobId);
    expect(first.returnvalue).toEqual({
      result: 'closed',
      status: 'reported',
      maxSubscriberCount: 25_000,
      amountCents: 700,
    });
    await completedJob(periods, closePeriodJobId(neverSubscribed.userId, periodStart));

    // Run again by hand, and again once Redis forgot the jobs: the month is already reported.
    await ticks.runTick(
      CRON.monthlyBilling,
      new Date(tick.getTime() + 3_600_000),
      'manual',
      handler,
    );
    await periods.clean(0, 1_000, 'completed');
    await ticks.runTick(
      CRON.monthlyBilling,
      new Date(tick.getTime() + 7_200_000),
      'manual',
      handler,
    );
    const again = await completedJob<ClosePeriod, ClosePeriodResult>(periods, jobId);
    expect(again.returnvalue.result).toBe('already-closed');

    const events = meterEventsOf(paying.customerId);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_name: 'subscribernest_usage_cents',
      identifier: meterEventIdentifier(paying.userId, periodStart),
      payload: { stripe_customer_id: paying.customerId, value: '700' },
    });
    // Dated inside the month it bills.
    const monthEnd = Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1) / 1000;
    expect(events[0].timestamp).toBe(monthEnd - 1);
    expect(await periodOf(paying.userId, periodStart)).toMatchObject({
      status: 'reported',
      amount_cents: 700,
      reported_value: 700,
      meter_event_identifier: meterEventIdentifier(paying.userId, periodStart),
    });
    // Nothing to report for a user Stripe does not know.
    expect(await periodOf(neverSubscribed.userId, periodStart)).toMatchObject({
      status: 'not_invoiced',
      reported_value: null,
    });
  });

  it('a close-period job that failed at Stripe, or after Stripe accepted, is retried into one report', async () => {
    const periodStart = runningMonthStart();
    const stripeDown = await seedSubscriber();
    const writeLost = await seedSubscriber();
    await snapshot(stripeDown.userId, periodStart, 10_001);
    await snapshot(writeLost.userId, periodStart, 1);

    // Stripe answers 500 to every try of the first attempt (the SDK's own retries included).
    fake.failNext(3, 500, '/v1/billing/meter_events');
    const repository = worker.app.get(BillingPeriodRepository);
    const markReported = repository.markReported.bind(repository);
    let lostWrites = 0;
    // For the second user Stripe accepts, but the worker dies before recording it.
    const spy = jest.spyOn(repository, 'markReported').mockImplementation(async (id, ...rest) => {
      const [row] = await sql.query<{ user_id: string }[]>(
        'SELECT user_id FROM billing_periods WHERE id = $1',
        [id],
      );
      if (row.user_id === writeLost.userId && lostWrites++ === 0) {
        throw new Error('connection terminated (simulated)');
      }
      return markReported(id, ...rest);
    });
    try {
      for (const user of [stripeDown, writeLost]) {
        const job = await closeWithRetries(user.userId, periodStart);
        expect(job.attemptsMade).toBe(2);
        expect(job.returnvalue.status).toBe('reported');
        expect(meterEventsOf(user.customerId)).toHaveLength(1);
      }
    } finally {
      spy.mockRestore();
    }
    expect(meterEventsOf(stripeDown.customerId)[0].payload.value).toBe('600');
    expect(await periodOf(writeLost.userId, periodStart)).toMatchObject({
      status: 'reported',
      reported_value: 500,
    });
  });

  it('a retried close-period sends Stripe the request it first sent, though the clock and the count moved on', async () => {
    // The month still running (an admin's manual run): its event is dated "now", which moves.
    const periodStart = runningMonthStart();
    const user = await seedSubscriber();
    await snapshot(user.userId, periodStart, 1);

    const repository = worker.app.get(BillingPeriodRepository);
    const markReported = repository.markReported.bind(repository);
    let attempts = 0;
    // Stripe accepts; the worker dies before recording it, in the next second, after a sync has
    // raised the month's count. The retry must neither be refused for a reused key nor bill more.
    const spy = jest.spyOn(repository, 'markReported').mockImplementation(async (...args) => {
      if (attempts++ === 0) {
        await new Promise((resolve) => setTimeout(resolve, 1_050 - (Date.now() % 1_000)));
        await snapshot(user.userId, periodStart, 40_000);
        throw new Error('connection terminated (simulated)');
      }
      return markReported(...args);
    });
    try {
      const job = await closeWithRetries(user.userId, periodStart);
      expect(job.attemptsMade).toBe(2);
      expect(job.returnvalue).toMatchObject({ status: 'reported', amountCents: 500 });
    } finally {
      spy.mockRestore();
    }
    const requests = fake.requests.filter(
      (request) =>
        request.path === '/v1/billing/meter_events' &&
        request.idempotencyKey === meterEventIdentifier(user.userId, periodStart),
    );
    expect(requests.map((request) => request.status)).toEqual([200, 200]);
    expect(meterEventsOf(user.customerId)).toHaveLength(1);
    expect(await periodOf(user.userId, periodStart)).toMatchObject({
      status: 'reported',
      amount_cents: 500,
      reported_value: 500,
    });
  });

  it('the midnight sync skips connections of users without a subscription, counted as skipped', async () => {
    const inFuture = nowSeconds() + 10 * DAY_SECONDS;
    const users = {
      active: await seedUser({
        customer: true,
        subscription: { status: 'active', periodEnd: inFuture },
      }),
      none: await seedUser(),
      canceledStillPaid: await seedUser({
        customer: true,
        subscription: { status: 'canceled', periodEnd: inFuture },
      }),
      canceledOver: await seedUser({
        customer: true,
        subscription: { status: 'canceled', periodEnd: nowSeconds() - DAY_SECONDS },
      }),
    };
    for (const { userId } of Object.values(users)) {
      await sql.query(
        `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
         VALUES ($1, 'beehiiv', 'v1.test.not-a-key', 'pub-1')`,
        [userId],
      );
    }
    const result = await worker.app
      .get(SyncSchedulerService)
      .runScheduled(new Date('2033-03-01T00:00:00.050Z'));
    expect(result).toMatchObject({ status: 'completed', outcome: { queued: 2, skipped: 2 } });
    const runs = await sql.query<{ user_id: string }[]>(
      `SELECT user_id FROM sync_runs WHERE trigger = 'scheduled'`,
    );
    expect(runs.map((run) => run.user_id).sort()).toEqual(
      [users.active.userId, users.canceledStillPaid.userId].sort(),
    );
    const [run] = await sql.query<{ queued_count: number; skipped_count: number }[]>(
      `SELECT queued_count, skipped_count FROM cron_runs
        WHERE name = 'midnight-sync' AND tick = '2033-03-01T00:00:00Z'`,
    );
    expect(run).toEqual({ queued_count: 2, skipped_count: 2 });
  });

  it('an account deletion cancels the Stripe subscription before deleting, once', async () => {
    const subscribed = await seedUser({
      customer: true,
      subscription: { status: 'active', periodEnd: nowSeconds() + DAY_SECONDS },
      deleteRequestedDaysAgo: 31,
    });
    const alreadyCanceled = await seedUser({
      customer: true,
      subscription: { status: 'canceled', periodEnd: nowSeconds() - DAY_SECONDS },
      deleteRequestedDaysAgo: 31,
    });
    const results: Record<string, AccountDeletionResult> = {};
    for (const [name, user] of Object.entries({ subscribed, alreadyCanceled })) {
      const [{ at }] = await sql.query<{ at: Date }[]>(
        'SELECT delete_requested_at AS at FROM users WHERE id = $1',
        [user.userId],
      );
      const jobId = deleteAccountJobId(user.userId, at);
      await deletions.add(
        JOB.deleteAccount,
        { userId: user.userId, requestedAt: at.toISOString() },
        { jobId },
      );
      results[name] = (
        await completedJob<DeleteAccount, AccountDeletionResult>(deletions, jobId)
      ).returnvalue;
    }
    expect(results.subscribed).toMatchObject({ result: 'deleted', subscription: 'canceled' });
    expect(results.alreadyCanceled).toMatchObject({
      result: 'deleted',
      subscription: 'already-canceled',
    });
    expect(fake.subscriptions.get(subscribed.subscriptionId ?? '')?.status).toBe('canceled');
    const cancels = fake.requests.filter(
      (request) => request.method === 'DELETE' && request.path.startsWith('/v1/subscriptions/'),
    );
    expect(cancels).toHaveLength(1);
    const [{ n }] = await sql.query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM billing_accounts WHERE user_id = ANY($1::uuid[])',
      [[subscribed.userId, alreadyCanceled.userId]],
    );
    expect(n).toBe(0);
  });
});
