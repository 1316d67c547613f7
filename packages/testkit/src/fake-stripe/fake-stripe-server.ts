import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { nowSeconds, randomId } from './fake-stripe-objects';
import {
  expandList,
  FakeStripeError,
  fingerprint,
  FormParams,
  invalidParam,
  parseForm,
  StripeErrorDetail,
} from './fake-stripe-params';
import {
  FakeStripeState,
  FakeSubscriptionOptions,
  FakeSubscriptionPatch,
} from './fake-stripe-state';

/** The API key the fake is used with (any `sk_test_` key is accepted). */
export const FAKE_STRIPE_SECRET_KEY = 'sk_test_subscribernest_fake';

export interface FakeStripeServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
}

/** One request the fake answered, oldest first in `requests`. */
export interface FakeStripeRequest {
  method: string;
  /** The path without its query string. */
  path: string;
  idempotencyKey: string | null;
  status: number;
}

export interface FakeStripeClientOptions {
  host: string;
  port: number;
  protocol: 'http';
  maxNetworkRetries: number;
}

type Method = 'GET' | 'POST' | 'DELETE';

interface Route {
  method: Method;
  pattern: RegExp;
  handle: (params: FormParams, ids: string[]) => object;
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

interface StoredAnswer {
  method: string;
  path: string;
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
}

interface Fault {
  remaining: number;
  status: number;
  pathPrefix: string;
}

type Expanders<T> = Record<string, (object: T) => unknown>;

const NO_KEY_MESSAGE =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

function route(method: Method, template: string, handle: Route['handle']): Route {
  const source = template
    .split('/')
    .map((part) => (part.startsWith(':') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return { method, pattern: new RegExp(`^${source}$`), handle };
}

function json(body: unknown): string {
  return JSON.stringify(body, null, 2);
}

function errorAnswer(status: number, error: StripeErrorDetail): Answer {
  return { status, body: json({ error }) };
}

/** `sk_test_****…fake`, as Stripe quotes a refused key. */
function redact(key: string): string {
  if (key.length <= 12) return `${key.slice(0, 3)}****`;
  return `${key.slice(0, 8)}${'*'.repeat(key.length - 12)}${key.slice(-4)}`;
}

function apiKeyOf(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1];
  // curl -u sk_test_...: (Stripe accepts the key as the basic-auth user name too).
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (basic) return Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0] || null;
  return null;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * A fake of the slice of Stripe's v1 API that billing uses (customers, Checkout, the customer
 * portal, subscriptions, meter events), over real HTTP for the official `stripe` SDK: Stripe's
 * paths, form-encoded parameters, object shapes and ids, errors, idempotency keys and
 * `Request-Id` headers. Tests read the state (`customers`, `subscriptions`, `meterEvents`,
 * `requests`, ...), act as the paying customer or as time passing (`completeCheckoutSession`,
 * `updateSubscription`), inject failures (`failNext`) and build webhook events (`event`, signed
 * with `signStripeWebhook`).
 */
export class FakeStripeServer {
  readonly url: string;
  readonly requests: FakeStripeRequest[] = [];
  private readonly state: FakeStripeState;
  private readonly idempotency = new Map<string, StoredAnswer>();
  private faults: Fault[] = [];
  private readonly routes: Route[];
  private stopping?: Promise<void>;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.state = new FakeStripeState(this.url);
    this.routes = this.buildRoutes();
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  static async start(options: FakeStripeServerOptions = {}): Promise<FakeStripeServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FakeStripeServer(server, (server.address() as AddressInfo).port);
  }

  /** For `new Stripe(FAKE_STRIPE_SECRET_KEY, { ...fake.clientOptions() })`. */
  clientOptions(): FakeStripeClientOptions {
    return { host: '127.0.0.1', port: this.port, protocol: 'http', maxNetworkRetries: 0 };
  }

  get customers(): Map<string, Stripe.Customer> {
    return this.state.customers;
  }

  get checkoutSessions(): Map<string, Stripe.Checkout.Session> {
    return this.state.checkoutSessions;
  }

  get billingPortalSessions(): Map<string, Stripe.BillingPortal.Session> {
    return this.state.billingPortalSessions;
  }

  get subscriptions(): Map<string, Stripe.Subscription> {
    return this.state.subscriptions;
  }

  /** Accepted meter events only, oldest first: never a duplicate identifier. */
  get meterEvents(): Stripe.Billing.MeterEvent[] {
    return this.state.meterEvents;
  }

  /** Forgets every object, request, idempotency key and queued failure. */
  reset(): void {
    this.state.reset();
    this.requests.length = 0;
    this.idempotency.clear();
    this.faults = [];
  }

  /**
   * The customer pays: creates a subscription (status 'active' unless told otherwise, first period
   * from now to `periodEnd` or a calendar month later) for the session's customer (one is created
   * from `customer_email` if the session had none) with the session's prices and
   * `subscription_data[metadata]`, and completes the session (`status` 'complete',
   * `payment_status` 'paid', `subscription` its id). Subscription-mode sessions only. Returns the
   * live object held in `subscriptions`.
   */
  completeCheckoutSession(
    sessionId: string,
    options: FakeSubscriptionOptions = {},
  ): Stripe.Subscription {
    return this.state.completeCheckoutSession(sessionId, options);
  }

  /** Changes a subscription as Stripe would on its own (renewal, dunning, the portal, ...). */
  updateSubscription(id: string, patch: FakeSubscriptionPatch): Stripe.Subscription {
    return this.state.updateSubscription(id, patch);
  }

  /**
   * The next `count` requests whose path starts with `pathPrefix` (default: any) answer `status`
   * with a Stripe-shaped error and change nothing; they are not stored under their idempotency
   * key, so a retry with the same key goes through. Calls queue up, in order.
   */
  failNext(count: number, status: number, pathPrefix = '/'): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new Error(`failNext: ${status} is not a 4xx/5xx status`);
    }
    if (!Number.isInteger(count) || count < 0) throw new Error(`failNext: bad count ${count}`);
    if (count > 0) this.faults.push({ remaining: count, status, pathPrefix });
  }

  /**
   * A Stripe Event object wrapping (a snapshot of) `object`, to deliver as a webhook:
   * `JSON.stringify` it, sign the string with `signStripeWebhook` and post both.
   */
  event(
    type: string,
    object: object,
    options: { id?: string; created?: number } = {},
  ): Record<string, unknown> {
    return {
      id: options.id ?? randomId('evt_', 24),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: options.created ?? nowSeconds(),
      data: { object: JSON.parse(JSON.stringify(object)) as unknown },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    };
  }

  /** Closes the listener and every connection (the SDK keeps them alive). */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
    return this.stopping;
  }

  private buildRoutes(): Route[] {
    const state = this.state;
    const sessionExpanders: Expanders<Stripe.Checkout.Session> = {
      customer: (session) =>
        typeof session.customer === 'string' ? state.customer(session.customer) : session.customer,
      line_items: (session) => state.lineItems(session.id),
      subscription: (session) =>
        typeof session.subscription === 'string'
          ? state.subscription(session.subscription)
          : session.subscription,
    };
    const subscriptionExpanders: Expanders<Stripe.Subscription> = {
      customer: (subscription) =>
        typeof subscription.customer === 'string'
          ? state.customer(subscription.customer)
          : subscription.customer,
      latest_invoice: (subscription) => subscription.latest_invoice,
    };
    const portalExpanders: Expanders<Stripe.BillingPortal.Session> = {};
    const customerExpanders: Expanders<Stripe.Customer> = {};
    return [
      route('POST', '/v1/customers', (params) =>
        expanded(params, customerExpanders, () => state.createCustomer(params)),
      ),
      route('GET', '/v1/customers/:id', (params, [id]) =>
        expanded(params, customerExpanders, () => state.customer(id)),
      ),
      route('POST', '/v1/checkout/sessions', (params) =>
        expanded(params, sessionExpanders, () => state.createCheckoutSession(params)),
      ),
      route('GET', '/v1/checkout/sessions/:id', (params, [id]) =>
        expanded(params, sessionExpanders, () => state.checkoutSession(id)),
      ),
      route('POST', '/v1/billing_portal/sessions', (params) =>
        expanded(params, portalExpanders, () => state.createPortalSession(params)),
      ),
      route('GET', '/v1/subscriptions/:id', (params, [id]) =>
        expanded(params, subscriptionExpanders, () => state.subscription(id)),
      ),
      route('POST', '/v1/subscriptions/:id', (params, [id]) =>
        expanded(params, subscriptionExpanders, () =>
          state.updateSubscriptionFromParams(id, params),
        ),
      ),
      route('DELETE', '/v1/subscriptions/:id', (params, [id]) =>
        expanded(params, subscriptionExpanders, () => state.cancelSubscription(id, params)),
      ),
      route('POST', '/v1/billing/meter_events', (params) => state.createMeterEvent(params)),
    ];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away
    }
    const requestId = randomId('req_', 14);
    const url = new URL(req.url ?? '/', 'http://fake-stripe.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const keyHeader = req.headers['idempotency-key'];
    const idempotencyKey = typeof keyHeader === 'string' && keyHeader !== '' ? keyHeader : null;
    let answer: Answer;
    try {
      answer = this.answer({
        method,
        path: url.pathname,
        params: method === 'POST' ? body : url.search.slice(1),
        idempotencyKey,
        authorization: req.headers.authorization,
        requestId,
      });
    } catch (error) {
      // A bug of the fake's (or a path it cannot decode): a 500, as Stripe's own would be.
      answer = errorAnswer(500, {
        type: 'api_error',
        message: `Fake Stripe failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
    this.requests.push({ method, path: url.pathname, idempotencyKey, status: answer.status });
    const version = req.headers['stripe-version'];
    res.writeHead(answer.status, {
      'Content-Type': 'application/json',
      'Request-Id': requestId,
      'Stripe-Version': typeof version === 'string' ? version : Stripe.API_VERSION,
      ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
      ...answer.headers,
    });
    res.end(answer.body);
  }

  private answer(request: {
    method: string;
    path: string;
    params: string;
    idempotencyKey: string | null;
    authorization: string | undefined;
    requestId: string;
  }): Answer {
    const { method, path, idempotencyKey } = request;
    const fault = this.takeFault(path);
    if (fault) {
      return errorAnswer(fault.status, {
        type: fault.status >= 500 ? 'api_error' : 'invalid_request_error',
        message: `Injected failure (FakeStripeServer.failNext): HTTP ${fault.status}.`,
        ...(fault.status === 429 ? { code: 'rate_limit' } : {}),
      });
    }

    const apiKey = apiKeyOf(request.authorization);
    if (!apiKey)
      return errorAnswer(401, { type: 'invalid_request_error', message: NO_KEY_MESSAGE });
    if (!apiKey.startsWith('sk_test_')) {
      return errorAnswer(401, {
        type: 'invalid_request_error',
        message: `Invalid API Key provided: ${redact(apiKey)}`,
      });
    }

    const match = this.match(method, path);
    if (!match) {
      return errorAnswer(404, {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
      });
    }

    const params = parseForm(request.params);
    const idempotent = idempotencyKey !== null && method !== 'GET';
    const paramsFingerprint = fingerprint(params);
    if (idempotent) {
      const stored = this.idempotency.get(idempotencyKey);
      if (stored) return this.replay(stored, request, paramsFingerprint);
    }

    let answer: Answer;
    let store: boolean;
    try {
      answer = { status: 200, body: json(match.route.handle(params, match.ids)) };
      store = true;
    } catch (error) {
      if (!(error instanceof FakeStripeError)) throw error;
      answer = errorAnswer(error.status, error.detail);
      store = error.stored;
    }
    if (idempotent && store) {
      this.idempotency.set(idempotencyKey, {
        method,
        path,
        fingerprint: paramsFingerprint,
        status: answer.status,
        body: answer.body,
        requestId: request.requestId,
      });
    }
    return answer;
  }

  /** A key seen before: the same request gets the first answer again, anything else an error. */
  private replay(
    stored: StoredAnswer,
    request: { method: string; path: string; idempotencyKey: string | null },
    paramsFingerprint: string,
  ): Answer {
    const key = request.idempotencyKey ?? '';
    if (stored.method !== request.method || stored.path !== request.path) {
      return errorAnswer(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${stored.method} ${stored.path}' vs '${request.method} ${request.path}'). Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    if (stored.fingerprint !== paramsFingerprint) {
      return errorAnswer(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    return {
      status: stored.status,
      body: stored.body,
      headers: { 'Idempotent-Replayed': 'true', 'Original-Request': stored.requestId },
    };
  }

  private match(method: string, path: string): { route: Route; ids: string[] } | undefined {
    for (const candidate of this.routes) {
      if (candidate.method !== method) continue;
      const found = candidate.pattern.exec(path);
      if (found) return { route: candidate, ids: found.slice(1).map(decodeURIComponent) };
    }
    return undefined;
  }

  private takeFault(path: string): Fault | undefined {
    const fault = this.faults.find((candidate) => path.startsWith(candidate.pathPrefix));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.faults = this.faults.filter((other) => other !== fault);
    return fault;
  }
}

/**
 * Runs `load` and embeds the objects `expand[]` names. The expand list is checked first, so a bad
 * one fails before anything is created.
 */
function expanded<T extends object>(
  params: FormParams,
  expanders: Expanders<T>,
  load: () => T,
): object {
  const paths = expandList(params);
  for (const path of paths) {
    if (!Object.hasOwn(expanders, path)) {
      throw invalidParam('expand', `This property cannot be expanded (${path}).`);
    }
  }
  const object = load();
  if (paths.length === 0) return object;
  const copy: Record<string, unknown> = { ...(object as Record<string, unknown>) };
  for (const path of paths) copy[path] = expanders[path](object);
  return copy;
}
