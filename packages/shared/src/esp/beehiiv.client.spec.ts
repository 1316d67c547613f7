import type { EspTransport } from './esp-transport';
import { BeehiivClient, mapBeehiivSubscription } from './beehiiv.client';
import { encodeCursor } from './esp-cursor';
import { InvalidCursorError, NotFoundError, ProtocolError } from './esp-errors';

const subscription = (overrides: Record<string, unknown> = {}) => ({
  id: 'sub_7c1e9f40-0000-4000-8000-000000000001',
  email: 'Ada@Example.com',
  status: 'active',
  created: 1_700_000_000,
  subscription_tier: 'free',
  subscription_premium_tier_names: [],
  utm_source: 'twitter',
  utm_medium: '',
  utm_campaign: '',
  utm_term: '',
  utm_content: '',
  utm_channel: 'website',
  referring_site: 'https://example.com',
  referral_code: 'ABC123',
  ...overrides,
});

/** Stands in for the network: answers the next requests with these bodies, in order. */
const transport = jest.fn<ReturnType<EspTransport>, Parameters<EspTransport>>();
function answer(...bodies: unknown[]) {
  for (const body of bodies) {
    transport.mockResolvedValueOnce({
      status: 200,
      headers: new Headers(),
      text: JSON.stringify(body),
    });
  }
  return transport;
}

const client = new BeehiivClient('https://api.test/v2', {
  timeoutMs: 1_000,
  transport,
  maxRetries: 0,
  maxInlineWaitMs: 0,
});
const credentials = { apiKey: 'beehiiv-key-123', publicationId: 'pub_1' };

afterEach(() => {
  jest.restoreAllMocks();
  transport.mockReset();
});

describe('mapBeehiivSubscription', () => {
  it('maps an active subscription, its unix-seconds creation date and its vendor fields', () => {
    expect(mapBeehiivSubscription(subscription())).toEqual({
      externalId: 'sub_7c1e9f40-0000-4000-8000-000000000001',
      email: 'Ada@Example.com',
      status: 'active',
      firstName: null,
      lastName: null,
      subscribedAt: new Date('2023-11-14T22:13:20.000Z'),
      unsubscribedAt: null,
      metadata: {
        subscription_tier: 'free',
        subscription_premium_tier_names: [],
        utm_source: 'twitter',
        utm_medium: '',
        utm_campaign: '',
        utm_term: '',
        utm_content: '',
        utm_channel: 'website',
        referring_site: 'https://example.com',
        referral_code: 'ABC123',
      },
    });
  });

  it.each([
    ['active', 'active'],
    ['inactive', 'unsubscribed'],
    ['invalid', 'bounced'],
  ])('maps status %s to %s', (vendor, ours) => {
    expect(mapBeehiivSubscription(subscription({ status: vendor }))?.status).toBe(ours);
  });

  it.each(['validating', 'pending', 'needs_attention', 'paused', 'something_new'])(
    'skips a subscription whose status is %s',
    (vendor) => {
      expect(mapBeehiivSubscription(subscription({ status: vendor }))).toBeNull();
    },
  );

  it('takes names from custom fields that look like first and last name', () => {
    const mapped = mapBeehiivSubscription(
      subscription({
        custom_fields: [
          { name: 'First Name', kind: 'string', value: 'Ada' },
          { name: 'last_name', kind: 'string', value: 'Lovelace' },
          { name: 'Company', kind: 'string', value: 'Analytical' },
        ],
      }),
    );
    expect(mapped).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace' });
    expect(mapped?.metadata.custom_fields).toHaveLength(3);
  });

  it('lets the mapped fields win: metadata never holds a key named like one of them', () => {
    const mapped = mapBeehiivSubscription(
      subscription({ firstName: 'Mallory', metadata: { x: 1 }, subscribedAt: 'never' }),
    );
    expect(mapped?.firstName).toBeNull();
    expect(mapped?.subscribedAt).toEqual(new Date(1_700_000_000_000));
    expect(mapped?.metadata).not.toHaveProperty('firstName');
    expect(mapped?.metadata).not.toHaveProperty('metadata');
    expect(mapped?.metadata).not.toHaveProperty('subscribedAt');
    expect(mapped?.metadata).not.toHaveProperty('email');
  });

  it('rejects a subscription without an email, naming the field but not the record', () => {
    expect(() => mapBeehiivSubscription(subscription({ email: undefined }), 'data[4]')).toThrow(
      new ProtocolError('beehiiv', 'data[4].email is missing or not a string'),
    );
  });

  it('has no date for a missing or unreadable created', () => {
    expect(mapBeehiivSubscription(subscription({ created: null }))?.subscribedAt).toBeNull();
  });
});

describe('BeehiivClient.fetchPage', () => {
  it('reads pagination fields at the top level', async () => {
    answer({ data: [subscription()], limit: 100, has_more: true, next_cursor: 'c2' });
    const page = await client.fetchPage(credentials, null);
    expect(page.subscribers).toHaveLength(1);
    expect(page.nextCursor).not.toBeNull();
    expect(page.nextCursor).not.toContain('c2'); // our own encoding, not the vendor's cursor
  });

  it('reads pagination fields nested under "pagination"', async () => {
    const fetchMock = answer(
      { data: [subscription()], pagination: { has_more: true, next_cursor: 'c2' } },
      { data: [subscription()], pagination: { has_more: false, next_cursor: null } },
    );
    const first = await client.fetchPage(credentials, null);
    const second = await client.fetchPage(credentials, first.nextCursor);
    expect(second.nextCursor).toBeNull();
    expect(fetchMock).toHaveBeenNthCalledWith(
      2,
      expect.stringContaining('cursor=c2'),
      expect.anything(),
    );
  });

  it('follows next_cursor when has_more is absent', async () => {
    answer({ data: [], next_cursor: 'c9' });
    expect((await client.fetchPage(credentials, null)).nextCursor).not.toBeNull();
  });

  it('counts skipped subscriptions', async () => {
    answer({ data: [subscription(), subscription({ status: 'pending' })], has_more: false });
    const page = await client.fetchPage(credentials, null);
    expect(page).toMatchObject({ skipped: 1, nextCursor: null });
    expect(page.subscribers).toHaveLength(1);
  });

  it('refuses has_more without a next cursor, and a cursor that does not advance', async () => {
    answer({ data: [], has_more: true, next_cursor: null });
    await expect(client.fetchPage(credentials, null)).rejects.toThrow(
      'has_more is true but next_cursor is missing',
    );
    answer({ data: [], has_more: true, next_cursor: 'same' });
    const stuck = encodeCursor('beehiiv', { list: 'pub_1', cursor: 'same' });
    await expect(client.fetchPage(credentials, stuck)).rejects.toThrow(
      'next_cursor did not advance',
    );
  });

  it('refuses a cursor saved for another publication or another ESP', async () => {
    const other = encodeCursor('beehiiv', { list: 'pub_2', cursor: 'c' });
    await expect(client.fetchPage(credentials, other)).rejects.toBeInstanceOf(InvalidCursorError);
    const kit = encodeCursor('kit', { after: 'c' });
    await expect(client.fetchPage(credentials, kit)).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('needs a publication id', async () => {
    await expect(client.fetchPage({ apiKey: 'k-12345' }, null)).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
