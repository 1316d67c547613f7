import { FakeEspType, FakeSubscriberView } from './fake-esp-types';
import { FakeEspServer } from './fake-esp-server';

const STATUS: Record<string, FakeSubscriberView['status']> = {
  active: 'active',
  inactive: 'unsubscribed',
  invalid: 'bounced',
  cancelled: 'unsubscribed',
  complained: 'unsubscribed',
  bounced: 'bounced',
  subscribed: 'active',
  unsubscribed: 'unsubscribed',
  cleaned: 'bounced',
};

interface Pulled {
  views: FakeSubscriberView[];
  /** beehiiv only: the cursor after the first page. */
  firstCursor?: string;
}

describe('fake ESP: mutations between two syncs', () => {
  let server: FakeEspServer;

  beforeAll(async () => {
    server = await FakeEspServer.start({
      accounts: [
        { esp: 'beehiiv', apiKey: 'b', lists: [{ id: 'pub', name: 'P', size: 300 }] },
        { esp: 'kit', apiKey: 'k', lists: [{ id: '9', name: 'K', size: 300 }] },
        { esp: 'mailchimp', apiKey: 'm-us3', lists: [{ id: 'mc', name: 'M', size: 300 }] },
      ],
    });
  });
  afterAll(() => server.stop());

  async function json<T>(url: string, headers: Record<string, string>): Promise<T> {
    const response = await fetch(url, { headers });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  type BeehiivPage = {
    data: { id: string; email: string; status: string }[];
    has_more: boolean;
    next_cursor: string | null;
  };

  async function pullBeehiiv(startCursor?: string): Promise<Pulled> {
    const pulled: Pulled = { views: [] };
    let cursor = startCursor;
    for (;;) {
      const page = await json<BeehiivPage>(
        `${server.baseUrls.beehiiv}/publications/pub/subscriptions?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
        { authorization: 'Bearer b' },
      );
      pulled.views.push(
        ...page.data.map((s) => ({
          externalId: s.id,
          email: s.email,
          status: STATUS[s.status],
          rawStatus: s.status,
        })),
      );
      pulled.firstCursor ??= page.next_cursor ?? undefined;
      if (!page.has_more) return pulled;
      cursor = page.next_cursor!;
    }
  }

  async function pullKit(query = 'status=all'): Promise<Pulled> {
    const pulled: Pulled = { views: [] };
    let after = '';
    for (;;) {
      const page = await json<{
        subscribers: { id: number; email_address: string; state: string }[];
        pagination: { has_next_page: boolean; end_cursor: string };
      }>(`${server.baseUrls.kit}/subscribers?per_page=100&${query}${after}`, {
        'x-kit-api-key': 'k',
      });
      pulled.views.push(
        ...page.subscribers.map((s) => ({
          externalId: String(s.id),
          email: s.email_address,
          status: STATUS[s.state],
          rawStatus: s.state,
        })),
      );
      if (!page.pagination.has_next_page) return pulled;
      after = `&after=${page.pagination.end_cursor}`;
    }
  }

  async function pullMailchimp(): Promise<Pulled> {
    const pulled: Pulled = { views: [] };
    const auth = { authorization: `Basic ${Buffer.from('x:m-us3').toString('base64')}` };
    for (let offset = 0; ;) {
      const page = await json<{
        members: { id: string; email_address: string; status: string }[];
        total_items: number;
      }>(`${server.mailchimpBaseUrl('us3')}/lists/mc/members?count=100&offset=${offset}`, auth);
      pulled.views.push(
        ...page.members.map((m) => ({
          externalId: m.id,
          email: m.email_address,
          status: STATUS[m.status],
          rawStatus: m.status,
        })),
      );
      offset += page.members.length;
      if (offset >= page.total_items || page.members.length === 0) return pulled;
    }
  }

  const byId = (views: FakeSubscriberView[]): Map<string, FakeSubscriberView> =>
    new Map(views.map((v) => [v.externalId, v]));

  it.each<[FakeEspType, string, () => Promise<Pulled>]>([
    ['beehiiv', 'pub', () => pullBeehiiv()],
    ['kit', '9', () => pullKit()],
    ['mailchimp', 'mc', () => pullMailchimp()],
  ])(
    '%s: adds, unsubscribes, bounces and removes show in the next pull and the counts',
    async (esp, listId, pull) => {
      const before = await pull();
      expect(before.views).toHaveLength(300);
      expect(server.count(esp, listId)).toBe(300);
      expect(byId([...server.subscribers(esp, listId)])).toEqual(byId(before.views));

      const change = server.mutate(esp, listId, { add: 5, unsubscribe: 4, bounce: 2, remove: 3 });
      expect(change.added).toHaveLength(5);
      expect(change.unsubscribed).toHaveLength(4);
      expect(change.bounced).toHaveLength(2);
      expect(change.removed).toHaveLength(3);

      const after = byId((await pull()).views);
      expect(after.size).toBe(302);
      expect(server.count(esp, listId)).toBe(302);
      for (const id of change.removed) expect(after.has(id)).toBe(false);
      for (const id of change.added) expect(after.get(id)?.status).toBe('active');
      for (const id of change.unsubscribed) {
        expect(before.views.find((v) => v.externalId === id)?.status).toBe('active');
        expect(after.get(id)?.status).toBe('unsubscribed');
      }
      for (const id of change.bounced) expect(after.get(id)?.status).toBe('bounced');
      expect(byId([...server.subscribers(esp, listId)])).toEqual(after);
    },
  );

  it('kit: added subscribers get higher ids and come first by default (newest first)', async () => {
    const change = server.mutate('kit', '9', { add: 3 });
    const { views } = await pullKit('status=active');
    expect(views.slice(0, 3).map((v) => v.externalId)).toEqual([...change.added].reverse());
    const counted = await json<{ pagination: { total_count: number } }>(
      `${server.baseUrls.kit}/subscribers?per_page=1&status=all&include_total_count=true`,
      { 'x-kit-api-key': 'k' },
    );
    expect(counted.pagination.total_count).toBe(server.count('kit', '9'));
  });

  it('beehiiv: a cursor taken before the mutation resumes exactly after it', async () => {
    const before = await pullBeehiiv();
    const rest = before.views.slice(100);
    const change = server.mutate('beehiiv', 'pub', { remove: 30, add: 4 });
    const resumed = await pullBeehiiv(before.firstCursor);
    const removed = new Set(change.removed);
    expect(resumed.views.map((v) => v.externalId)).toEqual([
      ...rest.map((v) => v.externalId).filter((id) => !removed.has(id)),
      ...change.added,
    ]);
    const stats = await json<{ data: { stats: { active_subscriptions: number } } }>(
      `${server.baseUrls.beehiiv}/publications/pub?expand[]=stats`,
      { authorization: 'Bearer b' },
    );
    const active = [...server.subscribers('beehiiv', 'pub')].filter((v) => v.status === 'active');
    expect(stats.data.stats.active_subscriptions).toBe(active.length);
  });

  it('mailchimp: total_items and list stats drop when members are removed', async () => {
    const auth = { authorization: `Basic ${Buffer.from('x:m-us3').toString('base64')}` };
    const before = server.count('mailchimp', 'mc');
    server.mutate('mailchimp', 'mc', { remove: 10 });
    const counted = await json<{ total_items: number }>(
      `${server.mailchimpBaseUrl('us3')}/lists/mc/members?fields=total_items`,
      auth,
    );
    expect(counted.total_items).toBe(before - 10);
    const list = await json<{ stats: Record<string, number> }>(
      `${server.mailchimpBaseUrl('us3')}/lists/mc`,
      auth,
    );
    const { member_count, unsubscribe_count, cleaned_count } = list.stats;
    expect(member_count + unsubscribe_count + cleaned_count).toBe(before - 10);
  });

  it('rejects changes to an unknown list and negative amounts', () => {
    expect(() => server.mutate('kit', 'nope', { add: 1 })).toThrow(/no kit list 'nope'/);
    expect(() => server.mutate('kit', '9', { remove: -1 })).toThrow(RangeError);
  });
});
