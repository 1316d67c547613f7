import Stripe from 'stripe';
import {
  FAKE_STRIPE_PRICE_ID,
  FAKE_STRIPE_SECRET_KEY,
  FAKE_STRIPE_WEBHOOK_SECRET,
  FakeStripeServer,
  signStripeWebhook,
} from './index';

const nowSeconds = () => Math.floor(Date.now() / 1000);
const DAY = 24 * 3600;

/** The error a Stripe call failed with (the test fails if it succeeded or threw something else). */
async function stripeError(call: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) return error;
    throw error;
  }
  throw new Error('expected the Stripe call to fail');
}

describe('FakeStripeServer (the real stripe SDK over HTTP)', () => {
  let fake: FakeStripeServer;
  let stripe: Stripe;

  beforeAll(async () => {
    fake = await FakeStripeServer.start();
    stripe = new Stripe(FAKE_STRIPE_SECRET_KEY, { ...fake.clientOptions() });
  });

  afterAll(async () => {
    await fake?.stop();
  });

  beforeEach(() => fake.reset());

  const raw = (method: string, path: string, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${fake.url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${FAKE_STRIPE_SECRET_KEY}`,
        'Content-Type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      body,
    });

  const customer = (email = 'jane@example.test') =>
    stripe.customers.create({ email, name: 'Jane', metadata: { userId: 'user-1' } });

  const checkout = (customerId: string, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
    stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customerId,
      line_items: [{ price: FAKE_STRIPE_PRICE_ID }],
      success_url: 'https://app.example.test/billing/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://app.example.test/billing/cancel',
      client_reference_id: 'user-1',
      metadata: { userId: 'user-1' },
      ...extra,
    });

  /** A customer with an active subscription, through Checkout. */
  const subscribed = async (
    options?: Parameters<FakeStripeServer['completeCheckoutSession']>[1],
  ) => {
    const { id: customerId } = await customer();
    const session = await checkout(customerId);
    const subscription = fake.completeCheckoutSession(session.id, options);
    return { customerId, session, subscription };
  };

  describe('the server', () => {
    it('listens on 127.0.0.1 and gives the SDK options to reach it', () => {
      expect(fake.url).toBe(`http://127.0.0.1:${fake.port}`);
      expect(fake.clientOptions()).toEqual({
        host: '127.0.0.1',
        port: fake.port,
        protocol: 'http',
        maxNetworkRetries: 0,
      });
    });

    it('answers with a Request-Id and the API version, and records every request', async () => {
      const created = await customer();
      expect(created.lastResponse.requestId).toMatch(/^req_[0-9A-Za-z]{14}$/);
      expect(created.lastResponse.apiVersion).toBe(Stripe.API_VERSION);
      await stripe.customers.retrieve(created.id);

      expect(fake.requests).toEqual([
        {
          method: 'POST',
          path: '/v1/customers',
          idempotencyKey: expect.stringMatching(/^stripe-node-retry-/),
          status: 200,
        },
        { method: 'GET', path: `/v1/customers/${created.id}`, idempotencyKey: null, status: 200 },
      ]);
    });

    it('refuses a missing or non-test API key with 401', async () => {
      const live = new Stripe('sk_live_0123456789abcdef', { ...fake.clientOptions() });
      const error = await stripeError(live.customers.create({ email: 'a@example.test' }));
      expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
      expect(error).toMatchObject({ statusCode: 401, rawType: 'invalid_request_error' });
      expect(error.message).toBe('Invalid API Key provided: sk_live_************cdef');

      const missing = await fetch(`${fake.url}/v1/customers`, { method: 'POST' });
      expect(missing.status).toBe(401);
      expect(missing.headers.get('request-id')).toMatch(/^req_/);
      const body = (await missing.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toMatch(/^You did not provide an API key/);

      // curl -u sk_test_...: works as with Stripe.
      const basic = await fetch(`${fake.url}/v1/customers`, {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(`${FAKE_STRIPE_SECRET_KEY}:`).toString('base64')}`,
        },
      });
      expect(basic.status).toBe(200);
      expect(fake.customers.size).toBe(1);
    });

    it('answers an unknown URL with 404 invalid_request_error', async () => {
      const response = await raw('GET', '/v1/unknown_things/x');
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: {
          type: 'invalid_request_error',
          message: expect.stringContaining('Unrecognized request URL (GET: /v1/unknown_things/x)'),
        },
      });
    });

    it('reset() forgets objects, requests, idempotency keys and queued failures', async () => {
      await customer();
      await stripe.customers.create({ email: 'k@example.test' }, { idempotencyKey: 'key-1' });
      fake.failNext(5, 500);
      fake.reset();

      expect(fake.customers.size).toBe(0);
      expect(fake.requests).toEqual([]);
      // The key is new again and no failure is left.
      const again = await stripe.customers.create(
        { email: 'other@example.test' },
        { idempotencyKey: 'key-1' },
      );
      expect(again.email).toBe('other@example.test');
      expect(fake.customers.size).toBe(1);
    });
  });

  describe('customers', () => {
    it('creates one with email, name and metadata, and retrieves it', async () => {
      const created = await customer();
      expect(created).toMatchObject({
        id: expect.stringMatching(/^cus_[0-9A-Za-z]{14}$/),
        object: 'customer',
        email: 'jane@example.test',
        name: 'Jane',
        metadata: { userId: 'user-1' },
        livemode: false,
        balance: 0,
        created: expect.any(Number),
      });
      expect(fake.customers.get(created.id)).toMatchObject({ email: 'jane@example.test' });

      const retrieved = await stripe.customers.retrieve(created.id);
      expect(retrieved).toMatchObject({ id: created.id, email: 'jane@example.test' });
    });

    it('answers an unknown id with 404 resource_missing', async () => {
      const error = await stripeError(stripe.customers.retrieve('cus_nope'));
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({
        statusCode: 404,
        rawType: 'invalid_request_error',
        code: 'resource_missing',
        param: 'id',
        message: "No such customer: 'cus_nope'",
      });
    });

    it('refuses an invalid email', async () => {
      const error = await stripeError(stripe.customers.create({ email: 'not-an-email' }));
      expect(error).toMatchObject({ statusCode: 400, param: 'email' });
      expect(fake.customers.size).toBe(0);
    });
  });

  describe('Checkout sessions', () => {
    it('creates an open subscription session', async () => {
      const { id: customerId } = await customer();
      const session = await checkout(customerId);
      expect(session).toMatchObject({
        id: expect.stringMatching(/^cs_test_[0-9A-Za-z]+$/),
        object: 'checkout.session',
        mode: 'subscription',
        status: 'open',
        payment_status: 'unpaid',
        customer: customerId,
        client_reference_id: 'user-1',
        metadata: { userId: 'user-1' },
        success_url: 'https://app.example.test/billing/success?session_id={CHECKOUT_SESSION_ID}',
        cancel_url: 'https://app.example.test/billing/cancel',
        subscription: null,
        livemode: false,
      });
      expect(session.url).toBe(`${fake.url}/pay/${session.id}`);
      expect(session.expires_at).toBeGreaterThan(session.created);
      expect(fake.checkoutSessions.get(session.id)).toMatchObject({ status: 'open' });
    });

    it('creates a payment session with a quantity', async () => {
      const { id: customerId } = await customer();
      const session = await checkout(customerId, {
        mode: 'payment',
        line_items: [{ price: FAKE_STRIPE_PRICE_ID, quantity: 3 }],
      });
      expect(session).toMatchObject({ mode: 'payment', status: 'open' });
      const expanded = await stripe.checkout.sessions.retrieve(session.id, {
        expand: ['line_items'],
      });
      expect(expanded.line_items?.data[0]).toMatchObject({
        quantity: 3,
        price: { id: FAKE_STRIPE_PRICE_ID },
      });
    });

    it.each([
      ['success_url', { success_url: undefined }, 'Missing required param: success_url.'],
      ['mode', { mode: 'setup' as const }, 'Invalid mode: must be one of payment or subscription'],
      ['line_items', { line_items: undefined }, 'Missing required param: line_items.'],
      [
        'line_items[0][price]',
        { line_items: [{ quantity: 1 }] },
        'Missing required param: line_items[0][price].',
      ],
      [
        'line_items[0][price]',
        { line_items: [{ price: 'price_other' }] },
        "No such price: 'price_other'",
      ],
      [
        'line_items[0][quantity]',
        { line_items: [{ price: FAKE_STRIPE_PRICE_ID, quantity: 1 }] },
        expect.stringContaining('Quantity should not be specified where usage_type is `metered`'),
      ],
      ['customer', { customer: 'cus_nope' }, "No such customer: 'cus_nope'"],
    ])('answers 400 naming %s for %j', async (param, extra, message) => {
      const { id: customerId } = await customer();
      const error = await stripeError(checkout(customerId, extra));
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({
        statusCode: 400,
        rawType: 'invalid_request_error',
        param,
        message,
      });
      expect(fake.checkoutSessions.size).toBe(0);
    });

    it('retrieves a session, embedding the subscription, customer or line items on request', async () => {
      const { customerId, session, subscription } = await subscribed();

      const plain = await stripe.checkout.sessions.retrieve(session.id);
      expect(plain).toMatchObject({
        status: 'complete',
        payment_status: 'paid',
        subscription: subscription.id,
        customer: customerId,
      });

      const expanded = await stripe.checkout.sessions.retrieve(session.id, {
        expand: ['subscription', 'customer', 'line_items'],
      });
      expect(expanded.subscription).toMatchObject({
        id: subscription.id,
        object: 'subscription',
        status: 'active',
      });
      expect(expanded.customer).toMatchObject({ id: customerId, object: 'customer' });
      expect(expanded.line_items).toMatchObject({
        object: 'list',
        data: [{ object: 'item', price: { id: FAKE_STRIPE_PRICE_ID }, quantity: null }],
      });
      // The state itself keeps ids.
      expect(fake.checkoutSessions.get(session.id)!.subscription).toBe(subscription.id);
    });

    it('answers an unknown session with 404 and an unknown expansion with 400', async () => {
      await expect(
        stripeError(stripe.checkout.sessions.retrieve('cs_test_nope')),
      ).resolves.toMatchObject({
        statusCode: 404,
        code: 'resource_missing',
        param: 'id',
        message: "No such checkout.session: 'cs_test_nope'",
      });
      const { id: customerId } = await customer();
      const session = await checkout(customerId);
      await expect(
        stripeError(stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] })),
      ).resolves.toMatchObject({ statusCode: 400, param: 'expand' });
    });
  });

  describe('completeCheckoutSession', () => {
    it("subscribes the session's customer to its price for a month and completes the session", async () => {
      const before = nowSeconds();
      const { customerId, session, subscription } = await subscribed();

      expect(subscription).toMatchObject({
        id: expect.stringMatching(/^sub_[0-9A-Za-z]{24}$/),
        object: 'subscription',
        status: 'active',
        customer: customerId,
        cancel_at_period_end: false,
        canceled_at: null,
        ended_at: null,
      });
      const [item] = subscription.items.data;
      expect(subscription.items.data).toHaveLength(1);
      expect(item).toMatchObject({
        id: expect.stringMatching(/^si_/),
        object: 'subscription_item',
        subscription: subscription.id,
        price: {
          id: FAKE_STRIPE_PRICE_ID,
          recurring: { usage_type: 'metered', interval: 'month' },
        },
      });
      expect(item.current_period_start).toBeGreaterThanOrEqual(before);
      const end = new Date(item.current_period_start * 1000);
      end.setUTCMonth(end.getUTCMonth() + 1);
      expect(item.current_period_end).toBe(end.getTime() / 1000);
      expect(fake.subscriptions.get(subscription.id)).toBe(subscription);
      expect(fake.checkoutSessions.get(session.id)).toMatchObject({
        status: 'complete',
        payment_status: 'paid',
        subscription: subscription.id,
      });

      const retrieved = await stripe.subscriptions.retrieve(subscription.id);
      expect(retrieved.items.data[0].current_period_end).toBe(item.current_period_end);
    });

    it('takes the period end and status, and the subscription metadata from subscription_data', async () => {
      const { id: customerId } = await customer();
      const session = await checkout(customerId, {
        subscription_data: { metadata: { userId: 'user-1' } },
      });
      const periodEnd = nowSeconds() + 10 * DAY;
      const subscription = fake.completeCheckoutSession(session.id, {
        periodEnd,
        status: 'past_due',
      });
      expect(subscription).toMatchObject({ status: 'past_due', metadata: { userId: 'user-1' } });
      expect(subscription.items.data[0].current_period_end).toBe(periodEnd);
    });

    it('creates the customer of a session that had only an email', async () => {
      const session = await stripe.checkout.sessions.create({
        mode: 'subscription',
        customer_email: 'new@example.test',
        line_items: [{ price: FAKE_STRIPE_PRICE_ID }],
        success_url: 'https://app.example.test/ok',
      });
      expect(session.customer).toBeNull();
      const subscription = fake.completeCheckoutSession(session.id);
      const customerId = subscription.customer as string;
      expect(fake.customers.get(customerId)).toMatchObject({ email: 'new@example.test' });
      expect(fake.checkoutSessions.get(session.id)!.customer).toBe(customerId);
    });

    it('throws for an unknown, completed or payment-mode session', async () => {
      expect(() => fake.completeCheckoutSession('cs_test_nope')).toThrow(
        'no such checkout session',
      );
      const { session } = await subscribed();
      expect(() => fake.completeCheckoutSession(session.id)).toThrow('is complete');
      const payment = await checkout(session.customer as string, { mode: 'payment' });
      expect(() => fake.completeCheckoutSession(payment.id)).toThrow('payment mode');
    });
  });

  describe('customer portal sessions', () => {
    it('creates one for a customer', async () => {
      const { id: customerId } = await customer();
      const portal = await stripe.billingPortal.sessions.create({
        customer: customerId,
        return_url: 'https://app.example.test/billing',
      });
      expect(portal).toMatchObject({
        id: expect.stringMatching(/^bps_[0-9A-Za-z]{24}$/),
        object: 'billing_portal.session',
        customer: customerId,
        return_url: 'https://app.example.test/billing',
        url: `${fake.url}/p/session/${portal.id}`,
        livemode: false,
      });
      expect(fake.billingPortalSessions.get(portal.id)).toMatchObject({ customer: customerId });
    });

    it('requires a known customer', async () => {
      await expect(
        stripeError(
          // The types require it; a caller without them (or with a bad cast) can still leave it out.
          stripe.billingPortal.sessions.create(JSON.parse('{}') as { customer: string }),
        ),
      ).resolves.toMatchObject({
        statusCode: 400,
        param: 'customer',
        message: 'Missing required param: customer.',
      });
      await expect(
        stripeError(stripe.billingPortal.sessions.create({ customer: 'cus_nope' })),
      ).resolves.toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
    });
  });

  describe('subscriptions', () => {
    it('retrieves one, embedding the customer on request; 404 for an unknown id', async () => {
      const { customerId, subscription } = await subscribed();
      const retrieved = await stripe.subscriptions.retrieve(subscription.id, {
        expand: ['customer'],
      });
      expect(retrieved).toMatchObject({ id: subscription.id, customer: { id: customerId } });

      await expect(stripeError(stripe.subscriptions.retrieve('sub_nope'))).resolves.toMatchObject({
        statusCode: 404,
        code: 'resource_missing',
        param: 'id',
        message: "No such subscription: 'sub_nope'",
      });
    });

    it('updates cancel_at_period_end and metadata', async () => {
      const { subscription } = await subscribed();
      const periodEnd = subscription.items.data[0].current_period_end;

      const updated = await stripe.subscriptions.update(subscription.id, {
        cancel_at_period_end: true,
        metadata: { userId: 'user-1', note: 'x' },
      });
      expect(updated).toMatchObject({
        cancel_at_period_end: true,
        cancel_at: periodEnd,
        status: 'active',
        metadata: { userId: 'user-1', note: 'x' },
      });

      const reverted = await stripe.subscriptions.update(subscription.id, {
        cancel_at_period_end: false,
        metadata: { note: '' },
      });
      expect(reverted).toMatchObject({
        cancel_at_period_end: false,
        cancel_at: null,
        metadata: { userId: 'user-1' },
      });
      expect(fake.subscriptions.get(subscription.id)!.metadata).toEqual({ userId: 'user-1' });
    });

    it('cancels one, once', async () => {
      const { subscription } = await subscribed();
      const before = nowSeconds();
      const canceled = await stripe.subscriptions.cancel(subscription.id);
      expect(canceled).toMatchObject({ id: subscription.id, status: 'canceled' });
      expect(canceled.canceled_at).toBeGreaterThanOrEqual(before);
      expect(canceled.ended_at).toBe(canceled.canceled_at);
      expect(fake.subscriptions.get(subscription.id)!.status).toBe('canceled');

      const again = await stripeError(stripe.subscriptions.cancel(subscription.id));
      expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(again).toMatchObject({
        statusCode: 400,
        rawType: 'invalid_request_error',
        code: 'subscription_already_canceled',
        message: 'This subscription has already been canceled.',
      });
      await expect(
        stripeError(stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true })),
      ).resolves.toMatchObject({ statusCode: 400, param: 'cancel_at_period_end' });
      await expect(stripeError(stripe.subscriptions.cancel('sub_nope'))).resolves.toMatchObject({
        statusCode: 404,
        code: 'resource_missing',
      });
    });
  });

  describe('updateSubscription', () => {
    it('changes status, period end and cancel_at_period_end as Stripe would', async () => {
      const { subscription } = await subscribed();
      const newEnd = nowSeconds() + 40 * DAY;

      fake.updateSubscription(subscription.id, { status: 'past_due', currentPeriodEnd: newEnd });
      let retrieved = await stripe.subscriptions.retrieve(subscription.id);
      expect(retrieved.status).toBe('past_due');
      expect(retrieved.items.data[0].current_period_end).toBe(newEnd);

      const returned = fake.updateSubscription(subscription.id, { cancelAtPeriodEnd: true });
      expect(returned).toMatchObject({ cancel_at_period_end: true, cancel_at: newEnd });

      fake.updateSubscription(subscription.id, { status: 'canceled' });
      retrieved = await stripe.subscriptions.retrieve(subscription.id);
      expect(retrieved.status).toBe('canceled');
      expect(retrieved.canceled_at).toEqual(expect.any(Number));
      expect(retrieved.ended_at).toEqual(expect.any(Number));

      expect(() => fake.updateSubscription('sub_nope', { status: 'active' })).toThrow(
        'no such subscription',
      );
    });
  });

  describe('meter events', () => {
    const event = (
      customerId: string,
      extra: Partial<Stripe.Billing.MeterEventCreateParams> = {},
    ) =>
      stripe.billing.meterEvents.create({
        event_name: 'subscribers',
        payload: { stripe_customer_id: customerId, value: '1234' },
        ...extra,
      });

    it('accepts one and records it', async () => {
      const { id: customerId } = await customer();
      const timestamp = nowSeconds() - 2 * DAY;
      const created = await event(customerId, { identifier: 'user-1:2026-11', timestamp });
      expect(created).toMatchObject({
        object: 'billing.meter_event',
        event_name: 'subscribers',
        identifier: 'user-1:2026-11',
        payload: { stripe_customer_id: customerId, value: '1234' },
        timestamp,
        livemode: false,
        created: expect.any(Number),
      });
      expect(fake.meterEvents).toEqual([
        expect.objectContaining({
          identifier: 'user-1:2026-11',
          event_name: 'subscribers',
          payload: { stripe_customer_id: customerId, value: '1234' },
          timestamp,
          created: created.created,
        }),
      ]);
    });

    it('makes up an identifier and a timestamp when none is given', async () => {
      const { id: customerId } = await customer();
      const before = nowSeconds();
      const created = await event(customerId);
      expect(created.identifier).toMatch(/\S{8,}/);
      expect(created.timestamp).toBeGreaterThanOrEqual(before);
      expect(fake.meterEvents).toHaveLength(1);
    });

    it('refuses a second event with the same identifier and records nothing', async () => {
      const { id: customerId } = await customer();
      await event(customerId, { identifier: 'dup-1' });
      const error = await stripeError(
        event(customerId, {
          identifier: 'dup-1',
          payload: { stripe_customer_id: customerId, value: '9' },
        }),
      );
      expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(error).toMatchObject({
        statusCode: 400,
        rawType: 'invalid_request_error',
        code: 'duplicate_meter_event',
        param: 'identifier',
        message: 'An event with identifier dup-1 already exists.',
      });
      expect(fake.meterEvents).toHaveLength(1);
      expect(fake.meterEvents[0].payload.value).toBe('1234');
    });

    it.each([
      ['event_name', { event_name: '' }],
      ['payload[stripe_customer_id]', { payload: { value: '1' } }],
      ['payload[stripe_customer_id]', { payload: { stripe_customer_id: 'cus_nope', value: '1' } }],
      ['payload[value]', { payload: { stripe_customer_id: '<customer>' } }],
      ['payload[value]', { payload: { stripe_customer_id: '<customer>', value: 'many' } }],
      ['timestamp', { timestamp: nowSeconds() - 36 * DAY }],
      ['timestamp', { timestamp: nowSeconds() + 600 }],
    ])('answers 400 naming %s for %j', async (param, extra) => {
      const { id: customerId } = await customer();
      const params = JSON.parse(
        JSON.stringify(extra).replace('<customer>', customerId),
      ) as Partial<Stripe.Billing.MeterEventCreateParams>;
      const error = await stripeError(event(customerId, params));
      expect(error).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error', param });
      expect(fake.meterEvents).toHaveLength(0);
    });
  });

  describe('idempotency keys', () => {
    it('replay the first answer to the same request, changing nothing', async () => {
      const params = { email: 'idem@example.test' };
      const first = await stripe.customers.create(params, { idempotencyKey: 'create-1' });
      const second = await stripe.customers.create(params, { idempotencyKey: 'create-1' });
      expect(second.id).toBe(first.id);
      expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
      expect(second.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
      expect(fake.customers.size).toBe(1);

      // Byte for byte, status included.
      const body =
        'event_name=e&payload[stripe_customer_id]=' + first.id + '&payload[value]=1&identifier=i-1';
      const a = await raw('POST', '/v1/billing/meter_events', body, {
        'Idempotency-Key': 'meter-1',
      });
      const b = await raw('POST', '/v1/billing/meter_events', body, {
        'Idempotency-Key': 'meter-1',
      });
      expect(b.status).toBe(a.status);
      expect(await b.text()).toBe(await a.text());
      expect(fake.meterEvents).toHaveLength(1);
    });

    it('refuse the same key with other parameters or on another endpoint', async () => {
      await stripe.customers.create({ email: 'a@example.test' }, { idempotencyKey: 'k-1' });
      const error = await stripeError(
        stripe.customers.create({ email: 'b@example.test' }, { idempotencyKey: 'k-1' }),
      );
      expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
      expect(error).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
      expect(error.message).toMatch(
        /^Keys for idempotent requests can only be used with the same parameters they were first used with/,
      );

      const elsewhere = await stripeError(
        stripe.billingPortal.sessions.create({ customer: 'cus_x' }, { idempotencyKey: 'k-1' }),
      );
      expect(elsewhere).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
      expect(fake.customers.size).toBe(1);
    });

    it('cover DELETE too: a repeated cancel replays its success', async () => {
      const { subscription } = await subscribed();
      const first = await stripe.subscriptions.cancel(
        subscription.id,
        {},
        { idempotencyKey: 'cancel-1' },
      );
      const second = await stripe.subscriptions.cancel(
        subscription.id,
        {},
        { idempotencyKey: 'cancel-1' },
      );
      expect(second.canceled_at).toBe(first.canceled_at);
      expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    });

    it('do not keep a parameter validation failure, so the fixed request goes through', async () => {
      const { id: customerId } = await customer();
      await expect(
        stripeError(
          stripe.checkout.sessions.create(
            {
              mode: 'subscription',
              customer: customerId,
              line_items: [{ price: FAKE_STRIPE_PRICE_ID }],
            },
            { idempotencyKey: 'checkout-1' },
          ),
        ),
      ).resolves.toMatchObject({ statusCode: 400, param: 'success_url' });
      const session = await stripe.checkout.sessions.create(
        {
          mode: 'subscription',
          customer: customerId,
          line_items: [{ price: FAKE_STRIPE_PRICE_ID }],
          success_url: 'https://app.example.test/ok',
        },
        { idempotencyKey: 'checkout-1' },
      );
      expect(session.status).toBe('open');
      expect(fake.checkoutSessions.size).toBe(1);
    });
  });

  describe('failNext', () => {
    it('answers the next requests with a Stripe error and changes nothing', async () => {
      fake.failNext(2, 500);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const error = await stripeError(customer());
        expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
        expect(error).toMatchObject({ statusCode: 500, rawType: 'api_error' });
        expect(error.requestId).toMatch(/^req_/);
      }
      expect(fake.customers.size).toBe(0);
      await customer();
      expect(fake.customers.size).toBe(1);
      expect(fake.requests.map((request) => request.status)).toEqual([500, 500, 200]);
    });

    it('fails only the paths under the prefix, with invalid_request_error below 500', async () => {
      const { id: customerId } = await customer();
      fake.failNext(1, 400, '/v1/billing/meter_events');
      await stripe.customers.retrieve(customerId);
      const error = await stripeError(
        stripe.billing.meterEvents.create({
          event_name: 'e',
          payload: { stripe_customer_id: customerId, value: '1' },
        }),
      );
      expect(error).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error' });
      expect(fake.meterEvents).toHaveLength(0);

      fake.failNext(1, 429);
      await expect(stripeError(stripe.customers.retrieve(customerId))).resolves.toBeInstanceOf(
        Stripe.errors.StripeRateLimitError,
      );
    });

    it('is not stored under the idempotency key: the retry with the same key goes through', async () => {
      fake.failNext(1, 503);
      const params = { email: 'retry@example.test' };
      await expect(
        stripeError(stripe.customers.create(params, { idempotencyKey: 'retry-1' })),
      ).resolves.toMatchObject({ statusCode: 503 });
      const created = await stripe.customers.create(params, { idempotencyKey: 'retry-1' });
      expect(created.lastResponse.headers['idempotent-replayed']).toBeUndefined();
      expect(fake.customers.size).toBe(1);
      expect(fake.requests.map((request) => [request.idempotencyKey, request.status])).toEqual([
        ['retry-1', 503],
        ['retry-1', 200],
      ]);
    });

    it('takes 4xx/5xx statuses only', () => {
      expect(() => fake.failNext(1, 200)).toThrow('not a 4xx/5xx');
    });
  });

  describe('event()', () => {
    it('wraps a snapshot of an object in a Stripe Event', async () => {
      const { subscription } = await subscribed();
      const event = fake.event('customer.subscription.updated', subscription);
      expect(event).toEqual({
        id: expect.stringMatching(/^evt_[0-9A-Za-z]{24}$/),
        object: 'event',
        api_version: '2026-10-28.endive',
        created: expect.any(Number),
        data: { object: expect.objectContaining({ id: subscription.id, status: 'active' }) },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type: 'customer.subscription.updated',
      });

      fake.updateSubscription(subscription.id, { status: 'canceled' });
      expect((event.data as { object: { status: string } }).object.status).toBe('active');

      expect(
        fake.event('checkout.session.completed', {}, { id: 'evt_fixed', created: 123 }),
      ).toMatchObject({
        id: 'evt_fixed',
        created: 123,
      });
    });
  });

  describe('signStripeWebhook', () => {
    it("signs as Stripe does: constructEvent accepts it, a tampered payload or another secret doesn't", async () => {
      const { session } = await subscribed();
      const payload = JSON.stringify(
        fake.event('checkout.session.completed', fake.checkoutSessions.get(session.id)!),
      );
      const timestamp = nowSeconds();
      const header = signStripeWebhook(payload, FAKE_STRIPE_WEBHOOK_SECRET, timestamp);
      expect(header).toMatch(new RegExp(`^t=${timestamp},v1=[0-9a-f]{64}$`));
      expect(header).toBe(
        stripe.webhooks.generateTestHeaderString({
          payload,
          secret: FAKE_STRIPE_WEBHOOK_SECRET,
          timestamp,
        }),
      );

      const event = stripe.webhooks.constructEvent(payload, header, FAKE_STRIPE_WEBHOOK_SECRET);
      expect(event).toMatchObject({
        type: 'checkout.session.completed',
        data: { object: { id: session.id } },
      });
      // The default timestamp is now.
      expect(() =>
        stripe.webhooks.constructEvent(
          payload,
          signStripeWebhook(payload, FAKE_STRIPE_WEBHOOK_SECRET),
          FAKE_STRIPE_WEBHOOK_SECRET,
        ),
      ).not.toThrow();

      const tampered = payload.replace('"paid"', '"unpaid"');
      expect(tampered).not.toBe(payload);
      expect(() =>
        stripe.webhooks.constructEvent(tampered, header, FAKE_STRIPE_WEBHOOK_SECRET),
      ).toThrow(Stripe.errors.StripeSignatureVerificationError);
      expect(() => stripe.webhooks.constructEvent(payload, header, 'whsec_other')).toThrow(
        Stripe.errors.StripeSignatureVerificationError,
      );
      const stale = signStripeWebhook(payload, FAKE_STRIPE_WEBHOOK_SECRET, timestamp - 3600);
      expect(() =>
        stripe.webhooks.constructEvent(payload, stale, FAKE_STRIPE_WEBHOOK_SECRET),
      ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    });
  });
});
