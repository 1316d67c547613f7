import { FakeEspServer } from '@subscribernest/testkit';
import { EspSubscriber } from './esp-client';
import { KitClient } from './kit.client';

/**
 * The Kit client against the fake: the exact requests it sends (so drift from Kit's API shows
 * up here) and the quirks only Kit has (the account is the list; a listing per state; has_next_page).
 */
const KEY = 'kit_contract_key_1234';
const ACCOUNT_ID = '4242';

let server: FakeEspServer;
let client: KitClient;

beforeAll(async () => {
  server = await FakeEspServer.start({
    accounts: [
      { esp: 'kit', apiKey: KEY, lists: [{ id: ACCOUNT_ID, name: 'Ada Weekly', size: 2_500 }] },
    ],
  });
  client = new KitClient(server.baseUrls.kit, {
    timeoutMs: 5_000,
    maxRetries: 0,
    maxInlineWaitMs: 0,
  });
});
afterAll(() => server.stop());
beforeEach(() => server.clearRequests());

const STATE_ORDER = ['active', 'cancelled', 'bounced', 'complained', 'inactive'];
const order = (status: unknown) => STATE_ORDER.indexOf(String(status));

async function all(): Promise<EspSubscriber[]> {
  const out: EspSubscriber[] = [];
  for await (const page of client.streamSubscribers({ apiKey: KEY })) out.push(...page.subscribers);
  return out;
}

describe('Kit contract', () => {
  it('pages state by state with X-Kit-Api-Key, per_page=1000 and after=end_cursor; include=canceled_at with status=cancelled', async () => {
    await all();
    const statuses = server.requests.map((r) => r.query.status);
    // Each state in order, each listed to its end before the next begins.
    expect([...new Set(statuses)]).toEqual([
      'active',
      'cancelled',
      'bounced',
      'complained',
      'inactive',
    ]);
    expect(statuses).toEqual([...statuses].sort((a, b) => order(a) - order(b)));
    server.requests.forEach((request, i) => {
      const continues = i > 0 && statuses[i - 1] === request.query.status;
      expect(request).toMatchObject({ method: 'GET', path: '/subscribers' });
      expect(request.query).toEqual({
        per_page: '1000',
        status: request.query.status,
        ...(request.query.status === 'cancelled' ? { include: 'canceled_at' } : {}),
        ...(continues ? { after: expect.any(String) } : {}),
      });
      expect(request.headers['x-kit-api-key']).toBe(KEY);
      expect(request.headers.authorization).toBeUndefined();
      expect(JSON.stringify([request.path, request.query])).not.toContain(KEY);
    });
    // The active state holds most of the list: more than one page of it.
    expect(statuses.filter((status) => status === 'active').length).toBeGreaterThan(1);
  });

  it('gives cancelled subscribers the date they unsubscribed (canceled_at)', async () => {
    const subscribers = await all();
    const cancelled = subscribers.filter((s) => s.metadata.state === 'cancelled');
    expect(cancelled.length).toBeGreaterThan(0);
    for (const s of cancelled) expect(s.unsubscribedAt).toBeInstanceOf(Date);
    for (const s of subscribers.filter((s) => s.metadata.state === 'active')) {
      expect(s.unsubscribedAt).toBeNull();
    }
  });

  it('counts with per_page=1, include_total_count=true and status=all', async () => {
    await expect(client.countSubscribers({ apiKey: KEY })).resolves.toBe(2_500);
    expect(server.requests).toEqual([
      expect.objectContaining({
        path: '/subscribers',
        query: { per_page: '1', include_total_count: 'true', status: 'all' },
      }),
    ]);
  });

  it('validates with GET /account; the account id is the list id, so it is optional', async () => {
    const ok = { ok: true, publicationId: ACCOUNT_ID, publicationName: 'Ada Weekly' };
    await expect(client.validate({ apiKey: KEY })).resolves.toEqual(ok);
    await expect(client.validate({ apiKey: KEY, publicationId: ACCOUNT_ID })).resolves.toEqual(ok);
    expect(server.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', '/account'],
      ['GET', '/account'],
    ]);
  });

  it('lists the account as the one list, with its syncable and total counts', async () => {
    await expect(client.listPublications(KEY)).resolves.toEqual([
      { id: ACCOUNT_ID, name: 'Ada Weekly', subscriberCount: 2_500, total: 2_500 },
    ]);
    expect(server.requests.map((r) => [r.path, r.query.status])).toEqual([
      ['/account', undefined],
      ['/subscribers', 'all'],
      ['/subscribers', 'all'],
      ['/subscribers', 'inactive'],
    ]);
  });
});

describe('Kit quirks', () => {
  it('syncs every state, not only Kit\'s default "active"', async () => {
    const subscribers = await all();
    const statuses = new Set(subscribers.map((s) => s.status));
    expect(statuses).toEqual(new Set(['active', 'unsubscribed', 'bounced']));
    expect(subscribers).toHaveLength(2_500);
  });

  it('maps complained to unsubscribed and keeps the vendor state in metadata', async () => {
    const subscribers = await all();
    const complained = subscribers.filter((s) => s.metadata.state === 'complained');
    expect(complained.length).toBeGreaterThan(0);
    for (const s of complained) expect(s.status).toBe('unsubscribed');
  });

  it('maps ids, names and dates, matching the ESP record by record', async () => {
    const expected = new Map(
      [...server.subscribers('kit', ACCOUNT_ID)].map((s) => [s.externalId, s]),
    );
    for (const s of await all()) {
      expect(s.externalId).toMatch(/^\d+$/);
      expect({ email: s.email, status: s.status }).toEqual({
        email: expected.get(s.externalId)?.email,
        status: expected.get(s.externalId)?.status,
      });
      expect(s.lastName).toEqual(expect.any(String));
      expect(s.subscribedAt).toBeInstanceOf(Date);
      expect(s.metadata).toEqual({ state: expect.any(String), fields: expect.any(Object) });
    }
  });
});
