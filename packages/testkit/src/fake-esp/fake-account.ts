import { FakeAccountSpec, FakeEspType } from './fake-esp-types';
import { FakeList } from './fake-list';
import {
  FakeRateLimits,
  FakeRateLimitStats,
  FixedWindowCounter,
  RollingWindowCounter,
} from './fake-rate-limits';
import { OTHER_STATUSES } from './vendor-statuses';

/** beehiiv's window when its limit is not enforced: only RateLimit-Reset is reported from it. */
const UNENFORCED_WINDOW_MS = 60_000;

export interface FakeAccountOptions {
  limits: Required<FakeRateLimits>;
  /** The server's clock (ms): mutations are stamped with it, as the vendors stamp changes. */
  now: () => number;
}

/** One ESP account: its key, its lists, and the request bookkeeping rate limits need. */
export class FakeAccount {
  readonly esp: FakeEspType;
  readonly apiKey: string;
  readonly lists: FakeList[];
  readonly beehiivPagination: 'top-level' | 'nested';
  readonly limits: Required<FakeRateLimits>;
  /** Requests currently being answered (Mailchimp refuses one over its limit). */
  inFlight = 0;
  readonly stats: FakeRateLimitStats = { peakWindowRequests: 0, peakInFlight: 0, rejected: 0 };
  /** beehiiv's fixed window. */
  readonly window: FixedWindowCounter;
  /** Kit's rolling windows, one per credential kind. */
  readonly rolling: { apiKey: RollingWindowCounter; oauth: RollingWindowCounter } | null;

  constructor(spec: FakeAccountSpec, options: FakeAccountOptions) {
    this.esp = spec.esp;
    this.apiKey = spec.apiKey;
    this.limits = options.limits;
    this.beehiivPagination = spec.beehiivPagination ?? 'top-level';
    this.window = new FixedWindowCounter(options.limits.beehiiv?.windowMs ?? UNENFORCED_WINDOW_MS);
    const kit = options.limits.kit;
    this.rolling = kit
      ? {
          apiKey: new RollingWindowCounter(kit.windowMs),
          oauth: new RollingWindowCounter(kit.windowMs),
        }
      : null;
    this.lists = spec.lists.map(
      (list) =>
        new FakeList(list, {
          complaints: spec.esp === 'kit',
          otherStatuses: OTHER_STATUSES[spec.esp].length,
          clock: options.now,
        }),
    );
  }

  /** Mailchimp: the data centre, the key's suffix after its last '-'. */
  get dataCenter(): string {
    return this.apiKey.slice(this.apiKey.lastIndexOf('-') + 1);
  }

  list(id: string): FakeList | undefined {
    return this.lists.find((list) => list.id === id);
  }

  /** Mailchimp's limit on requests in flight (Infinity when not enforced). */
  get maxInFlight(): number {
    return this.esp === 'mailchimp'
      ? (this.limits.mailchimp?.inFlight ?? Number.POSITIVE_INFINITY)
      : Number.POSITIVE_INFINITY;
  }

  /** A request admitted past every limit: counted in flight until `leave`. */
  enter(): void {
    this.inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
  }

  leave(): void {
    this.inFlight--;
  }

  noteWindow(used: number): void {
    this.stats.peakWindowRequests = Math.max(this.stats.peakWindowRequests, used);
  }
}
