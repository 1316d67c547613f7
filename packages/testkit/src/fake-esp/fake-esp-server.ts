import {
  createServer,
  IncomingHttpHeaders,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { AddressInfo } from 'node:net';
import { BeehiivRoutes } from './beehiiv-routes';
import { EspRequest, EspResponse, EspVendor, isEspResponse } from './esp-http';
import { externalIdOf, viewStatus } from './external-ids';
import { FakeAccount } from './fake-account';
import {
  FakeEspServerOptions,
  FakeEspType,
  FakeFaults,
  FakeMutation,
  FakeMutationResult,
  FakeSubscriberView,
  RecordedRequest,
} from './fake-esp-types';
import { FakeEspRegistry } from './fake-esp-registry';
import { FakeRateLimitStats, resolveRateLimits } from './fake-rate-limits';
import { FakeList } from './fake-list';
import { FaultInjector } from './fault-injector';
import { KitRoutes } from './kit-routes';
import { MailchimpRoutes } from './mailchimp-routes';
import { vendorStatus } from './vendor-statuses';
import { RequestHold } from './request-hold';

/** What the server is serving, for the CLI's start-up line and for logs. */
export interface FakeEspDescription {
  url: string;
  baseUrls: FakeEspServer['baseUrls'];
  accounts: {
    esp: FakeEspType;
    apiKey: string;
    lists: { id: string; name: string; size: number }[];
  }[];
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

/**
 * A fake of the beehiiv v2, Kit v4 and Mailchimp 3.0 subscriber APIs over real HTTP, for tests,
 * the demo and benchmarks. Lists of millions cost no memory (subscribers are derived from a hash
 * of their index), every page is O(page size), and faults (latency, 429s, 5xx bursts, malformed
 * bodies) can be injected per list.
 */
export class FakeEspServer {
  readonly url: string;
  /** beehiiv and Kit as-is; Mailchimp with a literal '{dc}' for the client to substitute. */
  readonly baseUrls: { beehiiv: string; kit: string; mailchimp: string };
  readonly requests: RecordedRequest[] = [];
  private readonly vendors: EspVendor<FakeAccount>[];
  private readonly faults = new FaultInjector();
  private readonly delays = new Set<PendingDelay>();
  private readonly holds = new Map<FakeList, RequestHold>();
  private stopping?: Promise<void>;

  private constructor(
    private readonly server: Server,
    private readonly registry: FakeEspRegistry,
    private readonly recordRequests: boolean,
    url: string,
    private readonly now: () => number,
  ) {
    this.url = url;
    this.baseUrls = {
      beehiiv: `${url}/beehiiv/v2`,
      kit: `${url}/kit/v4`,
      mailchimp: `${url}/mailchimp/{dc}/3.0`,
    };
    this.vendors = [
      new BeehiivRoutes(registry, now),
      new KitRoutes(registry, now),
      new MailchimpRoutes(registry),
    ];
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
  }

  static async start(options: FakeEspServerOptions): Promise<FakeEspServer> {
    const now = options.now ?? Date.now;
    const registry = new FakeEspRegistry(options.accounts, {
      limits: resolveRateLimits(options.rateLimits),
      now,
    });
    const host = options.host ?? '127.0.0.1';
    const server: Server = options.tls ? createHttpsServer(options.tls) : createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = ['0.0.0.0', '::', ''].includes(host)
      ? '127.0.0.1'
      : host.includes(':')
        ? `[${host}]`
        : host;
    const fake = new FakeEspServer(
      server,
      registry,
      options.recordRequests ?? true,
      `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`,
      now,
    );
    for (const spec of options.accounts) {
      for (const list of spec.lists) {
        if (list.faults) fake.setFaults(spec.esp, list.id, list.faults);
      }
    }
    return fake;
  }

  /** The Mailchimp base URL for one data centre (what a client builds from the key). */
  mailchimpBaseUrl(dc: string): string {
    return this.baseUrls.mailchimp.replace('{dc}', dc);
  }

  describe(): FakeEspDescription {
    return {
      url: this.url,
      baseUrls: this.baseUrls,
      accounts: this.registry.accounts.map((account) => ({
        esp: account.esp,
        apiKey: account.apiKey,
        lists: account.lists.map((list) => ({
          id: list.id,
          name: list.name,
          size: list.count(),
        })),
      })),
    };
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Replaces the list's faults (undefined clears them) and restarts its request count. */
  setFaults(esp: FakeEspType, listId: string, faults: FakeFaults | undefined): void {
    this.faults.set(this.registry.find(esp, listId).list, faults);
  }

  /**
   * Holds the list's requests (after any injected latency, before the answer) until the returned
   * hold is released; `stop()` releases it too.
   */
  holdRequests(esp: FakeEspType, listId: string): RequestHold {
    const { list } = this.registry.find(esp, listId);
    this.holds.get(list)?.release();
    const hold = new RequestHold(() => {
      if (this.holds.get(list) === hold) this.holds.delete(list);
    });
    this.holds.set(list, hold);
    return hold;
  }

  /** Changes between two syncs; which subscribers change is deterministic. */
  mutate(esp: FakeEspType, listId: string, change: FakeMutation): FakeMutationResult {
    const { list } = this.registry.find(esp, listId);
    const changes = list.mutate(change);
    const ids = (indices: number[]): string[] =>
      indices.map((index) => externalIdOf(esp, list, index));
    return {
      added: ids(changes.added),
      changed: ids(changes.changed),
      unsubscribed: ids(changes.unsubscribed),
      bounced: ids(changes.bounced),
      removed: ids(changes.removed),
    };
  }

  /**
   * The list's current subscribers in created order, lazily (a million cost no memory), with our
   * status ('other' for a vendor status we do not sync) and the vendor's own.
   */
  subscribers(esp: FakeEspType, listId: string): IterableIterator<FakeSubscriberView> {
    return views(esp, this.registry.find(esp, listId).list);
  }

  /** How close the clients of one account came to its rate limits, and how often they passed one. */
  rateLimitStats(esp: FakeEspType, apiKey: string): FakeRateLimitStats {
    const account = this.registry.accountByKey(esp, apiKey);
    if (!account) throw new Error(`fake ESP: no ${esp} account with that key`);
    return { ...account.stats };
  }

  /** Starts the peaks and the 429 count of one account afresh. */
  resetRateLimitStats(esp: FakeEspType, apiKey: string): void {
    const account = this.registry.accountByKey(esp, apiKey);
    if (!account) throw new Error(`fake ESP: no ${esp} account with that key`);
    Object.assign(account.stats, { peakWindowRequests: 0, peakInFlight: 0, rejected: 0 });
  }

  /** Current number of subscribers, all statuses (also those outside our model). */
  count(esp: FakeEspType, listId: string): number {
    return this.registry.find(esp, listId).list.count();
  }

  /** Closes the listener and every connection; requests still being delayed are dropped. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
      for (const delay of this.delays) {
        clearTimeout(delay.timer);
        delay.resolve();
      }
      this.delays.clear();
      for (const hold of [...this.holds.values()]) hold.release();
    });
    return this.stopping;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-esp.invalid');
    let vendor: EspVendor<FakeAccount> | undefined;
    let match: { path: string; dc?: string } | undefined;
    for (const candidate of this.vendors) {
      match = candidate.matchPath(url.pathname);
      if (match) {
        vendor = candidate;
        break;
      }
    }
    if (!vendor || !match) {
      send(res, { status: 404, body: { error: 'Not Found', path: url.pathname } }, this.now());
      return;
    }
    const request: EspRequest = {
      method: req.method ?? 'GET',
      path: match.path,
      query: parseQuery(url.searchParams),
      headers: flattenHeaders(req.headers),
      ...(match.dc !== undefined ? { dc: match.dc } : {}),
    };

    let account: FakeAccount | undefined;
    let admitted = false;
    let response: EspResponse;
    try {
      const authenticated = vendor.authenticate(request);
      if (isEspResponse(authenticated)) {
        response = authenticated;
      } else {
        account = authenticated;
        const refused = vendor.admit(request, account);
        if (refused) {
          account.stats.rejected++;
          response = refused;
        } else {
          account.enter();
          admitted = true;
          response = await this.answer(vendor, request, account);
        }
      }
    } catch {
      response = vendor.failure({ kind: 'server-error', status: 500 }, request);
    }
    try {
      response = vendor.finish(response, request, account);
      if (this.recordRequests) {
        this.requests.push({
          esp: vendor.esp,
          method: request.method,
          path: request.path,
          query: request.query,
          headers: request.headers,
          status: response.status,
          ...(request.dc !== undefined ? { dc: request.dc } : {}),
        });
      }
      send(res, response, this.now());
    } finally {
      if (admitted && account) account.leave();
    }
  }

  /** Routes, then applies the touched list's faults: latency first, then the failure if any. */
  private async answer(
    vendor: EspVendor<FakeAccount>,
    request: EspRequest,
    account: FakeAccount,
  ): Promise<EspResponse> {
    const route = vendor.route(request, account);
    if (!route.list) return route.handle();
    const decision = this.faults.next(route.list);
    if (decision.latencyMs > 0) await this.delay(decision.latencyMs);
    const hold = this.holds.get(route.list);
    if (hold) await hold.wait();
    const failure = decision.failure;
    if (!failure) return route.handle();
    if (failure.kind === 'malformed-body') {
      const text = JSON.stringify(route.handle().body);
      return { status: 200, body: null, rawBody: text.slice(0, Math.ceil(text.length / 2)) };
    }
    return vendor.failure(failure, request);
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const pending: PendingDelay = {
        timer: setTimeout(() => {
          this.delays.delete(pending);
          resolve();
        }, ms),
        resolve,
      };
      this.delays.add(pending);
    });
  }
}

function* views(esp: FakeEspType, list: FakeList): IterableIterator<FakeSubscriberView> {
  for (const index of list.indices()) {
    const record = list.record(index);
    yield {
      externalId: externalIdOf(esp, list, index),
      email: record.email,
      status: viewStatus(record.state),
      rawStatus: vendorStatus(esp, record),
    };
  }
}

/** Answers with the ESP's clock in the Date header, as every vendor's servers do. */
function send(res: ServerResponse, response: EspResponse, now: number): void {
  if (res.destroyed || res.writableEnded) return;
  const body = response.rawBody ?? JSON.stringify(response.body);
  res.writeHead(response.status, {
    Date: new Date(now).toUTCString(),
    'Content-Type': 'application/json; charset=utf-8',
    ...response.headers,
    'Content-Length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

function parseQuery(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    query[key] = values.length === 1 ? values[0] : values;
  }
  return query;
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
