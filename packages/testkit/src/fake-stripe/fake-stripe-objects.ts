import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';

/** The one price the fake sells: metered (billed from meter events), monthly, in USD cents. */
export const FAKE_STRIPE_PRICE_ID = 'price_test_subscribernest';
const FAKE_PRODUCT_ID = 'prod_test_subscribernest';
const FAKE_METER_ID = 'mtr_test_subscribernest';
const FAKE_PORTAL_CONFIGURATION_ID = 'bpc_test_subscribernest';
/** 2026-01-01T00:00:00Z: when the price "was created". */
const PRICE_CREATED = 1_767_225_600;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A Stripe-looking id: `prefix` then `length` random base-62 characters. */
export function randomId(prefix: string, length: number): string {
  let id = prefix;
  for (const byte of randomBytes(length)) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The same instant one calendar month later (UTC), as Stripe's monthly periods run. */
export function addMonth(seconds: number): number {
  const date = new Date(seconds * 1000);
  date.setUTCMonth(date.getUTCMonth() + 1);
  return Math.floor(date.getTime() / 1000);
}

export function buildPrice(): Stripe.Price {
  return {
    id: FAKE_STRIPE_PRICE_ID,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: PRICE_CREATED,
    currency: 'usd',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: 'SubscriberNest usage',
    product: FAKE_PRODUCT_ID,
    recurring: {
      interval: 'month',
      interval_count: 1,
      meter: FAKE_METER_ID,
      trial_period_days: null,
      usage_type: 'metered',
    },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: 1,
    unit_amount_decimal: Stripe.Decimal.from('1'),
  };
}

/** The legacy `plan` view of a recurring price, as subscription items still carry it. */
function planOf(price: Stripe.Price): Stripe.Plan {
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: price.recurring?.interval ?? 'month',
    interval_count: price.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: price.recurring?.meter ?? null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: price.recurring?.usage_type ?? 'licensed',
  };
}

export function isMetered(price: Stripe.Price): boolean {
  return price.recurring?.usage_type === 'metered';
}

export function buildCustomer(fields: {
  email: string | null;
  name: string | null;
  description: string | null;
  phone: string | null;
  metadata: Record<string, string>;
}): Stripe.Customer {
  return {
    id: randomId('cus_', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created: nowSeconds(),
    currency: null,
    customer_account: null,
    default_source: null,
    delinquent: false,
    description: fields.description,
    discount: null,
    email: fields.email,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: fields.metadata,
    name: fields.name,
    next_invoice_sequence: 1,
    phone: fields.phone,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export interface CheckoutLineItem {
  price: Stripe.Price;
  /** undefined for metered prices (Stripe refuses a quantity there). */
  quantity: number | undefined;
}

export function buildCheckoutSession(fields: {
  id: string;
  url: string;
  mode: 'subscription' | 'payment';
  customer: string | null;
  customerEmail: string | null;
  successUrl: string;
  cancelUrl: string | null;
  clientReferenceId: string | null;
  metadata: Record<string, string>;
  lineItems: CheckoutLineItem[];
}): Stripe.Checkout.Session {
  const created = nowSeconds();
  const amount = fields.lineItems.reduce(
    (sum, item) =>
      sum + (isMetered(item.price) ? 0 : (item.price.unit_amount ?? 0) * (item.quantity ?? 1)),
    0,
  );
  const subscription = fields.mode === 'subscription';
  return {
    id: fields.id,
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: amount,
    amount_total: amount,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: fields.cancelUrl,
    client_reference_id: fields.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency: 'usd',
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: fields.customer,
    customer_account: null,
    customer_creation: fields.customer ? null : subscription ? 'always' : 'if_required',
    customer_details: fields.customerEmail
      ? {
          address: null,
          business_name: null,
          email: fields.customerEmail,
          individual_name: null,
          name: null,
          phone: null,
          tax_exempt: 'none',
          tax_ids: null,
        }
      : null,
    customer_email: fields.customerEmail,
    discounts: [],
    expires_at: created + 24 * 3600,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: fields.metadata,
    mode: fields.mode,
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: subscription ? 'always' : null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: fields.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted_page',
    url: fields.url,
    wallet_options: null,
  };
}

/** The session's line items, as `expand[]=line_items` embeds them. */
export function buildLineItems(
  sessionId: string,
  items: CheckoutLineItem[],
): Stripe.ApiList<Stripe.LineItem> {
  return {
    object: 'list',
    data: items.map((item, index) => {
      const amount = isMetered(item.price)
        ? 0
        : (item.price.unit_amount ?? 0) * (item.quantity ?? 1);
      return {
        id: `li_${sessionId.slice(-14)}${index}`,
        object: 'item',
        adjustable_quantity: null,
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: item.price.currency,
        description: item.price.nickname,
        metadata: null,
        price: item.price,
        quantity: item.quantity ?? null,
      };
    }),
    has_more: false,
    url: `/v1/checkout/sessions/${sessionId}/line_items`,
  };
}

export function buildPortalSession(fields: {
  id: string;
  url: string;
  customer: string;
  returnUrl: string | null;
}): Stripe.BillingPortal.Session {
  return {
    id: fields.id,
    object: 'billing_portal.session',
    configuration: FAKE_PORTAL_CONFIGURATION_ID,
    created: nowSeconds(),
    customer: fields.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: fields.returnUrl,
    url: fields.url,
  };
}

export function buildSubscription(fields: {
  customer: string;
  items: CheckoutLineItem[];
  metadata: Record<string, string>;
  periodStart: number;
  periodEnd: number;
}): Stripe.Subscription {
  const id = randomId('sub_', 24);
  const created = nowSeconds();
  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: fields.periodStart,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created,
    currency: 'usd',
    customer: fields.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    items: {
      object: 'list',
      data: fields.items.map((item) => ({
        id: randomId('si_', 14),
        object: 'subscription_item',
        billing_thresholds: null,
        created,
        current_period_end: fields.periodEnd,
        current_period_start: fields.periodStart,
        current_trial: null,
        discounts: [],
        metadata: {},
        plan: planOf(item.price),
        price: item.price,
        ...(item.quantity === undefined ? {} : { quantity: item.quantity }),
        subscription: id,
        tax_rates: [],
      })),
      has_more: false,
      url: `/v1/subscription_items?subscription=${id}`,
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: fields.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: fields.periodStart,
    status: 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' },
    },
    trial_start: null,
  };
}
