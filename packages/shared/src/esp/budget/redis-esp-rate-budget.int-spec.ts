import Redis from 'ioredis';
import { createTestQueuePrefix, testRedisUrl, TestQueuePrefix } from '@subscribernest/testkit';
import { RateLimitedError } from '../esp-errors';
import { EspBudgetSettings } from './esp-budget-settings';
import { EspBudgetClaim } from './esp-rate-budget';
import { RedisEspRateBudget } from './redis-esp-rate-budget';

/**
 * The budgets on the real Redis, two instances standing for two processes (each its own
 * connection) sharing one prefix: whatever the interleaving, no window ever holds more than its
 * limit, no more slots are held than exist, and a lease of a dead process frees itself.
 */
const KEY = 'kit_secret_key_0123456789';

let queues: TestQueuePrefix;
const budgets: RedisEspRateBudget[] = [];

async function budget(
  settings: EspBudgetSettings,
  options: { leaseMs?: number; waits?: number[]; url?: string } = {},
): Promise<RedisEspRateBudget> {
  const redis = new Redis(options.url ?? testRedisUrl(), {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  const created = new RedisEspRateBudget({
    redis,
    prefix: queues.prefix,
    settings,
    leaseMs: options.leaseMs ?? 5_000,
    observer: { onWait: (_esp, ms) => options.waits?.push(ms) },
  });
  await created.connect();
  budgets.push(created);
  return created;
}

/** Takes from the budget and is answered at once. */
async function send(budget: RedisEspRateBudget, request: EspBudgetClaim): Promise<void> {
  await (await budget.acquire(request)).release(null);
}

const claim = (overrides: Partial<EspBudgetClaim> = {}): EspBudgetClaim => ({
  esp: 'kit',
  credential: KEY,
  kind: 'api-key',
  priority: 'interactive',
  ...overrides,
});

/** The most grants inside any `windowMs` (grant times ascending). */
function busiestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

beforeAll(() => {
  queues = createTestQueuePrefix();
});
afterAll(async () => {
  await Promise.all(budgets.map((b) => b.close()));
  await queues.cleanup();
});

describe('Kit: a rolling window per key, shared by every process', () => {
  const settings = { ESP_BUDGET_KIT_API_KEY_REQUESTS: 10, ESP_BUDGET_KIT_WINDOW_MS: 500 };

  it('lets 40 calls from two processes through, never more than 10 in any 500 ms', async () => {
    const waits: number[] = [];
    const a = await budget({ ...settings, ESP_BUDGET_MAX_WAIT_MS: 5_000 }, { waits });
    const b = await budget({ ...settings, ESP_BUDGET_MAX_WAIT_MS: 5_000 }, { waits });
    const credential = `${KEY}-window`;
    const granted: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const grant = await (i % 2 ? a : b).acquire(claim({ credential }));
        granted.push(Date.now());
        await grant.release(null); // answered at once
      }),
    );
    expect(granted).toHaveLength(40);
    expect(busiestWindow(granted, 500)).toBeLessThanOrEqual(10);
    // 40 calls at 10 per 500 ms: the last ones waited about 1.5 s, and were reported.
    expect(waits.length).toBeGreaterThanOrEqual(30);
    expect(Math.max(...waits)).toBeGreaterThanOrEqual(1_400);
  });

  it('keeps a tenth of the window for interactive calls: a sync never starves the api', async () => {
    const a = await budget({ ...settings, ESP_BUDGET_MAX_WAIT_MS: 0 });
    const credential = `${KEY}-reserve`;
    for (let i = 0; i < 9; i++) await send(a, claim({ credential, priority: 'background' }));
    await expect(a.acquire(claim({ credential, priority: 'background' }))).rejects.toBeInstanceOf(
      RateLimitedError,
    );
    // The reserved tenth is still there for an owner waiting on a live count.
    await expect(send(a, claim({ credential }))).resolves.toBeUndefined();
    await expect(a.acquire(claim({ credential }))).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('turns a wait longer than the bound into RateLimitedError, saying when to come back', async () => {
    const a = await budget({ ...settings, ESP_BUDGET_MAX_WAIT_MS: 100 });
    const credential = `${KEY}-bound`;
    for (let i = 0; i < 10; i++) await send(a, claim({ credential }));
    const error = await a.acquire(claim({ credential })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(100);
    expect((error as RateLimitedError).retryAfterMs).toBeLessThanOrEqual(530);
  });

  it('counts a send still in flight until it is answered, however long that takes', async () => {
    // The vendor counts a request when it arrives: anywhere before its answer.
    const a = await budget({ ...settings, ESP_BUDGET_MAX_WAIT_MS: 3_000 });
    const credential = `${KEY}-in-flight`;
    const slow = await Promise.all(
      Array.from({ length: 10 }, () => a.acquire(claim({ credential }))),
    );
    await new Promise((resolve) => setTimeout(resolve, 700)); // longer than the window
    const started = Date.now();
    const waiting = a.acquire(claim({ credential }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all(slow.map((grant) => grant.release(null))); // answered now
    await waiting;
    // Nothing went while they were out, nor until a window had passed after their answers.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300 + 450);
  });

  it('gives OAuth tokens a budget of their own, of their own size', async () => {
    const a = await budget({
      ...settings,
      ESP_BUDGET_KIT_OAUTH_REQUESTS: 20,
      ESP_BUDGET_MAX_WAIT_MS: 0,
    });
    const credential = `${KEY}-oauth`;
    for (let i = 0; i < 10; i++) await send(a, claim({ credential }));
    for (let i = 0; i < 20; i++) await send(a, claim({ credential, kind: 'oauth' }));
    await expect(a.acquire(claim({ credential, kind: 'oauth' }))).rejects.toBeInstanceOf(
      RateLimitedError,
    );
  });
});

describe('Mailchimp: a semaphore of leases per account', () => {
  const mailchimp = (credential: string): EspBudgetClaim => claim({ esp: 'mailchimp', credential });

  it('never lets more calls in flight than there are slots, across processes', async () => {
    const settings = { ESP_BUDGET_MAILCHIMP_IN_FLIGHT: 3, ESP_BUDGET_MAX_WAIT_MS: 5_000 };
    const a = await budget(settings);
    const b = await budget(settings);
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 24 }, async (_, i) => {
        const grant = await (i % 2 ? a : b).acquire(mailchimp('mc-key-us1'));
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        await grant.release(null);
      }),
    );
    expect(peak).toBe(3);
  });

  it('frees the slot of a process that died holding it once its lease expires', async () => {
    const settings = { ESP_BUDGET_MAILCHIMP_IN_FLIGHT: 1, ESP_BUDGET_MAX_WAIT_MS: 2_000 };
    const dying = await budget(settings, { leaseMs: 300 });
    await dying.acquire(mailchimp('mc-dead-us1')); // never released: the process is gone
    await dying.close();
    const survivor = await budget(settings, { leaseMs: 300 });
    const started = Date.now();
    await survivor.acquire(mailchimp('mc-dead-us1'));
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(1_500);
  });
});

describe("beehiiv: the vendor's own RateLimit-* headers", () => {
  const beehiiv = (credential: string): EspBudgetClaim => claim({ esp: 'beehiiv', credential });
  const headers = (remaining: number, resetMs: number) =>
    new Headers({
      'ratelimit-limit': '180',
      'ratelimit-remaining': String(remaining),
      'ratelimit-reset': String(Math.ceil(resetMs / 1000)),
    });

  it('starts from the documented quota, then stops at Remaining 0 until the Reset', async () => {
    const waits: number[] = [];
    const a = await budget({ ESP_BUDGET_MAX_WAIT_MS: 4_000 }, { waits });
    const b = await budget({ ESP_BUDGET_MAX_WAIT_MS: 4_000 });
    const credential = 'bh-key-reset';
    const first = await a.acquire(beehiiv(credential));
    const reset = Date.now() + 1_000;
    await first.release(headers(0, reset));
    // The other process learns it from Redis: nothing goes until the window resets.
    const started = Date.now();
    await b.acquire(beehiiv(credential));
    expect(Date.now()).toBeGreaterThanOrEqual(Math.ceil(reset / 1000) * 1000 - 20);
    // Reset is whole epoch seconds; the budget adds a second for clocks that differ.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('counts the calls still in flight against what the headers say is left', async () => {
    const a = await budget({ ESP_BUDGET_MAX_WAIT_MS: 0 });
    const credential = 'bh-key-inflight';
    const first = await a.acquire(beehiiv(credential));
    await first.release(headers(3, Date.now() + 30_000));
    // Three left: three calls may go out; while they are unanswered, a fourth may not.
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await a.acquire(beehiiv(credential)));
    await expect(a.acquire(beehiiv(credential))).rejects.toBeInstanceOf(RateLimitedError);
    // An answer arriving late with a higher Remaining (same window) cannot raise it again.
    await held[0].release(headers(2, Date.now() + 30_000));
    await held[1].release(headers(5, Date.now() + 30_000));
    await expect(a.acquire(beehiiv(credential))).resolves.toBeDefined();
    await expect(a.acquire(beehiiv(credential))).rejects.toBeInstanceOf(RateLimitedError);
  });
});

describe('keys and outages', () => {
  it('names budgets by a hash of the credential, never the credential itself', async () => {
    const a = await budget({});
    await send(a, claim({ credential: KEY }));
    await (await a.acquire(claim({ esp: 'mailchimp', credential: 'secret-mc-us1' }))).release(null);
    await (await a.acquire(claim({ esp: 'beehiiv', credential: 'secret-bh' }))).release(null);
    const redis = new Redis(testRedisUrl());
    try {
      const keys = await redis.keys(`${queues.prefix}:esp-budget:*`);
      expect(keys.length).toBeGreaterThanOrEqual(3);
      for (const key of keys) {
        for (const secret of [KEY, 'secret-mc-us1', 'secret-bh']) expect(key).not.toContain(secret);
      }
    } finally {
      redis.disconnect();
    }
  });

  it('fails open while Redis is unavailable: the call goes without a budget', async () => {
    const warnings: string[] = [];
    const redis = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    const down = new RedisEspRateBudget({
      redis,
      prefix: queues.prefix,
      settings: { ESP_BUDGET_KIT_API_KEY_REQUESTS: 1 },
      leaseMs: 1_000,
      logger: { warn: (message) => warnings.push(message) },
    });
    await down.connect(300);
    for (let i = 0; i < 3; i++) await expect(down.acquire(claim())).resolves.toBeDefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/without a budget/);
    await down.close();
  });
});
