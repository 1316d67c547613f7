import { FakeEspServer } from './fake-esp-server';

interface Subscriber {
  id: number;
  first_name: string | null;
  email_address: string;
  state: string;
  created_at: string;
  fields: { last_name: string | null };
}

interface Page {
  subscribers: Subscriber[];
  pagination: {
    has_previous_page: boolean;
    has_next_page: boolean;
    start_cursor: string | null;
    end_cursor: string | null;
    per_page: number;
    total_count?: number;
  };
}

const SIZES = { '1001': 0, '1002': 1, '1003': 1000, '1004': 1001 } as const;

describe('fake ESP: Kit v4', () => {
  let server: FakeEspServer;
  let base: string;

  beforeAll(async () => {
    server = await FakeEspServer.start({
      accounts: [
        ...Object.entries(SIZES).map(([id, size]) => ({
          esp: 'kit' as const,
          apiKey: `kit-key-${id}`,
          lists: [{ id, name: `Account ${id}`, size }],
        })),
        {
          esp: 'kit',
          apiKey: 'kit-key-big',
          lists: [{ id: '2000', name: 'Big', size: 1_500_000 }],
        },
      ],
    });
    base = server.baseUrls.kit;
  });
  afterAll(() => server.stop());

  async function get<T = Record<string, unknown>>(
    path: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${base}${path}`, { headers });
    return { status: response.status, body: (await response.json()) as T };
  }
  const key = (account: string): Record<string, string> => ({
    'x-kit-api-key': `kit-key-${account}`,
  });

  async function pullAll(account: string, query: string): Promise<Page[]> {
    const pages: Page[] = [];
    let after = '';
    for (;;) {
      const { status, body } = await get<Page>(`/subscribers?${query}${after}`, key(account));
      expect(status).toBe(200);
      pages.push(body);
      if (!body.pagination.has_next_page) return pages;
      after = `&after=${body.pagination.end_cursor!}`;
    }
  }

  it('accepts X-Kit-Api-Key or a Bearer token and answers anything else with Kit 401', async () => {
    const account = await get('/account', key('1003'));
    expect(account.status).toBe(200);
    expect(account.body).toEqual({
      user: { email: expect.any(String) },
      account: {
        id: 1003,
        name: 'Account 1003',
        plan_type: expect.any(String),
        primary_email_address: expect.any(String),
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        timezone: {
          name: expect.any(String),
          friendly_name: expect.any(String),
          utc_offset: expect.any(String),
        },
      },
    });
    const bearer = await get('/account', { authorization: 'Bearer kit-key-1003' });
    expect(bearer.status).toBe(200);
    const attempts: Record<string, string>[] = [{}, { 'x-kit-api-key': 'wrong' }];
    for (const headers of attempts) {
      const denied = await get('/subscribers', headers);
      expect(denied).toEqual({ status: 401, body: { errors: ['The access token is invalid'] } });
    }
  });

  it('answers unknown routes with 404 and per_page above 1000 with 422, in Kit error shape', async () => {
    expect(await get('/nothing', key('1003'))).toEqual({
      status: 404,
      body: { errors: ['Not Found'] },
    });
    const tooMany = await get('/subscribers?per_page=1001', key('1003'));
    expect(tooMany.status).toBe(422);
    expect(tooMany.body).toEqual({ errors: [expect.any(String)] });
  });

  it.each(Object.entries(SIZES))(
    'pages account %s with status=all to exactly %i subscribers, newest id first',
    async (account, size) => {
      const pages = await pullAll(account, 'per_page=1000&status=all&include_total_count=true');
      const all = pages.flatMap((page) => page.subscribers);
      expect(all).toHaveLength(size);
      expect(pages[0].pagination.total_count).toBe(size);
      const ids = all.map((s) => s.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      expect(new Set(all.map((s) => s.email_address)).size).toBe(size);
      const last = pages[pages.length - 1].pagination;
      expect(last.has_next_page).toBe(false);
      if (size > 0) expect(typeof last.end_cursor).toBe('string');
      for (const subscriber of all) {
        expect(subscriber.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(subscriber.fields).toHaveProperty('last_name');
      }
    },
  );

  it('returns only active subscribers unless status=all is sent', async () => {
    const active = (await pullAll('1004', 'per_page=1000')).flatMap((p) => p.subscribers);
    const all = (await pullAll('1004', 'per_page=1000&status=all')).flatMap((p) => p.subscribers);
    expect(new Set(active.map((s) => s.state))).toEqual(new Set(['active']));
    expect(active.length).toBeLessThan(all.length);
    expect(active.length).toBeGreaterThan(all.length * 0.8);
    const states = new Set(all.map((s) => s.state));
    expect(
      [...states].every((s) => ['active', 'cancelled', 'bounced', 'complained'].includes(s)),
    ).toBe(true);
    expect(states.has('cancelled')).toBe(true);
  });

  it('uses per_page 500 by default and pages backwards with before=start_cursor', async () => {
    const first = await get<Page>('/subscribers?status=all', key('1004'));
    expect(first.body.subscribers).toHaveLength(500);
    expect(first.body.pagination).toMatchObject({
      per_page: 500,
      has_previous_page: false,
      has_next_page: true,
    });
    const second = await get<Page>(
      `/subscribers?status=all&after=${first.body.pagination.end_cursor!}`,
      key('1004'),
    );
    expect(second.body.pagination.has_previous_page).toBe(true);
    const back = await get<Page>(
      `/subscribers?status=all&before=${second.body.pagination.start_cursor!}`,
      key('1004'),
    );
    expect(back.body.subscribers).toEqual(first.body.subscribers);
  });

  it('resumes exactly from a cursor taken mid-way, deep into a list of millions', async () => {
    const first = await get<Page>('/subscribers?per_page=1000&status=all', key('big'));
    expect(first.body.subscribers[0].id).toBe(1_000_000 + 1_499_999);
    const cursor = first.body.pagination.end_cursor!;
    const second = await get<Page>(
      `/subscribers?per_page=1000&status=all&after=${cursor}`,
      key('big'),
    );
    const again = await get<Page>(
      `/subscribers?per_page=1000&status=all&after=${cursor}`,
      key('big'),
    );
    expect(again.body).toEqual(second.body);
    expect(second.body.subscribers[0].id).toBe(first.body.subscribers[999].id - 1);
    const count = await get<Page>('/subscribers?per_page=1&include_total_count=true', key('big'));
    expect(count.body.pagination.total_count).toBeGreaterThan(1_300_000);
  });
});
