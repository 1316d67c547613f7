import { FakeEspServer } from './fake-esp-server';

const KEY = 'beehiiv-test-key';
const AUTH = { authorization: `Bearer ${KEY}` };

interface Subscription {
  id: string;
  email: string;
  status: string;
  created: number;
  custom_fields?: unknown;
}

interface Publication {
  id: string;
  name: string;
  stats?: { active_subscriptions: number };
}

interface Page {
  data: Subscription[];
  limit: number;
  has_more?: boolean;
  next_cursor?: string | null;
  total_results?: number;
  pagination?: { has_more: boolean; next_cursor: string | null; total_results?: number };
}

describe('fake ESP: beehiiv v2', () => {
  let server: FakeEspServer;
  let base: string;

  beforeAll(async () => {
    server = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: KEY,
          lists: [
            { id: 'pub_empty', name: 'Empty', size: 0 },
            { id: 'pub_one', name: 'One', size: 1 },
            { id: 'pub_100', name: 'Hundred', size: 100 },
            { id: 'pub_101', name: 'Hundred and one', size: 101 },
            { id: 'pub_big', name: 'Big', size: 2_000_000 },
          ],
        },
        {
          esp: 'beehiiv',
          apiKey: 'nested-key',
          beehiivPagination: 'nested',
          lists: [{ id: 'pub_nested', name: 'Nested', size: 250 }],
        },
      ],
    });
    base = server.baseUrls.beehiiv;
  });
  afterAll(() => server.stop());

  async function get<T = Record<string, unknown>>(
    path: string,
    headers: Record<string, string> = AUTH,
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const response = await fetch(`${base}${path}`, { headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as T,
    };
  }

  async function pullAll(publication: string, query = '', headers = AUTH): Promise<Page['data']> {
    const all: Page['data'] = [];
    let cursor: string | null | undefined;
    for (;;) {
      const suffix = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const { status, body: page } = await get<Page>(
        `/publications/${publication}/subscriptions?limit=100${query}${suffix}`,
        headers,
      );
      expect(status).toBe(200);
      all.push(...page.data);
      const more = page.has_more ?? page.pagination?.has_more;
      cursor = page.next_cursor ?? page.pagination?.next_cursor;
      if (!more) break;
    }
    return all;
  }

  it('answers a missing or wrong key with 401 in beehiiv error shape, with RateLimit headers', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer nope' }];
    for (const headers of attempts) {
      const { status, body, headers: h } = await get('/publications', headers);
      expect(status).toBe(401);
      expect(body).toEqual({
        status: 401,
        statusText: 'Unauthorized',
        errors: [{ message: expect.any(String), code: expect.any(String) }],
      });
      expect(h.get('ratelimit-limit')).toBe('180');
      expect(Number(h.get('ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
    }
  });

  it('answers an unknown publication or route with 404 in beehiiv error shape', async () => {
    const unknown = await get('/publications/pub_nope/subscriptions');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ status: 404, errors: [{ code: 'not_found' }] });
    // Another account's publication is unknown to this key.
    expect((await get('/publications/pub_nested')).status).toBe(404);
    expect((await get('/nothing-here')).status).toBe(404);
  });

  it('lists publications page by page and counts active subscriptions with expand[]=stats', async () => {
    const { status, body, headers } = await get<{ data: Publication[] }>(
      '/publications?limit=2&page=2&expand[]=stats',
    );
    expect(status).toBe(200);
    expect(headers.get('ratelimit-remaining')).toMatch(/^\d+$/);
    expect(body).toMatchObject({ limit: 2, page: 2, total_results: 5, total_pages: 3 });
    expect(body.data.map((p) => p.id)).toEqual(['pub_100', 'pub_101']);

    const one = await get<{ data: Publication }>('/publications/pub_101?expand[]=stats');
    const active = (await pullAll('pub_101', '&status=active')).length;
    expect(one.body.data).toMatchObject({ id: 'pub_101', name: 'Hundred and one' });
    expect(one.body.data.stats?.active_subscriptions).toBe(active);
    expect(active).toBeGreaterThan(70);
    const plain = await get<{ data: Publication }>('/publications/pub_101');
    expect(plain.body.data.stats).toBeUndefined();
  });

  it.each([
    ['pub_empty', 0],
    ['pub_one', 1],
    ['pub_100', 100],
    ['pub_101', 101],
  ])('pages through %s to exactly %i subscriptions with the cursor', async (pub, size) => {
    const all = await pullAll(pub);
    expect(all).toHaveLength(size);
    expect(new Set(all.map((s) => s.id)).size).toBe(size);
    expect(new Set(all.map((s) => s.email)).size).toBe(size);
    for (const subscription of all) {
      expect(subscription.id).toMatch(/^sub_[0-9a-f-]{36}$/);
      expect(Number.isInteger(subscription.created)).toBe(true);
    }
    const created = all.map((s) => s.created);
    expect(created).toEqual([...created].sort((a, b) => a - b));
  });

  it('reports has_more, next_cursor and total_results at the top level by default', async () => {
    const { body } = await get<Page>(
      '/publications/pub_101/subscriptions?limit=100&include_total=true',
    );
    expect(body).toMatchObject({ limit: 100, has_more: true, total_results: 101 });
    expect(typeof body.next_cursor).toBe('string');
    expect(body.pagination).toBeUndefined();
    const last = await get<Page>(
      `/publications/pub_101/subscriptions?limit=100&cursor=${body.next_cursor!}`,
    );
    expect(last.body).toMatchObject({ has_more: false, next_cursor: null });
    expect(last.body.data).toHaveLength(1);
    expect(last.body.total_results).toBeUndefined();
  });

  it('nests has_more, next_cursor and total_results under pagination when the account says so', async () => {
    const headers = { authorization: 'Bearer nested-key' };
    const { body } = await get<Page>(
      '/publications/pub_nested/subscriptions?include_total=true',
      headers,
    );
    expect(body.has_more).toBeUndefined();
    expect(body.pagination).toEqual({
      limit: 10,
      has_more: true,
      next_cursor: expect.any(String),
      total_results: 250,
    });
    expect(await pullAll('pub_nested', '', headers)).toHaveLength(250);
  });

  it('rejects limit above 100 with 400', async () => {
    const { status, body } = await get('/publications/pub_100/subscriptions?limit=101');
    expect(status).toBe(400);
    expect(body).toMatchObject({ status: 400, statusText: 'Bad Request' });
    expect((await get('/publications/pub_100/subscriptions?cursor=garbage')).status).toBe(400);
  });

  it('filters by status (all by default) and expands first and last names as custom fields', async () => {
    const all = await pullAll('pub_101');
    const active = await pullAll('pub_101', '&status=active');
    const inactive = await pullAll('pub_101', '&status=inactive');
    const invalid = await pullAll('pub_101', '&status=invalid');
    expect(active.length + inactive.length + invalid.length).toBe(all.length);
    expect(new Set(active.map((s) => s.status))).toEqual(new Set(['active']));

    const { body } = await get<Page>('/publications/pub_one/subscriptions?expand[]=custom_fields');
    expect(body.data[0].custom_fields).toEqual([
      { name: 'first_name', kind: 'string', value: expect.any(String) },
      { name: 'last_name', kind: 'string', value: expect.any(String) },
    ]);
    expect(body.data[0]).toMatchObject({
      subscription_tier: expect.stringMatching(/^(free|premium)$/),
      utm_source: expect.any(String),
      utm_channel: expect.any(String),
      referring_site: expect.any(String),
      referral_code: expect.any(String),
    });
  });

  it('resumes exactly from a cursor taken mid-way, deep into a list of millions', async () => {
    const path = '/publications/pub_big/subscriptions?limit=100&direction=desc';
    const first = await get<Page>(path);
    expect(first.body.data[0].email).toMatch(/\.1999999@example\.test$/);
    const cursor = first.body.next_cursor!;
    const second = await get<Page>(`${path}&cursor=${cursor}`);
    const again = await get<Page>(`${path}&cursor=${cursor}`);
    const pageTwo = await get<Page>(`${path}&page=2`);
    expect(second.body.data).toHaveLength(100);
    expect(again.body.data).toEqual(second.body.data);
    expect(second.body.data).toEqual(pageTwo.body.data);
    const ids = new Set([...first.body.data, ...second.body.data].map((s) => s.id));
    expect(ids.size).toBe(200);
  });

  it('records each request relative to the base URL, with its query and headers', async () => {
    server.clearRequests();
    await get('/publications/pub_one/subscriptions?limit=5&expand[]=stats&expand[]=custom_fields');
    expect(server.requests).toEqual([
      {
        esp: 'beehiiv',
        method: 'GET',
        path: '/publications/pub_one/subscriptions',
        query: { limit: '5', 'expand[]': ['stats', 'custom_fields'] },
        headers: expect.objectContaining({ authorization: `Bearer ${KEY}` }),
        status: 200,
      },
    ]);
  });
});
