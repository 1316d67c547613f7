import { randomUUID } from 'node:crypto';
import { billingMonthOf } from '@subscribernest/shared';
import {
  FAKE_STRIPE_PRICE_ID,
  FAKE_STRIPE_SECRET_KEY,
  FAKE_STRIPE_WEBHOOK_SECRET,
  FakeStripeServer,
  signStripeWebhook,
} from '@subscribernest/testkit';
import { PinoLogger } from 'nestjs-pino';
import type Stripe from 'stripe';
import { EspTestApi, KEYS, startEspTestApi } from './support/fake-esp-api';
import { insertConnection, insertSubscribers } from './support/subscriber-factory';
import { signIn, SignedIn, TestApi } from './support/test-api';

interface StatusBody {
  hasActiveSubscription: boolean;
  subscription: { id: string; status: string; cancelAtPeriodEnd: boolean } | null;
  currentPeriodEnd: string | null;
  billingEnabled: boolean;
}

interface AccountRow {
  stripe_customer_id: string | null;
  stripe_subscription_id: string | null;
  subscription_status: string | null;
  current_period_end: Date | null;
  cancel_at_period_end: boolean;
  subscription_event_at: Date | null;
  updated_at: Date;
}

interface EventRow {
  id: string;
  type: string;
  outcome: string;
}

const SECONDS = (date: Date) => Math.floor(date.getTime() / 1000);

describe('billing with Stripe (real app, Postgres, Redis, the fake Stripe and the real SDK)', () => {
  let stripe: FakeStripeServer;
  let harness: EspTestApi;
  let api: TestApi;
  /** Subscribes through checkout; the webhook tests then move their subscription along. */
  let alice: SignedIn;
  /** Never subscribes: the gate's refusals. */
  let bob: SignedIn;
  let aliceSubscriptionId: string;
  /** Every log call's arguments, to check that no payload (no address) is ever logged. */
  const logged: string[] = [];
  /**
   * The `created` time of the next event: each test's events are newer than everything before
   * (the checkout verification stored its state as of "now"), unless a test means otherwise.
   */
  let clock = SECONDS(new Date()) + 60;
  const later = () => (clock += 10);

  const as = (token: string) => ({
    get: (path: string) => api.http().get(path).set('authorization', `Bearer ${token}`),
    post: (path: string, body?: object) => {
      const request = api.http().post(path).set('authorization', `Bearer ${token}`);
      return body === undefined ? request : request.send(body);
    },
  });
  const sql = <T>(query: string, parameters: unknown[] = []) =>
    api.dataSource.query<T>(query, parameters);
  const accountOf = async (userId: string): Promise<AccountRow | undefined> =>
    (await sql<AccountRow[]>(`SELECT * FROM billing_accounts WHERE user_id = $1`, [userId]))[0];
  const eventRow = async (id: string): Promise<EventRow | undefined> =>
    (
      await sql<EventRow[]>(`SELECT id, type, outcome FROM stripe_webhook_events WHERE id = $1`, [
        id,
      ])
    )[0];
  /** Both tables the webhook writes, whole: what "nothing changed" is checked against. */
  const webhookTables = async () => ({
    accounts: await sql(`SELECT * FROM billing_accounts ORDER BY id`),
    events: await sql(`SELECT * FROM stripe_webhook_events ORDER BY id`),
    periods: await sql(`SELECT * FROM billing_periods ORDER BY id`),
  });

  /** Posts `payload` as Stripe would: raw JSON and its signature (unless told otherwise). */
  const deliver = (
    event: Record<string, unknown> | string,
    options: { signature?: string | null; secret?: string } = {},
  ) => {
    const payload = typeof event === 'string' ? event : JSON.stringify(event);
    const signature =
      options.signature === undefined
        ? signStripeWebhook(payload, options.secret ?? FAKE_STRIPE_WEBHOOK_SECRET)
        : options.signature;
    const request = api
      .http()
      .post('/billing/webhook')
      .set('content-type', 'application/json; charset=utf-8');
    if (signature !== null) request.set('stripe-signature', signature);
    return request.send(payload);
  };
  const subscriptionEvent = (
    type: string,
    subscription: Stripe.Subscription,
    options: { id?: string; created?: number } = {},
  ) => stripe.event(type, subscription, { created: options.created ?? later(), id: options.id });

  /** The session checkout created for `userId` (the fake keeps them all). */
  const sessionOf = (userId: string): Stripe.Checkout.Session => {
    const sessions = [...stripe.checkoutSessions.values()].filter(
      (session) => session.client_reference_id === userId,
    );
    const session = sessions.at(-1);
    if (!session) throw new Error(`no checkout session for ${userId}`);
    return session;
  };

  beforeAll(async () => {
    stripe = await FakeStripeServer.start();
    harness = await startEspTestApi({
      env: {
        STRIPE_SECRET_KEY: FAKE_STRIPE_SECRET_KEY,
        STRIPE_API_URL: stripe.url,
        STRIPE_WEBHOOK_SECRET: FAKE_STRIPE_WEBHOOK_SECRET,
        STRIPE_PRICE_ID: FAKE_STRIPE_PRICE_ID,
        BILLING_RETURN_URL: 'https://app.example.com/settings/billing',
      },
    });
    api = harness.api;
    alice = await signIn(api, 'alice@example.com');
    bob = await signIn(api, 'bob@example.com');
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const) {
      const original = PinoLogger.prototype[level];
      jest.spyOn(PinoLogger.prototype, level).mockImplementation(function (
        this: PinoLogger,
        ...args: unknown[]
      ) {
        logged.push(JSON.stringify(args));
        return (original as (...a: unknown[]) => void).apply(this, args);
      });
    }
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await harness?.close();
    await stripe?.stop();
  });

  describe('before any checkout', () => {
    it('GET /billing/status: enabled, not subscribed, nothing to show', async () => {
      expect((await as(bob.token).get('/billing/status').expect(200)).body).toEqual({
        hasActiveSubscription: false,
        subscription: null,
        currentPeriodEnd: null,
        billingEnabled: true,
      });
    });

    it('GET /billing/usage and /billing/history?limit=12 keep their shapes, new statuses included', async () => {
      const month = billingMonthOf(new Date());
      expect((await as(bob.token).get('/billing/usage').expect(200)).body).toEqual({
        maxSubscriberCount: 0,
        calculatedAmount: 0,
        billingPeriodStart: month.start.toISOString(),
        billingPeriodEnd: month.end.toISOString(),
      });
      await sql(
        `INSERT INTO billing_periods
           (user_id, period_start, period_end, max_subscriber_count, amount_cents, status)
         VALUES ($1, '2026-01-01', '2026-02-01', 12000, 600, 'reported'),
                ($1, '2025-12-01', '2026-01-01', 0, 0, 'not_invoiced')`,
        [bob.user.id],
      );
      const rows = (await as(bob.token).get('/billing/history?limit=12').expect(200)).body as {
        status: string;
      }[];
      expect(rows).toEqual([
        {
          id: expect.any(String),
          billingPeriodStart: '2026-01-01T00:00:00.000Z',
          billingPeriodEnd: '2026-02-01T00:00:00.000Z',
          maxSubscriberCount: 12_000,
          calculatedAmount: 6,
          status: 'reported',
          stripeInvoiceId: null,
        },
        expect.objectContaining({ status: 'not_invoiced', calculatedAmount: 0 }),
      ]);
    });

    it('POST /billing/create-portal-session answers 409 without a Stripe customer', async () => {
      const response = await as(bob.token).post('/billing/create-portal-session').expect(409);
      expect(response.body.message).toMatch(/no Stripe customer yet/);
    });
  });

  describe('the subscription gate without a subscription', () => {
    it('answers 402 on creating a connection, naming how to subscribe, and creates nothing', async () => {
      const response = await as(bob.token)
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: KEYS.beehiivOther,
          publicationId: 'pub_bob',
        })
        .expect(402);
      expect(response.body).toEqual({
        statusCode: 402,
        message:
          'An active subscription is required to connect an ESP; subscribe at POST /billing/create-checkout-session',
        error: 'Payment Required',
      });
      expect(await sql(`SELECT id FROM esp_connections WHERE user_id = $1`, [bob.user.id])).toEqual(
        [],
      );
    });

    it('answers 402 on a manual sync and queues nothing; reads and exports stay open', async () => {
      const connectionId = await insertConnection(api, bob.user.id);
      await insertSubscribers(api, connectionId, [{ email: 'reader@example.com' }]);
      const response = await as(bob.token)
        .post(`/esp-connections/${connectionId}/sync`)
        .expect(402);
      expect(response.body.message).toBe(
        'An active subscription is required to sync a connection; subscribe at POST /billing/create-checkout-session',
      );
      expect(
        await sql(`SELECT id FROM sync_runs WHERE esp_connection_id = $1`, [connectionId]),
      ).toEqual([]);

      await as(bob.token).get('/esp-connections').expect(200);
      await as(bob.token).get(`/esp-connections/${connectionId}/subscribers`).expect(200);
      const csv = await as(bob.token)
        .get(`/esp-connections/${connectionId}/subscribers/export?format=csv`)
        .expect(200);
      expect(csv.text).toContain('reader@example.com');
    });

    it('documents the 402 on exactly the two gated routes', async () => {
      const document = (await api.http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      };
      const gated = Object.entries(document.paths).flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([, operation]) => operation.responses?.['402'])
          .map(([method]) => `${method} ${path}`),
      );
      expect(gated.sort()).toEqual(['post /esp-connections', 'post /esp-connections/{id}/sync']);
    });
  });

  describe('checkout', () => {
    it('creates the Stripe customer once and a subscription Checkout Session', async () => {
      const response = await as(alice.token).post('/billing/create-checkout-session').expect(200);
      const { url } = response.body as { url: string };
      expect(url).toMatch(/^http/);

      const account = await accountOf(alice.user.id);
      expect(account?.stripe_customer_id).toMatch(/^cus_/);
      const customer = stripe.customers.get(account!.stripe_customer_id!);
      expect(customer).toMatchObject({
        email: 'alice@example.com',
        metadata: { userId: alice.user.id },
      });
      const create = stripe.requests.find(
        (request) => request.method === 'POST' && request.path === '/v1/customers',
      );
      expect(create?.idempotencyKey).toBe(`customer:${alice.user.id}`);

      const session = sessionOf(alice.user.id);
      expect(session).toMatchObject({
        mode: 'subscription',
        customer: account!.stripe_customer_id,
        client_reference_id: alice.user.id,
        metadata: { userId: alice.user.id },
        success_url: 'https://app.example.com/settings/billing?session_id={CHECKOUT_SESSION_ID}',
        cancel_url: 'https://app.example.com/settings/billing',
        url,
      });

      // Again: the same customer, a new session.
      await as(alice.token).post('/billing/create-checkout-session').expect(200);
      expect(stripe.customers.size).toBe(1);
      expect((await accountOf(alice.user.id))?.stripe_customer_id).toBe(customer!.id);
    });

    it('gives racing first checkouts one customer and one row', async () => {
      const carol = await signIn(api, 'carol-race@example.com');
      const before = stripe.customers.size;
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => as(carol.token).post('/billing/create-checkout-session')),
      );
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      expect(stripe.customers.size).toBe(before + 1);
      const rows = await sql<{ stripe_customer_id: string }[]>(
        `SELECT stripe_customer_id FROM billing_accounts WHERE user_id = $1`,
        [carol.user.id],
      );
      expect(rows).toHaveLength(1);
      expect(
        [...stripe.checkoutSessions.values()]
          .filter((session) => session.client_reference_id === carol.user.id)
          .every((session) => session.customer === rows[0].stripe_customer_id),
      ).toBe(true);
    });

    it('verify-checkout-session: 400 for a malformed id, 404 for an unknown one or another account’s', async () => {
      for (const sessionId of ['', 'sub_123', 'cs_', 'cs_test_a b', 42, null]) {
        const response = await as(alice.token)
          .post('/billing/verify-checkout-session', { sessionId })
          .expect(400);
        expect(JSON.stringify(response.body.message)).toContain('sessionId');
      }
      await as(alice.token)
        .post('/billing/verify-checkout-session', { sessionId: 'cs_test_doesnotexist' })
        .expect(404);
      const response = await as(bob.token)
        .post('/billing/verify-checkout-session', { sessionId: sessionOf(alice.user.id).id })
        .expect(404);
      expect(response.body.message).toBe('No such checkout session for this account');
    });

    it('verify before payment changes nothing; after payment the subscription is active', async () => {
      const session = sessionOf(alice.user.id);
      const open = await as(alice.token)
        .post('/billing/verify-checkout-session', { sessionId: session.id })
        .expect(200);
      expect(open.body).toEqual({
        hasActiveSubscription: false,
        subscription: null,
        currentPeriodEnd: null,
        billingEnabled: true,
      });

      const periodEnd = SECONDS(new Date()) + 30 * 24 * 3600;
      const subscription = stripe.completeCheckoutSession(session.id, { periodEnd });
      aliceSubscriptionId = subscription.id;
      const verified = await as(alice.token)
        .post('/billing/verify-checkout-session', { sessionId: session.id })
        .expect(200);
      const expected: StatusBody = {
        hasActiveSubscription: true,
        subscription: { id: subscription.id, status: 'active', cancelAtPeriodEnd: false },
        currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
        billingEnabled: true,
      };
      expect(verified.body).toEqual(expected);
      expect((await as(alice.token).get('/billing/status').expect(200)).body).toEqual(expected);
      const account = await accountOf(alice.user.id);
      // Stored as read live: as of about now.
      expect(Math.abs(account!.subscription_event_at!.getTime() - Date.now())).toBeLessThan(10_000);
    });

    it('answers 409 to a second checkout once subscribed; the portal gives a URL', async () => {
      const conflict = await as(alice.token).post('/billing/create-checkout-session').expect(409);
      expect(conflict.body.message).toMatch(/already has an active subscription/);
      const portal = await as(alice.token).post('/billing/create-portal-session').expect(200);
      expect((portal.body as { url: string }).url).toMatch(/^http/);
      const session = [...stripe.billingPortalSessions.values()].at(-1);
      expect(session).toMatchObject({
        customer: (await accountOf(alice.user.id))!.stripe_customer_id,
        return_url: 'https://app.example.com/settings/billing',
      });
    });

    it('answers 502 when Stripe keeps failing, and stores nothing', async () => {
      const dave = await signIn(api, 'dave-outage@example.com');
      // The SDK tries three times (maxNetworkRetries: 2).
      stripe.failNext(3, 500, '/v1/customers');
      const response = await as(dave.token).post('/billing/create-checkout-session').expect(502);
      expect(response.body.message).toMatch(/^Stripe refused the request \(HTTP 500/);
      expect(await accountOf(dave.user.id)).toBeUndefined();
      const failed = stripe.requests.filter(
        (request) => request.path === '/v1/customers' && request.status === 500,
      );
      expect(failed).toHaveLength(3);
    });
  });

  describe('the subscription gate with a subscription', () => {
    it('lets the subscriber connect an ESP (201) and sync it (202)', async () => {
      const created = await as(alice.token)
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: KEYS.beehiiv,
          publicationId: 'pub_weekly',
        })
        .expect(201);
      await as(alice.token)
        .post(`/esp-connections/${(created.body as { id: string }).id}/sync`)
        .expect(202);
    });
  });

  describe('POST /billing/webhook', () => {
    it('answers 400 to a missing, malformed or wrong signature and to a tampered body, changing nothing', async () => {
      const before = await webhookTables();
      const subscription = stripe.subscriptions.get(aliceSubscriptionId)!;
      const event = subscriptionEvent('customer.subscription.deleted', {
        ...subscription,
        status: 'canceled',
      });
      const payload = JSON.stringify(event);
      const signed = signStripeWebhook(payload, FAKE_STRIPE_WEBHOOK_SECRET);
      const answers = [
        await deliver(event, { signature: null }),
        await deliver(event, { signature: 'garbage' }),
        await deliver(event, { signature: '' }),
        await deliver(event, { secret: 'whsec_someone_else' }),
        // Signed five minutes and more ago: a replay Stripe's tolerance refuses.
        await deliver(event, {
          signature: signStripeWebhook(
            payload,
            FAKE_STRIPE_WEBHOOK_SECRET,
            SECONDS(new Date()) - 600,
          ),
        }),
        await deliver(payload.replace('"canceled"', '"active"'), { signature: signed }),
        // The same bytes, but re-serialised (spaces): the signature covers the exact bytes.
        await deliver(JSON.stringify(event, null, 2), { signature: signed }),
      ];
      for (const answer of answers) {
        expect(answer.status).toBe(400);
        expect(answer.body.message).toMatch(/Stripe-Signature/);
      }
      expect(await webhookTables()).toEqual(before);
    });

    it('answers 4xx to junk: not JSON, not a JSON content type, an empty body', async () => {
      const before = await webhookTables();
      const junk = [
        await api
          .http()
          .post('/billing/webhook')
          .set('content-type', 'application/json')
          .set('stripe-signature', 't=1,v1=00')
          .send('{"id":'),
        await api
          .http()
          .post('/billing/webhook')
          .set('content-type', 'text/plain')
          .set('stripe-signature', signStripeWebhook('{}', FAKE_STRIPE_WEBHOOK_SECRET))
          .send('{}'),
        await api.http().post('/billing/webhook').set('stripe-signature', 't=1,v1=00'),
        await api
          .http()
          .post('/billing/webhook')
          .set('content-type', 'application/json')
          .set('stripe-signature', signStripeWebhook('[]', FAKE_STRIPE_WEBHOOK_SECRET))
          .send('[]'),
      ];
      for (const answer of junk) {
        expect(answer.status).toBe(400);
        expect(typeof answer.body.message).toBe('string');
      }
      expect(await webhookTables()).toEqual(before);
    });

    it('applies a valid customer.subscription.updated', async () => {
      const subscription = stripe.updateSubscription(aliceSubscriptionId, {
        cancelAtPeriodEnd: true,
      });
      const event = subscriptionEvent('customer.subscription.updated', subscription);
      const response = await deliver(event).expect(200);
      expect(response.body).toEqual({ received: true, duplicate: false, outcome: 'applied' });
      expect((await as(alice.token).get('/billing/status').expect(200)).body).toMatchObject({
        hasActiveSubscription: true,
        subscription: { id: aliceSubscriptionId, status: 'active', cancelAtPeriodEnd: true },
      });
      expect(await eventRow(event.id as string)).toEqual({
        id: event.id,
        type: 'customer.subscription.updated',
        outcome: 'applied',
      });
      expect((await accountOf(alice.user.id))!.subscription_event_at).toEqual(
        new Date((event.created as number) * 1000),
      );
    });

    it('answers a replayed event as a duplicate and changes nothing twice', async () => {
      const subscription = stripe.subscriptions.get(aliceSubscriptionId)!;
      const event = subscriptionEvent('customer.subscription.updated', subscription);
      await deliver(event).expect(200);
      // A write in between that a re-applied replay would overwrite (no event time to lose to).
      await sql(
        `UPDATE billing_accounts SET cancel_at_period_end = false, subscription_event_at = NULL
          WHERE user_id = $1`,
        [alice.user.id],
      );
      const before = await webhookTables();
      const again = await deliver(event).expect(200);
      expect(again.body).toEqual({ received: true, duplicate: true });
      expect(await webhookTables()).toEqual(before);
      expect(
        await sql(`SELECT count(*)::int AS n FROM stripe_webhook_events WHERE id = $1`, [event.id]),
      ).toEqual([{ n: 1 }]);
      // Put the row back as the first delivery left it.
      await deliver(subscriptionEvent('customer.subscription.updated', subscription)).expect(200);
    });

    it('applies each event once when deliveries race', async () => {
      const subscription = stripe.subscriptions.get(aliceSubscriptionId)!;
      const event = subscriptionEvent('customer.subscription.updated', subscription);
      const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(event)));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
      const bodies = answers.map((answer) => answer.body as { duplicate: boolean });
      expect(bodies.filter((body) => !body.duplicate)).toHaveLength(1);
    });

    it('changes nothing for an event older than the state stored (outcome stale)', async () => {
      const newer = subscriptionEvent(
        'customer.subscription.updated',
        stripe.updateSubscription(aliceSubscriptionId, { status: 'past_due' }),
      );
      const olderCreated = (newer.created as number) - 5;
      const older = subscriptionEvent(
        'customer.subscription.updated',
        stripe.updateSubscription(aliceSubscriptionId, { status: 'active' }),
        { created: olderCreated },
      );
      await deliver(newer).expect(200);
      const before = await accountOf(alice.user.id);
      expect(before?.subscription_status).toBe('past_due');
      const response = await deliver(older).expect(200);
      expect(response.body).toEqual({ received: true, duplicate: false, outcome: 'stale' });
      expect(await accountOf(alice.user.id)).toEqual(before);
      expect(await eventRow(older.id as string)).toMatchObject({ outcome: 'stale' });
    });

    it('ignores customer.subscription.deleted for a subscription that is not the stored one', async () => {
      const before = await accountOf(alice.user.id);
      const other = {
        ...stripe.subscriptions.get(aliceSubscriptionId)!,
        id: 'sub_someoneelse0000000000',
        status: 'canceled' as const,
      };
      const response = await deliver(subscriptionEvent('customer.subscription.deleted', other));
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ outcome: 'other_subscription' });
      expect(await accountOf(alice.user.id)).toEqual(before);
    });

    it('records an unknown event type as ignored', async () => {
      const event = stripe.event('customer.created', { id: 'cus_x', object: 'customer' });
      expect((await deliver(event).expect(200)).body).toEqual({
        received: true,
        duplicate: false,
        outcome: 'ignored',
      });
      expect(await eventRow(event.id as string)).toMatchObject({ outcome: 'ignored' });
    });

    it('keeps nothing when applying fails, so that Stripe’s retry applies the event', async () => {
      const subscription = stripe.updateSubscription(aliceSubscriptionId, { status: 'active' });
      const event = subscriptionEvent('customer.subscription.updated', {
        ...subscription,
        // Longer than the column holds: the write fails inside the transaction.
        status: 'x'.repeat(40),
      });
      const before = await webhookTables();
      const failed = await deliver(event);
      expect(failed.status).toBeGreaterThanOrEqual(400);
      expect(await webhookTables()).toEqual(before);
      expect(await eventRow(event.id as string)).toBeUndefined();

      // Stripe's retry, this time with a state we can store: the same event id applies.
      const retried = { ...event, data: { object: JSON.parse(JSON.stringify(subscription)) } };
      expect((await deliver(retried).expect(200)).body).toMatchObject({ outcome: 'applied' });
      expect((await accountOf(alice.user.id))?.subscription_status).toBe('active');
    });

    it('creates the account of a subscription whose customer has no row, from metadata.userId', async () => {
      const erin = await signIn(api, 'erin-webhook@example.com');
      const periodEnd = SECONDS(new Date()) + 3600;
      const subscription = {
        ...stripe.subscriptions.get(aliceSubscriptionId)!,
        id: 'sub_erin000000000000000000',
        customer: 'cus_erin00000000',
        status: 'trialing' as const,
        cancel_at_period_end: false,
        metadata: { userId: erin.user.id },
      };
      subscription.items = {
        ...subscription.items,
        data: subscription.items.data.map((item) => ({ ...item, current_period_end: periodEnd })),
      };
      const response = await deliver(
        subscriptionEvent('customer.subscription.created', subscription),
      );
      expect(response.body).toMatchObject({ outcome: 'applied' });
      expect((await as(erin.token).get('/billing/status').expect(200)).body).toEqual({
        hasActiveSubscription: true,
        subscription: {
          id: 'sub_erin000000000000000000',
          status: 'trialing',
          cancelAtPeriodEnd: false,
        },
        currentPeriodEnd: new Date(periodEnd * 1000).toISOString(),
        billingEnabled: true,
      });
      expect((await accountOf(erin.user.id))?.stripe_customer_id).toBe('cus_erin00000000');

      // A customer no row has, for a user that does not exist (or no user at all): recorded only.
      const strays: Stripe.Metadata[] = [{ userId: randomUUID() }, { userId: 'not-a-uuid' }, {}];
      for (const metadata of strays) {
        const stray = { ...subscription, customer: `cus_${randomUUID().slice(0, 8)}`, metadata };
        const answer = await deliver(subscriptionEvent('customer.subscription.created', stray));
        expect(answer.body).toMatchObject({ outcome: 'unknown_customer' });
      }
    });

    it('customer.subscription.deleted: canceled, still entitled until the period ends, then 402', async () => {
      const subscription = stripe.updateSubscription(aliceSubscriptionId, { status: 'canceled' });
      const response = await deliver(
        subscriptionEvent('customer.subscription.deleted', subscription),
      );
      expect(response.body).toMatchObject({ outcome: 'applied' });
      const status = (await as(alice.token).get('/billing/status').expect(200)).body as StatusBody;
      expect(status).toMatchObject({
        hasActiveSubscription: true,
        subscription: { id: aliceSubscriptionId, status: 'canceled' },
      });
      expect(new Date(status.currentPeriodEnd!).getTime()).toBeGreaterThan(Date.now());
      const [connection] = await sql<{ id: string }[]>(
        `SELECT id FROM esp_connections WHERE user_id = $1`,
        [alice.user.id],
      );
      await as(alice.token).post(`/esp-connections/${connection.id}/sync`).expect(202);

      // The paid period ends (time passes).
      await sql(
        `UPDATE billing_accounts SET current_period_end = now() - interval '1 minute'
          WHERE user_id = $1`,
        [alice.user.id],
      );
      expect((await as(alice.token).get('/billing/status').expect(200)).body).toMatchObject({
        hasActiveSubscription: false,
        subscription: { status: 'canceled' },
      });
      await as(alice.token).post(`/esp-connections/${connection.id}/sync`).expect(402);
      await as(alice.token)
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: KEYS.beehiiv,
          publicationId: 'pub_daily',
        })
        .expect(402);
      // The owner can still take their data out.
      await as(alice.token).get(`/esp-connections/${connection.id}/subscribers`).expect(200);
      await as(alice.token)
        .get(`/esp-connections/${connection.id}/subscribers/export?format=csv`)
        .expect(200);
      // And may subscribe again.
      await as(alice.token).post('/billing/create-checkout-session').expect(200);
    });

    describe('invoice.paid / invoice.payment_failed', () => {
      let customerId: string;
      const periodIds: Record<string, string> = {};
      const invoice = (id: string, fields: Partial<Stripe.Invoice> = {}) => ({
        id,
        object: 'invoice',
        customer: customerId,
        billing_reason: 'subscription_cycle',
        status: 'paid',
        amount_due: 600,
        ...fields,
      });
      const periodRow = async (month: string) =>
        (
          await sql<
            { status: string; stripe_invoice_id: string | null; invoice_event_at: Date | null }[]
          >(
            `SELECT status, stripe_invoice_id, invoice_event_at FROM billing_periods WHERE id = $1`,
            [periodIds[month]],
          )
        )[0];

      beforeAll(async () => {
        customerId = (await accountOf(alice.user.id))!.stripe_customer_id!;
        for (const [month, status, invoiceId] of [
          ['2025-11', 'paid', 'in_november'],
          ['2025-12', 'reported', null],
          ['2026-01', 'reported', null],
          ['2026-02', 'not_invoiced', null],
        ] as const) {
          const [row] = await sql<{ id: string }[]>(
            `INSERT INTO billing_periods
               (user_id, period_start, period_end, max_subscriber_count, amount_cents, status,
                stripe_invoice_id)
             VALUES ($1, $2::date, $2::date + interval '1 month', 12000, 600, $3, $4)
             RETURNING id`,
            [alice.user.id, `${month}-01`, status, invoiceId],
          );
          periodIds[month] = row.id;
        }
      });

      it('marks the newest reported month without an invoice paid, with the invoice id', async () => {
        const event = stripe.event('invoice.paid', invoice('in_january'), { created: later() });
        expect((await deliver(event).expect(200)).body).toMatchObject({ outcome: 'applied' });
        expect(await periodRow('2026-01')).toEqual({
          status: 'paid',
          stripe_invoice_id: 'in_january',
          invoice_event_at: new Date((event.created as number) * 1000),
        });
        expect((await periodRow('2025-12')).status).toBe('reported');
        expect((await periodRow('2026-02')).status).toBe('not_invoiced');
      });

      it('marks the next one failed, then paid when the retried payment succeeds', async () => {
        const failed = stripe.event(
          'invoice.payment_failed',
          invoice('in_december', { status: 'open' }),
          {
            created: later(),
          },
        );
        expect((await deliver(failed).expect(200)).body).toMatchObject({ outcome: 'applied' });
        expect(await periodRow('2025-12')).toMatchObject({
          status: 'failed',
          stripe_invoice_id: 'in_december',
        });
        const paid = stripe.event('invoice.paid', invoice('in_december'), { created: later() });
        await deliver(paid).expect(200);
        expect(await periodRow('2025-12')).toMatchObject({
          status: 'paid',
          stripe_invoice_id: 'in_december',
        });
      });

      it('changes nothing for an invoice event older than the one applied', async () => {
        const before = await periodRow('2025-12');
        const stale = stripe.event('invoice.payment_failed', invoice('in_december'), {
          created: SECONDS(before.invoice_event_at!) - 30,
        });
        expect((await deliver(stale).expect(200)).body).toMatchObject({ outcome: 'stale' });
        expect(await periodRow('2025-12')).toEqual(before);
      });

      it('attaches no month to an invoice it cannot place', async () => {
        const before = await webhookTables();
        // The $0 invoice Stripe raises when a subscription starts, and an unknown customer's.
        const start = stripe.event(
          'invoice.paid',
          invoice('in_start', { billing_reason: 'subscription_create', amount_due: 0 }),
        );
        expect((await deliver(start).expect(200)).body).toMatchObject({ outcome: 'no_period' });
        const stranger = stripe.event('invoice.paid', {
          ...invoice('in_x'),
          customer: 'cus_nobody',
        });
        expect((await deliver(stranger).expect(200)).body).toMatchObject({
          outcome: 'unknown_customer',
        });
        const after = await webhookTables();
        expect(after.periods).toEqual(before.periods);
        expect(after.accounts).toEqual(before.accounts);
      });

      it('shows the outcomes in GET /billing/history?limit=12', async () => {
        const rows = (await as(alice.token).get('/billing/history?limit=12').expect(200)).body as {
          billingPeriodStart: string;
          status: string;
          stripeInvoiceId: string | null;
        }[];
        expect(
          rows.map((row) => [row.billingPeriodStart.slice(0, 7), row.status, row.stripeInvoiceId]),
        ).toEqual([
          ['2026-02', 'not_invoiced', null],
          ['2026-01', 'paid', 'in_january'],
          ['2025-12', 'paid', 'in_december'],
          ['2025-11', 'paid', 'in_november'],
        ]);
      });
    });

    it('never logged a payload: ids, types and outcomes only', () => {
      const webhookLines = logged.filter((line) => line.includes('Stripe webhook'));
      expect(webhookLines.length).toBeGreaterThan(10);
      expect(webhookLines.some((line) => line.includes('"outcome":"applied"'))).toBe(true);
      for (const line of logged) {
        expect(line).not.toMatch(/@example\.com/);
        expect(line).not.toContain(FAKE_STRIPE_WEBHOOK_SECRET);
        expect(line).not.toContain(FAKE_STRIPE_SECRET_KEY);
      }
    });
  });
});
