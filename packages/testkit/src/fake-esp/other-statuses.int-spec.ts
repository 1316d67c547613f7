import { FakeEspType, FakeSubscriberView } from './fake-esp-types';
import { FakeEspServer } from './fake-esp-server';

/** 200 subscribers, every 5th in a status our model does not sync: 40 per list. */
const SIZE = 200;
const EVERY = 5;
const BEEHIIV = { authorization: 'Bearer b-key' };
const KIT = { 'x-kit-api-key': 'k-key' };
const MAILCHIMP = { authorization: `Basic ${Buffer.from('u:m-key-us4').toString('base64')}` };

describe('fake ESP: statuses our model does not sync (otherStatusEvery)', () => {
  let server: FakeEspServer;

  beforeAll(async () => {
    const list = (id: string) => ({ id, name: id, size: SIZE, otherStatusEvery: EVERY });
    server = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: 'b-key',
          lists: [list('pub_o'), { id: 'pub_plain', name: 'P', size: 50 }],
        },
        { esp: 'kit', apiKey: 'k-key', lists: [list('31')] },
        {
          esp: 'mailchimp',
          apiKey: 'm-key-us4',
          lists: [
            list('mc_o'),
            { id: 'mc_big', name: 'Big', size: 3_000_000, otherStatusEvery: 1000 },
          ],
        },
      ],
    });
  });
  afterAll(() => server.stop());

  async function json<T>(url: string, headers: Record<string, string>): Promise<T> {
    const response = await fetch(url, { headers });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  }

  const views = (esp: FakeEspType, id: string): FakeSubscriberView[] => [
    ...server.subscribers(esp, id),
  ];
  /** How many subscribers have each vendor status. */
  const tally = (statuses: string[]): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
    return counts;
  };

  it('marks every Nth subscriber "other" in subscribers(), with the vendor statuses in turn', () => {
    const beehiiv = views('beehiiv', 'pub_o');
    const others = beehiiv.filter((v) => v.status === 'other');
    expect(others).toHaveLength(SIZE / EVERY);
    expect(others.slice(0, 2).map((v) => v.externalId)).toEqual(
      [beehiiv[EVERY - 1], beehiiv[2 * EVERY - 1]].map((v) => v.externalId),
    );
    expect(others.slice(0, 5).map((v) => v.rawStatus)).toEqual([
      'validating',
      'pending',
      'needs_attention',
      'paused',
      'validating',
    ]);
    expect(tally(others.map((v) => v.rawStatus))).toEqual({
      validating: 10,
      pending: 10,
      needs_attention: 10,
      paused: 10,
    });
    expect(
      tally(
        views('kit', '31')
          .filter((v) => v.status === 'other')
          .map((v) => v.rawStatus),
      ),
    ).toEqual({ inactive: 40 });
    const mailchimp = views('mailchimp', 'mc_o').filter((v) => v.status === 'other');
    expect(tally(mailchimp.map((v) => v.rawStatus))).toEqual({
      pending: 14,
      transactional: 13,
      archived: 13,
    });
    // The rest keep the usual mix, and a list without the option has no "other" at all.
    const rest = new Set(beehiiv.filter((v) => v.status !== 'other').map((v) => v.status));
    expect(rest).toEqual(new Set(['active', 'unsubscribed', 'bounced']));
    expect(views('beehiiv', 'pub_plain').some((v) => v.status === 'other')).toBe(false);
    expect(server.count('beehiiv', 'pub_o')).toBe(SIZE);
  });

  it('beehiiv: status=all (the default) includes them, validating/pending select them, stats skip them', async () => {
    type Page = {
      data: { id: string; status: string }[];
      next_cursor: string | null;
      total_results: number;
    };
    const base = `${server.baseUrls.beehiiv}/publications/pub_o`;
    const all = await json<Page>(`${base}/subscriptions?limit=100&include_total=true`, BEEHIIV);
    expect(all.total_results).toBe(SIZE);
    const second = await json<Page>(
      `${base}/subscriptions?limit=100&cursor=${all.next_cursor!}`,
      BEEHIIV,
    );
    const expected = views('beehiiv', 'pub_o');
    expect([...all.data, ...second.data].map((s) => [s.id, s.status])).toEqual(
      expected.map((v) => [v.externalId, v.rawStatus]),
    );

    for (const status of ['validating', 'pending']) {
      const page = await json<Page>(
        `${base}/subscriptions?limit=100&status=${status}&include_total=true`,
        BEEHIIV,
      );
      expect(page.total_results).toBe(10);
      expect(page.data.map((s) => s.id)).toEqual(
        expected.filter((v) => v.rawStatus === status).map((v) => v.externalId),
      );
    }
    // needs_attention and paused are statuses, but not documented filter values.
    const refused = await fetch(`${base}/subscriptions?status=paused`, { headers: BEEHIIV });
    expect(refused.status).toBe(400);
    await refused.arrayBuffer();

    const active = await json<Page>(
      `${base}/subscriptions?limit=1&status=active&include_total=true`,
      BEEHIIV,
    );
    const stats = await json<{ data: { stats: { active_subscriptions: number } } }>(
      `${base}?expand[]=stats`,
      BEEHIIV,
    );
    const activeViews = expected.filter((v) => v.status === 'active').length;
    expect(active.total_results).toBe(activeViews);
    expect(stats.data.stats.active_subscriptions).toBe(activeViews);
  });

  it('Kit: the default status=active leaves inactive out, status=all and status=inactive count it', async () => {
    type Page = {
      subscribers: { id: number; state: string }[];
      pagination: { total_count?: number };
    };
    const base = `${server.baseUrls.kit}/subscribers?per_page=1000&include_total_count=true`;
    const expected = views('kit', '31');
    const all = await json<Page>(`${base}&status=all`, KIT);
    expect(all.pagination.total_count).toBe(SIZE);
    expect(tally(all.subscribers.map((s) => s.state))).toEqual(
      tally(expected.map((v) => v.rawStatus)),
    );
    const inactive = await json<Page>(`${base}&status=inactive`, KIT);
    expect(inactive.pagination.total_count).toBe(40);
    expect(new Set(inactive.subscribers.map((s) => s.state))).toEqual(new Set(['inactive']));
    const byDefault = await json<Page>(base, KIT);
    expect(byDefault.subscribers.some((s) => s.state === 'inactive')).toBe(false);
    expect(byDefault.pagination.total_count).toBe(
      expected.filter((v) => v.status === 'active').length,
    );
  });

  it('Mailchimp: no status filter includes them, each status filter selects its own, list stats skip them', async () => {
    type Page = { members: { id: string; status: string }[]; total_items: number };
    const base = `${server.mailchimpBaseUrl('us4')}/lists/mc_o`;
    const expected = views('mailchimp', 'mc_o');
    const all = await json<Page>(`${base}/members?count=1000`, MAILCHIMP);
    expect(all.total_items).toBe(SIZE);
    expect(all.members.map((m) => [m.id, m.status])).toEqual(
      expected.map((v) => [v.externalId, v.rawStatus]),
    );
    for (const [status, count] of [
      ['pending', 14],
      ['transactional', 13],
      ['archived', 13],
    ] as const) {
      const page = await json<Page>(`${base}/members?count=1000&status=${status}`, MAILCHIMP);
      expect(page.total_items).toBe(count);
      expect(page.members.map((m) => m.id)).toEqual(
        expected.filter((v) => v.rawStatus === status).map((v) => v.externalId),
      );
    }
    const list = await json<{ stats: { member_count: number } }>(base, MAILCHIMP);
    expect(list.stats.member_count).toBe(expected.filter((v) => v.status === 'active').length);
  });

  it('answers a deep status-filtered page of a list of millions', async () => {
    const page = await json<{ members: { email_address: string }[]; total_items: number }>(
      `${server.mailchimpBaseUrl('us4')}/lists/mc_big/members?count=50&offset=990&status=archived`,
      MAILCHIMP,
    );
    // Indices 999, 1999, ... in turn pending, transactional, archived: 1000 archived in 3M.
    expect(page.total_items).toBe(1000);
    expect(page.members.map((m) => Number(/\.(\d+)@/.exec(m.email_address)![1]))).toEqual(
      Array.from({ length: 10 }, (_, k) => (990 + k) * 3000 + 2999),
    );
  });
});
