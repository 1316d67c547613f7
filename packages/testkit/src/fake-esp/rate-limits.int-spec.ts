import { FakeEspServer } from './fake-esp-server';

/** The vendors' documented limits, enforced with 429s in each vendor's shape. */
describe('fake ESP: enforced rate limits', () => {
  let now = Date.UTC(2026, 0, 5, 10, 0, 0, 0);
  let server: FakeEspServer;

  beforeAll(async () => {
    server = await FakeEspServer.start({
      now: () => now,
      rateLimits: {
        beehiiv: { requests: 3, windowMs: 60_000 },
        kit: { apiKeyRequests: 2, oauthRequests: 4, windowMs: 60_000 },
        mailchimp: { inFlight: 2 },
      },
      accounts: [
        { esp: 'beehiiv', apiKey: 'b', lists: [{ id: 'pub', name: 'P', size: 10 }] },
        { esp: 'kit', apiKey: 'k', lists: [{ id: '5', name: 'K', size: 10 }] },
        {
          esp: 'mailchimp',
          apiKey: 'm-us1',
          lists: [{ id: 'mc', name: 'M', size: 10, faults: { latencyMs: 150 } }],
        },
      ],
    });
  });
  afterAll(() => server.stop());

  it('beehiiv: counts down RateLimit-Remaining, then answers 429 with Remaining 0 until Reset', async () => {
    const get = () =>
      fetch(`${server.baseUrls.beehiiv}/publications/pub`, {
        headers: { authorization: 'Bearer b' },
      });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await get());
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('ratelimit-remaining'))).toEqual(['2', '1', '0', '0']);
    const reset = String(Date.UTC(2026, 0, 5, 10, 1) / 1000);
    expect(answers[3].headers.get('ratelimit-reset')).toBe(reset);
    expect(answers[3].headers.get('retry-after')).toBe('60');
    expect(answers[3].headers.get('date')).toBe(new Date(now).toUTCString());
    now += 60_000; // the next window
    expect((await get()).status).toBe(200);
    expect(server.rateLimitStats('beehiiv', 'b')).toEqual({
      peakWindowRequests: 3,
      peakInFlight: 1,
      rejected: 1,
    });
  });

  it('Kit: a rolling window per API key, and another for OAuth tokens', async () => {
    const byKey = () =>
      fetch(`${server.baseUrls.kit}/account`, { headers: { 'x-kit-api-key': 'k' } });
    const byToken = () =>
      fetch(`${server.baseUrls.kit}/account`, { headers: { authorization: 'Bearer k' } });
    expect([(await byKey()).status, (await byKey()).status]).toEqual([200, 200]);
    const refused = await byKey();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((await byToken()).status).toBe(200);
    now += 30_000;
    expect((await byKey()).status).toBe(429);
    now += 30_001; // the first two have left the rolling minute
    expect((await byKey()).status).toBe(200);
  });

  it('Mailchimp: the configured number of requests in flight, one more is a 429', async () => {
    const auth = `Basic ${Buffer.from('x:m-us1').toString('base64')}`;
    const answers = await Promise.all(
      Array.from({ length: 3 }, () =>
        fetch(`${server.mailchimpBaseUrl('us1')}/lists/mc`, { headers: { authorization: auth } }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
    const problem = (await answers.find((a) => a.status === 429)!.json()) as { detail: string };
    expect(problem.detail).toBe('You have exceeded the limit of 2 simultaneous connections.');
  });
});

describe('fake ESP: change filters', () => {
  let server: FakeEspServer;
  const now = Date.UTC(2026, 5, 10, 12, 0, 0);

  beforeAll(async () => {
    server = await FakeEspServer.start({
      now: () => now,
      accounts: [
        { esp: 'kit', apiKey: 'k', lists: [{ id: '5', name: 'K', size: 3_000 }] },
        { esp: 'mailchimp', apiKey: 'm-us1', lists: [{ id: 'mc', name: 'M', size: 3_000 }] },
      ],
    });
  });
  afterAll(() => server.stop());

  it('Mailchimp since_last_changed: only members changed after that moment', async () => {
    const changes = server.mutate('mailchimp', 'mc', { add: 5, change: 4, unsubscribe: 3 });
    const auth = { authorization: `Basic ${Buffer.from('x:m-us1').toString('base64')}` };
    const members = async (since: string) => {
      const response = await fetch(
        `${server.mailchimpBaseUrl('us1')}/lists/mc/members?count=1000&since_last_changed=${encodeURIComponent(since)}`,
        { headers: auth },
      );
      return (await response.json()) as {
        members: { id: string; last_changed: string }[];
        total_items: number;
      };
    };
    const before = await members(new Date(now - 1_000).toISOString());
    const touched = [...changes.added, ...changes.changed, ...changes.unsubscribed];
    expect(before.total_items).toBe(12);
    expect(before.members.map((m) => m.id).sort()).toEqual(touched.sort());
    // Strictly after: a change at the moment itself is not in it.
    expect((await members(new Date(now).toISOString())).total_items).toBe(0);
    const bad = await fetch(
      `${server.mailchimpBaseUrl('us1')}/lists/mc/members?since_last_changed=yesterday`,
      { headers: auth },
    );
    expect(bad.status).toBe(400);
  });

  it('Kit updated_after: subscribers updated on a later day than the date, paged by cursor', async () => {
    const changes = server.mutate('kit', '5', { add: 3, change: 2, unsubscribe: 2 });
    const headers = { 'x-kit-api-key': 'k' };
    const page = async (query: string) =>
      (await (
        await fetch(`${server.baseUrls.kit}/subscribers?status=all&${query}`, { headers })
      ).json()) as {
        subscribers: { id: number }[];
        pagination: { has_next_page: boolean; end_cursor: string; total_count?: number };
      };
    // The day before today: what changed today (and before, on the earlier mutation) is in it.
    const first = await page('updated_after=2026-06-09&per_page=4&include_total_count=true');
    expect(first.pagination.total_count).toBe(7);
    expect(first.pagination.has_next_page).toBe(true);
    const second = await page(
      `updated_after=2026-06-09&per_page=4&after=${first.pagination.end_cursor}`,
    );
    expect(second.pagination.has_next_page).toBe(false);
    const ids = [...first.subscribers, ...second.subscribers].map((s) => String(s.id)).sort();
    expect(ids).toEqual([...changes.added, ...changes.changed, ...changes.unsubscribed].sort());
    // Today itself: nothing was updated on a later day.
    expect((await page('updated_after=2026-06-10')).subscribers).toEqual([]);
    const bad = await fetch(`${server.baseUrls.kit}/subscribers?updated_after=06/09/2026`, {
      headers,
    });
    expect(bad.status).toBe(422);
  });
});
