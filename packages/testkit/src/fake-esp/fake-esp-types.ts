/** The public contract of the fake ESP server: what tests, the demo and benchmarks configure. */

export type FakeEspType = 'beehiiv' | 'kit' | 'mailchimp';

export const FAKE_ESP_TYPES: readonly FakeEspType[] = ['beehiiv', 'kit', 'mailchimp'];

export interface FakeServerErrorBurst {
  afterRequests: number;
  count: number;
  /** Status of the burst's answers (default 500). */
  status?: 500 | 502 | 503;
}

export interface FakeFaults {
  /** Delay added to every request touching this list. */
  latencyMs?: number;
  /** Every Nth request touching this list answers 429 (vendor body shape). */
  rateLimitEvery?: number;
  /**
   * Retry-After header on those 429s (default 1); beehiiv also sets RateLimit-Reset (epoch s) and
   * RateLimit-Remaining: 0.
   */
  retryAfterSeconds?: number;
  /**
   * Requests afterRequests+1 .. afterRequests+count touching the list answer 500 (or 502/503),
   * then normal again.
   */
  serverErrorBurst?: FakeServerErrorBurst;
  /** The Nth request touching the list answers 200 with an invalid (truncated) JSON body. */
  malformedBodyOnRequest?: number;
}

export interface FakeListSpec {
  /** beehiiv publication id (e.g. 'pub_demo'), Mailchimp list id, or for Kit the account id. */
  id: string;
  name: string;
  /** 0 .. millions; never materialised in memory. */
  size: number;
  /** Default derived from id. */
  seed?: number;
  faults?: FakeFaults;
}

export interface FakeAccountSpec {
  esp: FakeEspType;
  /** Mailchimp keys end in '-<dc>', e.g. 'key123-us6'. */
  apiKey: string;
  /** Kit: exactly one list (a Kit account is one list; its id = account id). */
  lists: FakeListSpec[];
  /** beehiiv only: where has_more/next_cursor live (default top-level). */
  beehiivPagination?: 'top-level' | 'nested';
}

export interface RecordedRequest {
  esp: FakeEspType;
  method: string;
  /** Relative to the ESP base URL, e.g. '/publications/pub_1/subscriptions'. */
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-cased names. */
  headers: Record<string, string>;
  status: number;
}

export interface FakeSubscriberView {
  externalId: string;
  email: string;
  status: 'active' | 'unsubscribed' | 'bounced';
}

/** External ids of the subscribers each change touched. */
export interface FakeMutationResult {
  added: string[];
  unsubscribed: string[];
  bounced: string[];
  removed: string[];
}

export interface FakeMutation {
  add?: number;
  unsubscribe?: number;
  bounce?: number;
  remove?: number;
}

export interface FakeEspServerOptions {
  accounts: FakeAccountSpec[];
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default true; the benchmark turns it off. */
  recordRequests?: boolean;
}
