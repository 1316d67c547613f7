import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import {
  addMonth,
  buildCheckoutSession,
  buildCustomer,
  buildLineItems,
  buildPortalSession,
  buildPrice,
  buildSubscription,
  CheckoutLineItem,
  isMetered,
  nowSeconds,
  randomId,
} from './fake-stripe-objects';
import {
  FakeStripeError,
  FormParams,
  invalidParam,
  mergeMetadata,
  metadataParam,
  missingParam,
  noSuch,
  objectElement,
  optionalArray,
  optionalBoolean,
  optionalInteger,
  optionalObject,
  optionalString,
  requiredString,
  stringMap,
} from './fake-stripe-params';

/** What `completeCheckoutSession` and `updateSubscription` may set. */
export interface FakeSubscriptionOptions {
  /** End of the first period (default: one calendar month after completion). */
  periodEnd?: number;
  status?: Stripe.Subscription.Status;
}

export interface FakeSubscriptionPatch {
  status?: Stripe.Subscription.Status;
  /** Moves every item's `current_period_start` (say, to the old end when a period renews). */
  currentPeriodStart?: number;
  currentPeriodEnd?: number;
  cancelAtPeriodEnd?: boolean;
}

interface SessionExtras {
  lineItems: CheckoutLineItem[];
  subscriptionMetadata: Record<string, string>;
}

const METER_EVENT_MAX_AGE_SECONDS = 35 * 24 * 3600;
const METER_EVENT_MAX_FUTURE_SECONDS = 5 * 60;

function optionalUrl(params: FormParams, name: string): string | undefined {
  const value = optionalString(params, name);
  if (value === undefined || value === '') return undefined;
  if (!URL.canParse(value)) throw invalidParam(name, 'Not a valid URL');
  return value;
}

/**
 * What the fake Stripe account holds, and the endpoints' logic over it. Every method that takes
 * request parameters validates them as Stripe does (parameter errors before any change).
 */
export class FakeStripeState {
  readonly customers = new Map<string, Stripe.Customer>();
  readonly checkoutSessions = new Map<string, Stripe.Checkout.Session>();
  readonly billingPortalSessions = new Map<string, Stripe.BillingPortal.Session>();
  readonly subscriptions = new Map<string, Stripe.Subscription>();
  /** Accepted meter events, oldest first (never a duplicate identifier). */
  readonly meterEvents: Stripe.Billing.MeterEvent[] = [];
  private readonly prices = new Map<string, Stripe.Price>();
  private readonly sessionExtras = new Map<string, SessionExtras>();
  private readonly meterIdentifiers = new Set<string>();

  constructor(private readonly baseUrl: string) {
    this.reset();
  }

  /** Forgets everything (in place: the maps and arrays handed out stay valid). */
  reset(): void {
    this.customers.clear();
    this.checkoutSessions.clear();
    this.billingPortalSessions.clear();
    this.subscriptions.clear();
    this.meterEvents.length = 0;
    this.sessionExtras.clear();
    this.meterIdentifiers.clear();
    this.prices.clear();
    const price = buildPrice();
    this.prices.set(price.id, price);
  }

  // --- customers ---

  createCustomer(params: FormParams): Stripe.Customer {
    const email = optionalString(params, 'email');
    if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) {
      throw invalidParam('email', `Invalid email address: ${email}`, 'email_invalid');
    }
    const customer = buildCustomer({
      email: email || null,
      name: optionalString(params, 'name') || null,
      description: optionalString(params, 'description') || null,
      phone: optionalString(params, 'phone') || null,
      metadata: mergeMetadata({}, metadataParam(params)),
    });
    this.customers.set(customer.id, customer);
    return customer;
  }

  customer(id: string, param = 'id', status = 404): Stripe.Customer {
    const customer = this.customers.get(id);
    if (!customer) throw noSuch('customer', id, param, status);
    return customer;
  }

  // --- Checkout ---

  createCheckoutSession(params: FormParams): Stripe.Checkout.Session {
    const mode = requiredString(params, 'mode');
    if (mode !== 'subscription' && mode !== 'payment') {
      throw invalidParam('mode', 'Invalid mode: must be one of payment or subscription');
    }
    const successUrl = optionalUrl(params, 'success_url');
    if (!successUrl) throw missingParam('success_url');
    const cancelUrl = optionalUrl(params, 'cancel_url') ?? null;
    const customerId = optionalString(params, 'customer') || null;
    const customerEmail = optionalString(params, 'customer_email') || null;
    if (customerId && customerEmail) {
      throw invalidParam(
        'customer_email',
        'You may only specify one of these parameters: customer, customer_email.',
      );
    }
    const clientReferenceId = optionalString(params, 'client_reference_id') || null;
    if (clientReferenceId && clientReferenceId.length > 200) {
      throw invalidParam(
        'client_reference_id',
        'client_reference_id can be at most 200 characters.',
      );
    }
    const metadata = mergeMetadata({}, metadataParam(params));
    const subscriptionData = optionalObject(params, 'subscription_data');
    if (subscriptionData && mode !== 'subscription') {
      throw invalidParam(
        'subscription_data',
        'You can not pass `subscription_data` in `payment` mode.',
      );
    }
    const subscriptionMetadata = subscriptionData
      ? mergeMetadata({}, metadataParam(subscriptionData, 'metadata'))
      : {};
    const rawItems = optionalArray(params, 'line_items', objectElement);
    if (!rawItems) throw missingParam('line_items');
    const lineItems = rawItems.map((item, index) => this.lineItem(item, index, mode));
    if (customerId) this.customer(customerId, 'customer', 400);

    const id = randomId('cs_test_', 58);
    const session = buildCheckoutSession({
      id,
      url: `${this.baseUrl}/pay/${id}`,
      mode,
      customer: customerId,
      customerEmail,
      successUrl,
      cancelUrl,
      clientReferenceId,
      metadata,
      lineItems,
    });
    this.checkoutSessions.set(id, session);
    this.sessionExtras.set(id, { lineItems, subscriptionMetadata });
    return session;
  }

  private lineItem(item: FormParams, index: number, mode: string): CheckoutLineItem {
    const path = `line_items[${index}]`;
    const priceId = requiredString(item, 'price', `${path}[price]`);
    const quantity = optionalInteger(item, 'quantity', `${path}[quantity]`);
    if (quantity !== undefined && quantity < 1) {
      throw invalidParam(`${path}[quantity]`, 'This value must be greater than or equal to 1.');
    }
    const price = this.prices.get(priceId);
    if (!price) throw noSuch('price', priceId, `${path}[price]`, 400);
    if (mode === 'subscription' && isMetered(price)) {
      if (quantity !== undefined) {
        throw invalidParam(
          `${path}[quantity]`,
          `Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`${path}\``,
        );
      }
      return { price, quantity: undefined };
    }
    return { price, quantity: quantity ?? 1 };
  }

  checkoutSession(id: string): Stripe.Checkout.Session {
    const session = this.checkoutSessions.get(id);
    if (!session) throw noSuch('checkout.session', id);
    return session;
  }

  lineItems(sessionId: string): Stripe.ApiList<Stripe.LineItem> {
    return buildLineItems(sessionId, this.sessionExtras.get(sessionId)?.lineItems ?? []);
  }

  /** The customer paying: subscribes them and completes the session (see FakeStripeServer). */
  completeCheckoutSession(
    sessionId: string,
    options: FakeSubscriptionOptions = {},
  ): Stripe.Subscription {
    const session = this.checkoutSessions.get(sessionId);
    if (!session) throw new Error(`completeCheckoutSession: no such checkout session ${sessionId}`);
    if (session.status !== 'open') {
      throw new Error(`completeCheckoutSession: session ${sessionId} is ${session.status}`);
    }
    if (session.mode !== 'subscription') {
      throw new Error(`completeCheckoutSession: session ${sessionId} is in ${session.mode} mode`);
    }
    const extras = this.sessionExtras.get(sessionId) ?? { lineItems: [], subscriptionMetadata: {} };
    // Without a customer, Checkout creates one from what the payer typed in.
    let customerId = typeof session.customer === 'string' ? session.customer : null;
    if (!customerId) {
      const created = buildCustomer({
        email: session.customer_email,
        name: null,
        description: null,
        phone: null,
        metadata: {},
      });
      this.customers.set(created.id, created);
      customerId = created.id;
    }
    const customer = this.customer(customerId);
    const periodStart = nowSeconds();
    const subscription = buildSubscription({
      customer: customer.id,
      items: extras.lineItems,
      metadata: extras.subscriptionMetadata,
      periodStart,
      periodEnd: options.periodEnd ?? addMonth(periodStart),
    });
    this.applyStatus(subscription, options.status ?? 'active');
    this.subscriptions.set(subscription.id, subscription);

    session.status = 'complete';
    session.payment_status = 'paid';
    session.subscription = subscription.id;
    session.customer = customer.id;
    session.url = null;
    session.customer_details = {
      address: null,
      business_name: null,
      email: customer.email,
      individual_name: null,
      name: customer.name ?? null,
      phone: customer.phone ?? null,
      tax_exempt: 'none',
      tax_ids: [],
    };
    return subscription;
  }

  // --- customer portal ---

  createPortalSession(params: FormParams): Stripe.BillingPortal.Session {
    const customerId = requiredString(params, 'customer');
    const returnUrl = optionalUrl(params, 'return_url') ?? null;
    this.customer(customerId, 'customer', 400);
    const id = randomId('bps_', 24);
    const session = buildPortalSession({
      id,
      url: `${this.baseUrl}/p/session/${id}`,
      customer: customerId,
      returnUrl,
    });
    this.billingPortalSessions.set(id, session);
    return session;
  }

  // --- subscriptions ---

  subscription(id: string): Stripe.Subscription {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw noSuch('subscription', id);
    return subscription;
  }

  /** POST /v1/subscriptions/:id */
  updateSubscriptionFromParams(id: string, params: FormParams): Stripe.Subscription {
    const cancelAtPeriodEnd = optionalBoolean(params, 'cancel_at_period_end');
    const metadata = metadataParam(params);
    const subscription = this.subscription(id);
    if (subscription.status === 'canceled' && cancelAtPeriodEnd !== undefined) {
      throw invalidParam(
        'cancel_at_period_end',
        'A canceled subscription can only update its cancellation_details and metadata.',
      );
    }
    subscription.metadata = mergeMetadata(subscription.metadata, metadata);
    if (cancelAtPeriodEnd !== undefined) this.setCancelAtPeriodEnd(subscription, cancelAtPeriodEnd);
    return subscription;
  }

  /** DELETE /v1/subscriptions/:id */
  cancelSubscription(id: string, params: FormParams): Stripe.Subscription {
    const details = optionalObject(params, 'cancellation_details');
    const comment = details
      ? optionalString(details, 'comment', 'cancellation_details[comment]')
      : undefined;
    const feedback = details
      ? optionalString(details, 'feedback', 'cancellation_details[feedback]')
      : undefined;
    const subscription = this.subscription(id);
    if (subscription.status === 'canceled') {
      throw new FakeStripeError(400, {
        type: 'invalid_request_error',
        code: 'subscription_already_canceled',
        message: 'This subscription has already been canceled.',
      });
    }
    this.applyStatus(subscription, 'canceled');
    subscription.cancellation_details = {
      comment: comment || null,
      feedback: feedback || null,
      feedback_option: null,
      reason: 'cancellation_requested',
    };
    return subscription;
  }

  /** A test's change to a subscription (as if time or the customer had moved on). */
  updateSubscription(id: string, patch: FakeSubscriptionPatch): Stripe.Subscription {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw new Error(`updateSubscription: no such subscription ${id}`);
    for (const item of subscription.items.data) {
      if (patch.currentPeriodStart !== undefined)
        item.current_period_start = patch.currentPeriodStart;
      if (patch.currentPeriodEnd !== undefined) item.current_period_end = patch.currentPeriodEnd;
    }
    if (patch.cancelAtPeriodEnd !== undefined) {
      this.setCancelAtPeriodEnd(subscription, patch.cancelAtPeriodEnd);
    } else if (subscription.cancel_at_period_end) {
      this.setCancelAtPeriodEnd(subscription, true);
    }
    if (patch.status !== undefined) this.applyStatus(subscription, patch.status);
    return subscription;
  }

  private setCancelAtPeriodEnd(subscription: Stripe.Subscription, value: boolean): void {
    subscription.cancel_at_period_end = value;
    subscription.cancel_at = value
      ? (subscription.items.data[0]?.current_period_end ?? null)
      : null;
  }

  private applyStatus(subscription: Stripe.Subscription, status: Stripe.Subscription.Status): void {
    subscription.status = status;
    const now = nowSeconds();
    if (status === 'canceled') {
      subscription.canceled_at ??= now;
      subscription.ended_at ??= now;
    }
    if (status === 'trialing' && subscription.trial_start === null) {
      subscription.trial_start = subscription.start_date;
      subscription.trial_end = subscription.items.data[0]?.current_period_end ?? null;
    }
  }

  // --- meter events ---

  createMeterEvent(params: FormParams): Stripe.Billing.MeterEvent {
    const eventName = requiredString(params, 'event_name');
    const payload = stringMap(params, 'payload');
    if (!payload) throw missingParam('payload');
    const customerId = payload.stripe_customer_id;
    if (!customerId) throw missingParam('payload[stripe_customer_id]');
    const value = payload.value;
    if (value === undefined || value === '') throw missingParam('payload[value]');
    if (!/^-?\d+(\.\d+)?$/.test(value)) {
      throw invalidParam('payload[value]', `Invalid value: '${value}' is not a number.`);
    }
    const now = nowSeconds();
    const timestamp = optionalInteger(params, 'timestamp') ?? now;
    if (
      timestamp < now - METER_EVENT_MAX_AGE_SECONDS ||
      timestamp > now + METER_EVENT_MAX_FUTURE_SECONDS
    ) {
      throw invalidParam(
        'timestamp',
        'Timestamp must be within the past 35 calendar days and not more than 5 minutes in the future.',
      );
    }
    const identifier = optionalString(params, 'identifier') || randomUUID();
    if (identifier.length > 100) {
      throw invalidParam('identifier', 'The identifier can be at most 100 characters long.');
    }
    this.customer(customerId, 'payload[stripe_customer_id]', 400);
    if (this.meterIdentifiers.has(identifier)) {
      throw new FakeStripeError(400, {
        type: 'invalid_request_error',
        code: 'duplicate_meter_event',
        param: 'identifier',
        message: `An event with identifier ${identifier} already exists.`,
      });
    }
    const event: Stripe.Billing.MeterEvent = {
      object: 'billing.meter_event',
      created: now,
      event_name: eventName,
      identifier,
      livemode: false,
      payload,
      timestamp,
    };
    this.meterIdentifiers.add(identifier);
    this.meterEvents.push(event);
    return event;
  }
}
