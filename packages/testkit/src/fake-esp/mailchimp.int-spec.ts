import { createHash } from 'node:crypto';
import { FakeEspServer } from './fake-esp-server';

const KEY = 'mc-test-key-us6';

interface Member {
  id: string;
  email_address: string;
  status: string;
  merge_fields: { FNAME: string; LNAME: string };
  timestamp_opt: string;
  timestamp_signup: string;
  last_changed: string;
}

interface MembersPage {
  members: Member[];
  list_id: string;
  total_items: number;
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
}

const basic = (key: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`anystring:${key}`).toString('base64')}`,
});

describe('fake ESP: Mailchimp 3.0', () => {
  let server: FakeEspServer;
  let base: string;

  beforeAll(async () => {
    server = await FakeEspServer.start({
      accounts: [
        {
          esp: 'mailchimp',
          apiKey: KEY,
          lists: [
            { id: 'l0', name: 'Empty', size: 0 },
            { id: 'l1', name: 'One', size: 1 },
            { id: 'l1000', name: 'Thousand', size: 1000 },
            { id: 'l1001', name: 'Thousand and one', size: 1001 },
            { id: 'lbig', name: 'Big', size: 4_000_000 },
          ],
        },
      ],
    });
    base = server.mailchimpBaseUrl('us6');
  });
  afterAll(() => server.stop());

  async function get<T = Record<string, unknown>>(
    path: string,
    headers: Record<string, string> = basic(KEY),
    url = base,
  ): Promise<{ status: number; headers: Headers; body: T }> {
    const response = await fetch(`${url}${path}`, { headers });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as T,
    };
  }

  async function pullAll(list: string, query = ''): Promise<Member[]> {
    const members: Member[] = [];
    for (let offset = 0; ;) {
      const { status, body } = await get<MembersPage>(
        `/lists/${list}/members?count=1000&offset=${offset}${query}`,
      );
      expect(status).toBe(200);
      members.push(...body.members);
      offset += body.members.length;
      if (offset >= body.total_items || body.members.length === 0) return members;
    }
  }

  it('exposes a base URL with a literal {dc} for the client to fill from the key', () => {
    expect(server.baseUrls.mailchimp).toBe(`${server.url}/mailchimp/{dc}/3.0`);
  });

  it('answers ping with HTTP Basic (any user) or Bearer, and checks the key', async () => {
    const ping = await get('/ping');
    expect(ping).toMatchObject({ status: 200, body: { health_status: "Everything's Chimpy!" } });
    expect(ping.headers.get('x-request-id')).toBeTruthy();
    expect((await get('/ping', { authorization: `Bearer ${KEY}` })).status).toBe(200);

    const missing = await get<Problem>('/ping', {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(missing.body).toEqual({
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title: 'API Key Missing',
      status: 401,
      detail: 'Your request did not include an API key.',
      instance: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const wrong = await get<Problem>('/ping', basic('other-key-us6'));
    expect(wrong.body).toMatchObject({ status: 401, title: 'API Key Invalid' });
  });

  it("answers 401 API Key Invalid when the URL's data centre is not the key's", async () => {
    const wrongDc = await get<Problem>('/ping', basic(KEY), server.mailchimpBaseUrl('us1'));
    expect(wrongDc.status).toBe(401);
    expect(wrongDc.body.title).toBe('API Key Invalid');
    expect(wrongDc.body.detail).toMatch(/wrong datacenter/);
    // A client that forgot to substitute {dc} is refused the same way.
    const literal = await fetch(`${server.baseUrls.mailchimp}/ping`, { headers: basic(KEY) });
    expect(literal.status).toBe(401);
  });

  it('records the data centre each request was sent to', async () => {
    server.clearRequests();
    await get('/lists/l1/members');
    await get('/ping', basic(KEY), server.mailchimpBaseUrl('eu1'));
    expect(server.requests.map((r) => [r.esp, r.dc, r.path, r.status])).toEqual([
      ['mailchimp', 'us6', '/lists/l1/members', 200],
      ['mailchimp', 'eu1', '/ping', 401],
    ]);
  });

  it('lists the lists with stats, and answers an unknown list or route with 404 problem+json', async () => {
    const lists = await get<{
      lists: { id: string; stats: Record<string, number> }[];
      total_items: number;
    }>('/lists?count=2&offset=2');
    expect(lists.body.total_items).toBe(5);
    expect(lists.body.lists.map((l) => l.id)).toEqual(['l1000', 'l1001']);
    const one = await get<{ id: string; name: string; stats: Record<string, number> }>(
      '/lists/l1001',
    );
    const { member_count, unsubscribe_count, cleaned_count } = one.body.stats;
    expect(member_count + unsubscribe_count + cleaned_count).toBe(1001);
    expect(member_count).toBe((await pullAll('l1001', '&status=subscribed')).length);

    for (const path of ['/lists/nope', '/lists/nope/members', '/campaigns']) {
      const notFound = await get<Problem>(path);
      expect(notFound.status).toBe(404);
      expect(notFound.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(notFound.body).toMatchObject({ title: 'Resource Not Found', status: 404 });
    }
  });

  it.each([
    ['l0', 0],
    ['l1', 1],
    ['l1000', 1000],
    ['l1001', 1001],
  ])('pages %s by offset to exactly %i members', async (list, size) => {
    const members = await pullAll(list);
    expect(members).toHaveLength(size);
    expect(new Set(members.map((m) => m.id)).size).toBe(size);
    for (const member of members.slice(0, 50)) {
      const md5 = createHash('md5').update(member.email_address.toLowerCase()).digest('hex');
      expect(member.id).toBe(md5);
      expect(member.merge_fields).toMatchObject({
        FNAME: expect.any(String),
        LNAME: expect.any(String),
      });
    }
  });

  it('uses ISO "+00:00" dates, and "" for some unknown ones', async () => {
    const members = await pullAll('l1001');
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/;
    const optIns = members.map((m) => m.timestamp_opt);
    expect(optIns.filter((t) => t === '').length).toBeGreaterThan(10);
    expect(optIns.filter((t) => t !== '').every((t) => iso.test(t))).toBe(true);
    expect(members.some((m) => m.timestamp_opt === '' && m.timestamp_signup !== '')).toBe(true);
    expect(members.every((m) => iso.test(m.last_changed))).toBe(true);
    expect(new Set(members.map((m) => m.status))).toEqual(
      new Set(['subscribed', 'unsubscribed', 'cleaned']),
    );
  });

  it('defaults count to 10, rejects count above 1000 with 400, and honours fields', async () => {
    const page = await get<MembersPage>('/lists/l1001/members');
    expect(page.body.members).toHaveLength(10);
    expect(page.body).toMatchObject({ list_id: 'l1001', total_items: 1001 });
    const tooMany = await get<Problem>('/lists/l1001/members?count=1001');
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.status).toBe(400);
    expect((await get('/lists/l1001/members?fields=total_items')).body).toEqual({
      total_items: 1001,
    });
    const slim = await get<MembersPage>(
      '/lists/l1001/members?count=2&fields=members.id,members.status,total_items',
    );
    expect(Object.keys(slim.body.members[0])).toEqual(['id', 'status']);
  });

  it('filters by status and serves a deep offset of a list of millions', async () => {
    const cleaned = await get<MembersPage>(
      '/lists/lbig/members?status=cleaned&count=5&offset=100000',
    );
    expect(cleaned.body.members).toHaveLength(5);
    expect(cleaned.body.members.every((m) => m.status === 'cleaned')).toBe(true);
    const total = cleaned.body.total_items;
    const tail = await get<MembersPage>(
      `/lists/lbig/members?status=cleaned&count=1000&offset=${total - 3}`,
    );
    expect(tail.body.members).toHaveLength(3);
    const end = await get<MembersPage>('/lists/lbig/members?count=1000&offset=3999998');
    expect(end.body.members.map((m) => m.email_address)).toEqual([
      expect.stringMatching(/\.3999998@/),
      expect.stringMatching(/\.3999999@/),
    ]);
  });

  it('refuses an 11th simultaneous request of one account with 429', async () => {
    server.setFaults('mailchimp', 'l1', { latencyMs: 300 });
    try {
      const responses = await Promise.all(
        Array.from({ length: 12 }, () =>
          fetch(`${base}/lists/l1/members`, { headers: basic(KEY) }),
        ),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(2);
      const refused = responses.find((r) => r.status === 429)!;
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await refused.json()) as Problem).detail).toMatch(/10 simultaneous connections/);
      expect((await get('/ping')).status).toBe(200);
    } finally {
      server.setFaults('mailchimp', 'l1', undefined);
    }
  });
});
