import { FakeEspServer } from '@subscribernest/testkit';
import { BeehiivClient } from './beehiiv.client';
import { EspSubscriber } from './esp-client';
import { NotFoundError, RateLimitedError } from './esp-errors';

/**
 * The beehiiv client against the fake: the exact requests it sends (so drift from beehiiv's API
 * shows up here) and the quirks only beehiiv has.
 */
const KEY = 'bh_contract_key_1234';
const NESTED_KEY = 'bh_nested_key_5678';

let server: FakeEspServer;
let client: BeehiivClient;

beforeAll(async () => {
  server = await FakeEspServer.start({
    accounts: [
      {
        esp: 'beehiiv',
        apiKey: KEY,
        lists: [
          { id: 'pub_alpha', name: 'Alpha Weekly', size: 150 },
          { id: 'pub_beta', name: 'Beta Daily', size: 40 },
        ],
      },
      {
        esp: 'beehiiv',
        apiKey: NESTED_KEY,
        beehiivPagination: 'nested',
        lists: [{ id: 'pub_nested', name: 'Nested', size: 250 }],
      },
    ],
  });
  client = new BeehiivClient(server.baseUrls.beehiiv, {
    timeoutMs: 5_000,
    maxRetries: 0,
    maxInlineWaitMs: 0,
  });
});
afterAll(() => server.stop());
beforeEach(() => server.clearRequests());

async function all(publicationId: string, apiKey = KEY): Promise<EspSubscriber[]> {
  const out: EspSubscriber[] = [];
  for await (const page of client.streamSubscribers({ apiKey, publicationId })) {
    out.push(...page.subscribers);
  }
  return out;
}

describe('beehiiv contract', () => {
  it('pages subscriptions with Bearer auth, limit=100, status=all and the vendor cursor', async () => {
    await all('pub_alpha');
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/publications/pub_alpha/subscriptions',
        query: { limit: '100', status: 'all', 'expand[]': 'custom_fields' },
        headers: expect.objectContaining({ authorization: `Bearer ${KEY}` }),
        status: 200,
      }),
      expect.objectContaining({
        path: '/publications/pub_alpha/subscriptions',
        query: {
          limit: '100',
          status: 'all',
          'expand[]': 'custom_fields',
          cursor: expect.any(String),
        },
      }),
    ]);
  });

  it('counts with include_total=true and limit=1', async () => {
    await expect(client.countSubscribers({ apiKey: KEY, publicationId: 'pub_beta' })).resolves.toBe(
      40,
    );
    expect(server.requests).toEqual([
      expect.objectContaining({
        path: '/publications/pub_beta/subscriptions',
        query: { limit: '1', status: 'all', include_total: 'true' },
      }),
    ]);
  });

  it('validates with GET /publications/{id}', async () => {
    await expect(client.validate({ apiKey: KEY, publicationId: 'pub_beta' })).resolves.toEqual({
      ok: true,
      publicationId: 'pub_beta',
      publicationName: 'Beta Daily',
    });
    expect(server.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/publications/pub_beta', query: {} }),
    ]);
  });

  it('lists publications page by page with their syncable and total counts', async () => {
    const counts = (id: string) => {
      const all = [...server.subscribers('beehiiv', id)];
      return {
        subscriberCount: all.filter((s) => s.status !== 'other').length,
        total: all.length,
      };
    };
    await expect(client.listPublications(KEY)).resolves.toEqual([
      { id: 'pub_alpha', name: 'Alpha Weekly', ...counts('pub_alpha') },
      { id: 'pub_beta', name: 'Beta Daily', ...counts('pub_beta') },
    ]);
    expect(server.requests[0]).toEqual(
      expect.objectContaining({ path: '/publications', query: { limit: '100', page: '1' } }),
    );
    // Then each publication counted by status (include_total, limit 1).
    expect(server.requests.slice(1).map((r) => [r.path, r.query.status])).toEqual(
      ['pub_alpha', 'pub_beta'].flatMap((id) =>
        ['all', 'active', 'inactive', 'invalid'].map((status) => [
          `/publications/${id}/subscriptions`,
          status,
        ]),
      ),
    );
  });

  it('sends the key in the Authorization header only', async () => {
    await all('pub_alpha');
    await client.countSubscribers({ apiKey: KEY, publicationId: 'pub_alpha' });
    for (const request of server.requests) {
      const { authorization, ...otherHeaders } = request.headers;
      expect(authorization).toBe(`Bearer ${KEY}`);
      expect(JSON.stringify([request.path, request.query, otherHeaders])).not.toContain(KEY);
    }
  });
});

describe('beehiiv quirks', () => {
  it('reads has_more and next_cursor nested under "pagination" too', async () => {
    const subscribers = await all('pub_nested', NESTED_KEY);
    expect(new Set(subscribers.map((s) => s.externalId)).size).toBe(250);
    expect(server.requests).toHaveLength(3);
    await expect(
      client.countSubscribers({ apiKey: NESTED_KEY, publicationId: 'pub_nested' }),
    ).resolves.toBe(250);
  });

  it('maps each subscription: unix-seconds created, names from custom fields, the rest as metadata', async () => {
    const subscribers = await all('pub_beta');
    const expected = new Map(
      [...server.subscribers('beehiiv', 'pub_beta')].map((s) => [s.externalId, s]),
    );
    expect(subscribers).toHaveLength(expected.size);
    for (const s of subscribers) {
      expect(s.externalId).toMatch(/^sub_[0-9a-f-]{36}$/);
      expect({ email: s.email, status: s.status }).toEqual({
        email: expected.get(s.externalId)?.email,
        status: expected.get(s.externalId)?.status,
      });
      expect(s.firstName).toEqual(expect.any(String));
      expect(s.lastName).toEqual(expect.any(String));
      expect(s.subscribedAt).toBeInstanceOf(Date);
      expect(s.subscribedAt!.getUTCFullYear()).toBeGreaterThanOrEqual(2019);
      expect(s.unsubscribedAt).toBeNull();
      expect(s.metadata).toEqual(
        expect.objectContaining({
          subscription_tier: expect.stringMatching(/^(free|premium)$/),
          utm_source: expect.any(String),
          referral_code: expect.any(String),
          custom_fields: expect.any(Array),
        }),
      );
      for (const key of ['id', 'email', 'status', 'created'])
        expect(s.metadata).not.toHaveProperty(key);
    }
  });

  it('answers an unknown publication with NotFoundError', async () => {
    const error = await client
      .fetchPage({ apiKey: KEY, publicationId: 'pub_missing' }, null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, espType: 'beehiiv' });
  });
});

describe('beehiiv 429s with RateLimit-Reset and no Retry-After (as beehiiv documents them)', () => {
  /** A whole second, so Reset (epoch seconds) converts to an exact wait. */
  const START_MS = Date.UTC(2025, 5, 2, 9, 30, 0);
  const LIMITED_KEY = 'bh_limited_key_9999';
  const credentials = { apiKey: LIMITED_KEY, publicationId: 'pub_limited' };
  let limited: FakeEspServer;
  /** The clock both the fake (for Reset) and the client (to read it) use; sleeping advances it. */
  let clockMs: number;
  let slept: number[];

  beforeAll(async () => {
    limited = await FakeEspServer.start({
      now: () => clockMs,
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: LIMITED_KEY,
          lists: [{ id: 'pub_limited', name: 'Limited', size: 250 }],
        },
      ],
    });
  });
  afterAll(() => limited.stop());
  beforeEach(() => {
    clockMs = START_MS;
    slept = [];
    limited.clearRequests();
  });

  /** Real retries; a backoff of ~1 ms, so a wait of seconds can only come from Reset. */
  const resetClient = () =>
    new BeehiivClient(limited.baseUrls.beehiiv, {
      timeoutMs: 5_000,
      maxRetries: 2,
      maxInlineWaitMs: 10_000,
      backoffBaseMs: 1,
      now: () => clockMs,
      sleep: async (ms) => {
        slept.push(ms);
        clockMs += ms;
      },
    });

  it('waits out a short Reset in-process and still syncs every subscriber once', async () => {
    limited.setFaults('beehiiv', 'pub_limited', {
      rateLimitEvery: 2,
      retryAfterSeconds: 3,
      omitRetryAfter: true,
    });
    const ids: string[] = [];
    for await (const page of resetClient().streamSubscribers(credentials)) {
      ids.push(...page.subscribers.map((s) => s.externalId));
    }
    expect(ids).toHaveLength(250);
    expect(new Set(ids).size).toBe(250);
    expect(slept).toEqual([3_000, 3_000]);
    expect(limited.requests.map((r) => r.status)).toEqual([200, 429, 200, 429, 200]);
  });

  it('surfaces a Reset beyond the inline limit as RateLimitedError, without sleeping', async () => {
    limited.setFaults('beehiiv', 'pub_limited', {
      rateLimitEvery: 1,
      retryAfterSeconds: 90,
      omitRetryAfter: true,
    });
    const error = await resetClient()
      .fetchPage(credentials, null)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 90_000 });
    expect(slept).toEqual([]);
    expect(limited.requests).toHaveLength(1);
  });
});
