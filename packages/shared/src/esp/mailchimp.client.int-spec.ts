import { FakeEspServer } from '@subscribernest/testkit';
import { EspSubscriber } from './esp-client';
import { InvalidCredentialsError } from './esp-errors';
import { MailchimpClient } from './mailchimp.client';

/**
 * The Mailchimp client against the fake: the exact requests it sends (so drift from
 * Mailchimp's API shows up here) and the quirks only Mailchimp has (data centre from the key,
 * Basic auth, offset paging, "" dates).
 */
const KEY = 'mc0contract0key0123456789-us6';
const EU_KEY = 'mc0other0key0987654321-eu1';

let server: FakeEspServer;
let client: MailchimpClient;

beforeAll(async () => {
  server = await FakeEspServer.start({
    accounts: [
      {
        esp: 'mailchimp',
        apiKey: KEY,
        lists: [
          { id: 'f00dcafe01', name: 'Main list', size: 1_500 },
          { id: 'f00dcafe02', name: 'Side list', size: 12 },
        ],
      },
      { esp: 'mailchimp', apiKey: EU_KEY, lists: [{ id: 'eu0list01', name: 'EU', size: 5 }] },
    ],
  });
  client = new MailchimpClient(server.baseUrls.mailchimp, {
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

describe('Mailchimp contract', () => {
  it('pages members by offset with count=1000 and Basic auth carrying the key as password', async () => {
    await all('f00dcafe01');
    const query = (offset: string) => ({
      count: '1000',
      offset,
      exclude_fields: '_links,members._links',
    });
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        dc: 'us6',
        path: '/lists/f00dcafe01/members',
        query: query('0'),
      }),
      expect.objectContaining({
        dc: 'us6',
        path: '/lists/f00dcafe01/members',
        query: query('1000'),
      }),
    ]);
    for (const request of server.requests) {
      const [scheme, token] = request.headers.authorization.split(' ');
      expect(scheme).toBe('Basic');
      expect(Buffer.from(token, 'base64').toString()).toMatch(new RegExp(`^[^:]+:${KEY}$`));
      expect(JSON.stringify([request.path, request.query])).not.toContain(KEY);
    }
  });

  it('counts with count=1 and fields=total_items', async () => {
    await expect(
      client.countSubscribers({ apiKey: KEY, publicationId: 'f00dcafe02' }),
    ).resolves.toBe(12);
    expect(server.requests).toEqual([
      expect.objectContaining({
        dc: 'us6',
        path: '/lists/f00dcafe02/members',
        query: { count: '1', fields: 'total_items' },
      }),
    ]);
  });

  it('validates with GET /lists/{id}', async () => {
    await expect(client.validate({ apiKey: KEY, publicationId: 'f00dcafe02' })).resolves.toEqual({
      ok: true,
      publicationId: 'f00dcafe02',
      publicationName: 'Side list',
    });
    expect(server.requests).toEqual([
      expect.objectContaining({
        dc: 'us6',
        path: '/lists/f00dcafe02',
        query: { fields: 'id,name' },
      }),
    ]);
  });

  it('lists every list with its syncable (subscribed, unsubscribed, cleaned) and total counts', async () => {
    const counts = (id: string) => {
      const all = [...server.subscribers('mailchimp', id)];
      return {
        subscriberCount: all.filter((s) => s.status !== 'other').length,
        total: all.length,
      };
    };
    await expect(client.listPublications(KEY)).resolves.toEqual([
      { id: 'f00dcafe01', name: 'Main list', ...counts('f00dcafe01') },
      { id: 'f00dcafe02', name: 'Side list', ...counts('f00dcafe02') },
    ]);
    expect(server.requests[0]).toEqual(
      expect.objectContaining({
        dc: 'us6',
        path: '/lists',
        query: { count: '1000', offset: '0', fields: 'lists.id,lists.name,total_items' },
      }),
    );
    // Then each list counted member by status, one cheap request per status.
    expect(server.requests.slice(1).map((r) => [r.path, r.query.status ?? 'any'])).toEqual(
      ['f00dcafe01', 'f00dcafe02'].flatMap((id) =>
        ['any', 'subscribed', 'unsubscribed', 'cleaned'].map((status) => [
          `/lists/${id}/members`,
          status,
        ]),
      ),
    );
  });
});

describe('Mailchimp quirks', () => {
  it("calls the data centre named by the key's suffix: …-us6 → us6, …-eu1 → eu1", async () => {
    await client.countSubscribers({ apiKey: KEY, publicationId: 'f00dcafe02' });
    await expect(all('eu0list01', EU_KEY)).resolves.toHaveLength(5);
    await client.validate({ apiKey: EU_KEY, publicationId: 'eu0list01' });
    // The fake answers 401 for any other data centre, so every status is 200.
    expect(server.requests.map((r) => [r.dc, r.path, r.status])).toEqual([
      ['us6', '/lists/f00dcafe02/members', 200],
      ['eu1', '/lists/eu0list01/members', 200],
      ['eu1', '/lists/eu0list01', 200],
    ]);
  });

  it('refuses a key without a data centre before sending anything', async () => {
    const error = await client
      .validate({ apiKey: 'mc0contract0key0123456789', publicationId: 'f00dcafe02' })
      .then((v) => (v.ok ? null : v.error));
    expect(error).toBeInstanceOf(InvalidCredentialsError);
    expect(error?.message).not.toContain('mc0contract0key0123456789');
    expect(server.requests).toEqual([]);
  });

  it('maps members: merge-field names, "" dates as null, last_changed for unsubscribes', async () => {
    const expected = new Map(
      [...server.subscribers('mailchimp', 'f00dcafe01')].map((s) => [s.externalId, s]),
    );
    const subscribers = await all('f00dcafe01');
    expect(subscribers).toHaveLength(expected.size);
    let undated = 0;
    for (const s of subscribers) {
      const { metadata } = s;
      expect({ email: s.email, status: s.status }).toEqual({
        email: expected.get(s.externalId)?.email,
        status: expected.get(s.externalId)?.status,
      });
      expect(s.firstName).toBe((metadata.merge_fields as { FNAME: string }).FNAME);
      expect(s.lastName).toBe((metadata.merge_fields as { LNAME: string }).LNAME);
      const opt = metadata.timestamp_opt as string;
      const signup = metadata.timestamp_signup as string;
      if (opt === '' && signup === '') undated++;
      expect(s.subscribedAt).toEqual(opt || signup ? new Date(opt || signup) : null);
      expect(s.unsubscribedAt).toEqual(
        s.status === 'unsubscribed' ? new Date(metadata.last_changed as string) : null,
      );
      for (const key of ['id', 'email_address', 'status', '_links']) {
        expect(metadata).not.toHaveProperty(key);
      }
    }
    expect(undated).toBeGreaterThan(0); // the fake's ~1% with no date at all
  });
});
