import { EspCallMetrics } from './esp-call-metrics';
import { setTimeout as delay } from 'node:timers/promises';
import type { EspType } from '../entities/esp-connection.entity';
import {
  EspCallPriority,
  EspCredentialKind,
  EspRateBudget,
  NO_BUDGET_GRANT,
  UNLIMITED_BUDGET,
} from './budget/esp-rate-budget';
import {
  EspError,
  InvalidCredentialsError,
  NotFoundError,
  ProtocolError,
  RateLimitedError,
  TransientError,
} from './esp-errors';
import { EspTransport, HeaderReader, undiciTransport } from './esp-transport';

/** Where retries and rate-limit waits are reported; Nest's `Logger` fits. */
export interface EspLogger {
  warn(message: string): void;
}

export interface EspHttpOptions {
  /** Limit per attempt, covering connect, headers and body. */
  timeoutMs: number;
  /** Retries after the first attempt, for network errors, timeouts, 5xx and short 429s. */
  maxRetries: number;
  /** The longest 429 wait slept in-process; a longer one is thrown as `RateLimitedError`. */
  maxInlineWaitMs: number;
  /** First backoff step (default 500 ms); step n is base·2ⁿ, capped, then jittered to 50-100%. */
  backoffBaseMs?: number;
  /** Cap on one backoff step (default 30 s). */
  backoffMaxMs?: number;
  /** Jitter source in [0, 1) (default Math.random). */
  random?: () => number;
  /** How waits are slept (default a timer); tests record them instead. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for RateLimit-Reset / HTTP-date Retry-After (default Date.now). */
  now?: () => number;
  logger?: EspLogger;
  /**
   * The per-credential request budget every attempt (retries included) takes from before it is
   * sent (default none: tests, scripts and benchmarks that build clients directly).
   */
  budget?: EspRateBudget;
  /** How each attempt is sent (default undiciTransport); client specs answer from a stub. */
  transport?: EspTransport;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined;

export interface EspRequest {
  /** Relative to the base URL, ids already encoded: `/publications/pub_1/subscriptions`. */
  path: string;
  query?: Record<string, QueryValue>;
  headers: Record<string, string>;
  /** Strings that must never reach an error or a log line: the key, the auth header value. */
  secrets: readonly string[];
  /** Whose budget the request takes from (`EspHttpOptions.budget`); none when absent. */
  budget?: { credential: string; kind: EspCredentialKind; priority: EspCallPriority };
}

/** A 2xx JSON answer and the ESP's clock when it sent it (its Date header). */
export interface EspJsonResponse {
  body: unknown;
  /** The answer's Date header; null when missing or unreadable. */
  serverDate: Date | null;
}

/** When a 429 gives no hint, this is what the caller is told to wait: the vendors' windows are 1 min. */
export const DEFAULT_RATE_LIMIT_WAIT_MS = 60_000;

const DEFAULT_BACKOFF_BASE_MS = 500;
const DEFAULT_BACKOFF_MAX_MS = 30_000;
const VENDOR_MESSAGE_MAX = 200;
/** Epoch seconds are above this; smaller RateLimit-Reset values are delta seconds (IETF draft). */
const EPOCH_SECONDS_THRESHOLD = 1_000_000_000;
/** Printable ASCII without spaces: every real ESP key, and always a valid header value. */
const HEADER_SAFE_KEY = /^[\x21-\x7e]+$/;

type Attempt =
  | { kind: 'response'; status: number; headers: HeaderReader; text: string }
  | { kind: 'network'; reason: string };

/**
 * The HTTP behaviour every ESP client shares: per-attempt timeouts, keep-alive (undici pools
 * connections per origin, esp-transport.ts), bounded retries with jittered exponential backoff on
 * network errors, timeouts and 5xx, 429 handling (Retry-After or beehiiv's RateLimit-Reset),
 * and the mapping of everything else to typed `EspError`s.
 *
 * Secrets: request headers never go into an error; messages name the method and path only
 * (no host, no query), and every message is scrubbed of `request.secrets` before it is thrown
 * or logged. Errors carry no `cause`, so a logged error cannot drag a request object along.
 */
export class EspHttpClient {
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly transport: EspTransport;
  private readonly metrics = new EspCallMetrics();

  constructor(
    readonly espType: EspType,
    private readonly options: EspHttpOptions,
  ) {
    this.backoffBaseMs = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.backoffMaxMs = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.now = options.now ?? Date.now;
    this.transport = options.transport ?? undiciTransport;
  }

  /** GET `baseUrl + path`, parsed as JSON; throws an `EspError` for anything but a 2xx JSON body. */
  async getJson(baseUrl: string, request: EspRequest): Promise<unknown> {
    return (await this.get(baseUrl, request)).body;
  }

  /** As `getJson`, with the ESP's clock: what an incremental sync's watermark is taken from. */
  async get(baseUrl: string, request: EspRequest): Promise<EspJsonResponse> {
    const url = buildUrl(baseUrl, request.path, request.query);
    const where = `GET ${request.path}`;
    const scrub = (text: string) => redact(text, request.secrets);
    const budget = this.options.budget ?? UNLIMITED_BUDGET;

    for (let attempt = 0; ; attempt++) {
      // Every attempt is a request the vendor counts; a budget that is used up for longer than
      // the wait bound throws RateLimitedError here, before anything is sent.
      const grant = request.budget
        ? await budget.acquire({ esp: this.espType, ...request.budget })
        : NO_BUDGET_GRANT;
      const started = Date.now();
      const result = await this.send(url, request.headers);
      // Not awaited: a sync's pages are a chain (each cursor comes from the page before), and
      // this Redis round trip was one of each page's three in it. Nothing is lost: release never
      // rejects (it fails open), and this process's next acquire goes to Redis on the same
      // connection behind it, so it still sees this answer.
      void grant.release(result.kind === 'response' ? result.headers : null);
      this.metrics.attempt(
        this.espType,
        request.path,
        result.kind === 'network' ? 'network' : result.status,
        Date.now() - started,
      );
      const canRetry = attempt < this.options.maxRetries;
      const backoff = this.backoff(attempt);

      if (result.kind === 'network') {
        const message = scrub(`${where}: ${result.reason}`);
        if (!canRetry) throw new TransientError(this.espType, `${message}${tries(attempt)}`);
        await this.wait(message, attempt, backoff);
        continue;
      }

      const { status, headers, text } = result;
      if (status >= 200 && status < 300) {
        return { body: this.parse(text, where, status), serverDate: httpDate(headers) };
      }

      const detail = scrub(`${where}: HTTP ${status}${vendorMessage(text)}`);
      if (status === 429) {
        const hinted = rateLimitWait(headers, this.now());
        const wait = hinted ?? backoff;
        if (canRetry && wait <= this.options.maxInlineWaitMs) {
          await this.wait(detail, attempt, wait);
          continue;
        }
        throw new RateLimitedError(
          this.espType,
          `${detail}${tries(attempt)}`,
          hinted ?? DEFAULT_RATE_LIMIT_WAIT_MS,
        );
      }
      if (status >= 500) {
        if (!canRetry) throw new TransientError(this.espType, `${detail}${tries(attempt)}`, status);
        await this.wait(detail, attempt, backoff);
        continue;
      }
      throw this.clientError(status, detail);
    }
  }

  /** The backoff before retry number `attempt + 1`: base·2^attempt, capped, jittered to 50-100%. */
  backoff(attempt: number): number {
    const step = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt);
    return Math.round(step / 2 + (this.random() * step) / 2);
  }

  private async send(url: string, headers: Record<string, string>): Promise<Attempt> {
    try {
      const answer = await this.transport(url, {
        headers: { accept: 'application/json', ...headers },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      return { kind: 'response', ...answer };
    } catch (error) {
      return { kind: 'network', reason: this.describeNetworkError(error) };
    }
  }

  private describeNetworkError(error: unknown): string {
    // Duck-typed: the errors may come from another realm under test runners.
    const { name, code, cause } = (error ?? {}) as {
      name?: unknown;
      code?: unknown;
      cause?: { code?: unknown };
    };
    if (name === 'TimeoutError' || name === 'AbortError') {
      return `timed out after ${this.options.timeoutMs} ms`;
    }
    // Only the error code (undici's own, or the socket's it wraps): a message could quote the
    // request.
    const found = [code, cause?.code].find((c): c is string => typeof c === 'string');
    return `network error${found ? ` (${found})` : ''}`;
  }

  private parse(text: string, where: string, status: number): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ProtocolError(this.espType, `${where}: the response is not valid JSON`, status);
    }
  }

  private clientError(status: number, detail: string): EspError {
    if (status === 401 || status === 403) {
      return new InvalidCredentialsError(this.espType, detail, status);
    }
    if (status === 404) return new NotFoundError(this.espType, detail, status);
    return new ProtocolError(this.espType, detail, status);
  }

  private async wait(reason: string, attempt: number, ms: number): Promise<void> {
    this.metrics.retry(this.espType, ms);
    this.options.logger?.warn(
      `${this.espType} ${reason}; retry ${attempt + 1}/${this.options.maxRetries} in ${ms} ms`,
    );
    await this.sleep(ms);
  }
}

/**
 * Rejects a key that could not be sent as a header, before it reaches the transport: its own
 * error for an invalid header value quotes the value.
 */
export function usableApiKey(espType: EspType, apiKey: string): string {
  const key = apiKey.trim();
  if (!HEADER_SAFE_KEY.test(key)) {
    throw new InvalidCredentialsError(
      espType,
      key === '' ? 'the API key is empty' : 'the API key contains characters no real key has',
    );
  }
  return key;
}

/** Replaces every occurrence of each secret (of a length worth matching) with "[redacted]". */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so "Bearer <key>" goes whole rather than leaving "Bearer [redacted]".
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** A `{dc}`-style template or plain base URL, a path and a query: repeated keys for arrays. */
export function buildUrl(baseUrl: string, path: string, query: Record<string, QueryValue> = {}) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value))
      for (const item of value as readonly string[]) params.append(name, item);
    else params.append(name, String(value));
  }
  const search = params.toString();
  return `${baseUrl.replace(/\/+$/, '')}${path}${search ? `?${search}` : ''}`;
}

/**
 * How long a 429 asks us to wait, in ms: Retry-After (seconds or an HTTP date), else
 * RateLimit-Reset (beehiiv: epoch seconds; small values are read as delta seconds). Null when
 * neither header says anything usable, or the moment has already passed.
 */
export function rateLimitWait(headers: HeaderReader, now: number): number | null {
  const retryAfter = headers.get('retry-after')?.trim();
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return seconds > 0 ? Math.ceil(seconds * 1000) : null;
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return at > now ? at - now : null;
  }
  const reset = Number(headers.get('ratelimit-reset')?.trim() || NaN);
  if (Number.isFinite(reset) && reset > 0) {
    const ms = reset > EPOCH_SECONDS_THRESHOLD ? reset * 1000 - now : reset * 1000;
    return ms > 0 ? Math.ceil(ms) : null;
  }
  return null;
}

/** The vendor's own short explanation, from any of the three error shapes, for the message. */
function vendorMessage(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return '';
  }
  if (typeof body !== 'object' || body === null) return '';
  const b = body as Record<string, unknown>;
  const first: unknown = Array.isArray(b.errors) ? b.errors[0] : undefined;
  const candidates: unknown[] = [
    b.detail, // Mailchimp problem+json
    b.title,
    typeof first === 'object' && first !== null ? (first as { message?: unknown }).message : first,
    b.message,
    b.error,
  ];
  const message = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
  if (!message) return '';
  const short = message.replace(/\s+/g, ' ').trim().slice(0, VENDOR_MESSAGE_MAX);
  return ` (${short})`;
}

/** The Date header (RFC 9110 IMF-fixdate, second precision), or null. */
function httpDate(headers: HeaderReader): Date | null {
  const value = headers.get('date');
  const at = value ? Date.parse(value) : Number.NaN;
  return Number.isFinite(at) ? new Date(at) : null;
}

function tries(attempt: number): string {
  return attempt === 0 ? '' : ` after ${attempt + 1} attempts`;
}
