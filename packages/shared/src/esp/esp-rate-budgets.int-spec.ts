import Redis from 'ioredis';
import {
  createTestQueuePrefix,
  FakeEspServer,
  FakeRateLimits,
  testRedisUrl,
  TestQueuePrefix,
} from '@subscribernest/testkit';
import type { EspType } from '../entities/esp-connection.entity';
import { EspBudgetSettings } from './budget/esp-budget-settings';
import { RedisEspRateBudget } from './budget/redis-esp-rate-budget';
import { EspClientRegistry, createEspClientRegistry } from './esp-client.registry';
import { EspCredentials } from './esp-client';

/**
 * The clients against a fake that enforces each vendor's limit (scaled down so a test takes
 * seconds: the same algorithms, shorter windows): two "processes" (registries with their own
 * Redis connection, one budget prefix) pull two lists of one account at once while live counts
 * run on the same key. With the budget not one request is refused; without it, the same load
 * is (the control, so the fake is known to bite).
 */
const LIMITS: FakeRateLimits = {
  beehiiv: { requests: 50, windowMs: 1_000 },
  kit: { apiKeyRequests: 15, oauthRequests: 60, windowMs: 1_000 },
  mailchimp: { inFlight: 4 },
};
// What the budgets are told. beehiiv's quota comes from its headers; the window only sets margins.
const BUDGETS: EspBudgetSettings = {
  ESP_BUDGET_BEEHIIV_WINDOW_MS: 1_000,
  ESP_BUDGET_KIT_API_KEY_REQUESTS: 15,
  ESP_BUDGET_KIT_WINDOW_MS: 1_000,
  ESP_BUDGET_MAILCHIMP_IN_FLIGHT: 4,
  ESP_BUDGET_MAX_WAIT_MS: 10_000,
};
const KEYS: Record<EspType, string> = {
  beehiiv: 'bh-budget-key',
  kit: 'kit-budget-key',
  mailchimp: 'mc-budget-key-us1',
};
// Kit: an account is one list, so "two lists" are two connections of the same account.
const LISTS: Record<EspType, [string, string]> = {
  beehiiv: ['pub_one', 'pub_two'],
  kit: ['9090', '9090'],
  mailchimp: ['mc_one', 'mc_two'],
};
/** Two lists of 25,000: 50,000 subscribers per vendor, paged as a sync pages them. */
const SIZE = 25_000;

let server: FakeEspServer;
let queues: TestQueuePrefix;
const budgets: RedisEspRateBudget[] = [];

beforeAll(async () => {
  queues = createTestQueuePrefix();
  server = await FakeEspServer.start({
    rateLimits: LIMITS,
    recordRequests: false,
    accounts: [
      {
        esp: 'beehiiv',
        apiKey: KEYS.beehiiv,
        lists: LISTS.beehiiv.map((id) => ({ id, name: id, size: SIZE })),
      },
      { esp: 'kit', apiKey: KEYS.kit, lists: [{ id: '9090', name: 'Kit', size: SIZE }] },
      {
        esp: 'mailchimp',
        apiKey: KEYS.mailchimp,
        lists: LISTS.mailchimp.map((id) => ({
          id,
          name: id,
          size: SIZE,
          faults: { latencyMs: 30 },
        })),
      },
    ],
  });
});

afterAll(async () => {
  await Promise.all(budgets.map((budget) => budget.close()));
  await server.stop();
  await queues.cleanup();
});

async function startProcess(withBudget: boolean): Promise<EspClientRegistry> {
  let budget: RedisEspRateBudget | undefined;
  if (withBudget) {
    const redis = new Redis(testRedisUrl(), { lazyConnect: true, enableOfflineQueue: false });
    budget = new RedisEspRateBudget({
      redis,
      prefix: queues.prefix,
      settings: BUDGETS,
      leaseMs: 10_000,
    });
    await budget.connect();
    budgets.push(budget);
  }
  return createEspClientRegistry(
    {
      BEEHIIV_API_URL: server.baseUrls.beehiiv,
      KIT_API_URL: server.baseUrls.kit,
      MAILCHIMP_API_URL: server.baseUrls.mailchimp,
    },
    // The control retries its 429s so that it finishes; the budgeted run never needs to.
    { maxRetries: 8, maxInlineWaitMs: 2_000, backoffBaseMs: 50, budget },
  );
}

/**
 * Two processes each pull one list (the control: its first pages only); meanwhile the api side
 * counts and lists, 12 times at once (the control: 24).
 */
async function load(esp: EspType, withBudget: boolean): Promise<number> {
  const [worker1, worker2, api] = await Promise.all([
    startProcess(withBudget),
    startProcess(withBudget),
    startProcess(withBudget),
  ]);
  const credentials = (listId: string): EspCredentials => ({
    apiKey: KEYS[esp],
    publicationId: listId,
  });
  const pull = async (registry: EspClientRegistry, listId: string) => {
    let pulled = 0;
    let pages = 0;
    for await (const page of registry.get(esp).streamSubscribers(credentials(listId))) {
      pulled += page.subscribers.length + page.skipped;
      if (!withBudget && ++pages === 5) break;
    }
    return pulled;
  };
  const live = Promise.all(
    Array.from({ length: withBudget ? 12 : 24 }, (_, i) =>
      i % 3 === 0
        ? api.get(esp).listPublications(KEYS[esp])
        : api.get(esp).countSubscribers(credentials(LISTS[esp][i % 2])),
    ),
  );
  // The control's calls may run out of retries on 429s: each ends (so nothing is left running
  // into the next test) and its failure only counts as nothing pulled.
  const settle = <T>(call: Promise<T>, otherwise: T): Promise<T> =>
    withBudget ? call : call.catch(() => otherwise);
  const [first, second] = await Promise.all([
    settle(pull(worker1, LISTS[esp][0]), 0),
    settle(pull(worker2, LISTS[esp][1]), 0),
    settle(live, []),
  ]);
  return first + second;
}

describe.each<EspType>(['beehiiv', 'kit', 'mailchimp'])('%s under its documented limit', (esp) => {
  beforeEach(() => server.resetRateLimitStats(esp, KEYS[esp]));

  it('with the shared budget: two syncs and live calls on one account, not one 429', async () => {
    await expect(load(esp, true)).resolves.toBe(2 * SIZE);
    const stats = server.rateLimitStats(esp, KEYS[esp]);
    expect(stats.rejected).toBe(0);
    if (esp === 'mailchimp') expect(stats.peakInFlight).toBeLessThanOrEqual(4);
    else expect(stats.peakWindowRequests).toBeLessThanOrEqual(esp === 'kit' ? 15 : 50);
  }, 60_000);

  it('without it (the control), a lighter load passes the limit', async () => {
    await load(esp, false);
    expect(server.rateLimitStats(esp, KEYS[esp]).rejected).toBeGreaterThan(0);
  }, 60_000);
});
