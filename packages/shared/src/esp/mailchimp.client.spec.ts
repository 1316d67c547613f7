import type { EspTransport } from './esp-transport';
import { encodeCursor } from './esp-cursor';
import { InvalidCredentialsError, InvalidCursorError } from './esp-errors';
import { MailchimpClient, dataCentre, mapMailchimpMember } from './mailchimp.client';

const member = (overrides: Record<string, unknown> = {}) => ({
  id: 'b1b8d9e2b0f8c5a3d4e6f7a8b9c0d1e2',
  email_address: 'ada@example.com',
  unique_email_id: 'a1b2c3d4e5',
  full_name: 'Ada Lovelace',
  status: 'subscribed',
  merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace', PHONE: '' },
  timestamp_signup: '2023-01-01T10:00:00+00:00',
  timestamp_opt: '2023-01-02T10:00:00+00:00',
  last_changed: '2024-05-06T07:08:09+00:00',
  tags: [{ id: 1, name: 'vip' }],
  list_id: 'list1',
  _links: [{ rel: 'self', href: 'https://us6.api.mailchimp.com/3.0/lists/list1/members/x' }],
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

const client = new MailchimpClient('https://{dc}.api.test/3.0', {
  timeoutMs: 1_000,
  transport,
  maxRetries: 0,
  maxInlineWaitMs: 0,
});
const credentials = { apiKey: '0123456789abcdef-us6', publicationId: 'list1' };

afterEach(() => {
  jest.restoreAllMocks();
  transport.mockReset();
});

describe('mapMailchimpMember', () => {
  it('maps a subscribed member: merge-field names, opt-in date, the rest as metadata', () => {
    const mapped = mapMailchimpMember(member());
    expect(mapped).toEqual({
      externalId: 'b1b8d9e2b0f8c5a3d4e6f7a8b9c0d1e2',
      email: 'ada@example.com',
      status: 'active',
      firstName: 'Ada',
      lastName: 'Lovelace',
      subscribedAt: new Date('2023-01-02T10:00:00Z'),
      unsubscribedAt: null,
      metadata: {
        unique_email_id: 'a1b2c3d4e5',
        full_name: 'Ada Lovelace',
        merge_fields: { FNAME: 'Ada', LNAME: 'Lovelace', PHONE: '' },
        timestamp_signup: '2023-01-01T10:00:00+00:00',
        timestamp_opt: '2023-01-02T10:00:00+00:00',
        last_changed: '2024-05-06T07:08:09+00:00',
        tags: [{ id: 1, name: 'vip' }],
        list_id: 'list1',
      },
    });
  });

  it.each([
    ['subscribed', 'active'],
    ['unsubscribed', 'unsubscribed'],
    ['cleaned', 'bounced'],
  ])('maps status %s to %s', (vendor, ours) => {
    expect(mapMailchimpMember(member({ status: vendor }))?.status).toBe(ours);
  });

  it.each(['pending', 'transactional', 'archived'])('skips a %s member', (vendor) => {
    expect(mapMailchimpMember(member({ status: vendor }))).toBeNull();
  });

  it('reads "" dates as unknown, falling back from timestamp_opt to timestamp_signup', () => {
    expect(mapMailchimpMember(member({ timestamp_opt: '' }))?.subscribedAt).toEqual(
      new Date('2023-01-01T10:00:00Z'),
    );
    expect(
      mapMailchimpMember(member({ timestamp_opt: '', timestamp_signup: '' }))?.subscribedAt,
    ).toBeNull();
  });

  it('uses last_changed as the unsubscribe date of an unsubscribed member only', () => {
    expect(mapMailchimpMember(member({ status: 'unsubscribed' }))?.unsubscribedAt).toEqual(
      new Date('2024-05-06T07:08:09Z'),
    );
    expect(mapMailchimpMember(member({ status: 'cleaned' }))?.unsubscribedAt).toBeNull();
    expect(
      mapMailchimpMember(member({ status: 'unsubscribed', last_changed: '' }))?.unsubscribedAt,
    ).toBeNull();
  });

  it('has null names when the merge fields are empty', () => {
    expect(mapMailchimpMember(member({ merge_fields: { FNAME: '', LNAME: '' } }))).toMatchObject({
      firstName: null,
      lastName: null,
    });
  });
});

describe('dataCentre', () => {
  it('is the suffix after the last "-" of the key', () => {
    expect(dataCentre('0123456789abcdef-us6')).toBe('us6');
    expect(dataCentre('with-dash-inside-us21')).toBe('us21');
  });

  it.each(['0123456789abcdef', '0123456789abcdef-', 'abc-../evil'])(
    'rejects %s without echoing it',
    (key) => {
      expect(() => dataCentre(key)).toThrow(InvalidCredentialsError);
      expect(() => dataCentre(key)).not.toThrow(key);
    },
  );
});

describe('MailchimpClient.fetchPage', () => {
  it('calls the data centre named by the key', async () => {
    const fetchMock = answer({ members: [], total_items: 0 });
    await client.fetchPage(credentials, null);
    expect(fetchMock).toHaveBeenCalledWith(
      expect.stringMatching(/^https:\/\/us6\.api\.test\/3\.0\/lists\/list1\/members\?/),
      expect.anything(),
    );
  });

  it('advances the offset by the members received and stops at total_items', async () => {
    const fetchMock = answer(
      { members: [member(), member({ status: 'pending' })], total_items: 3 },
      { members: [member()], total_items: 3 },
    );
    const first = await client.fetchPage(credentials, null);
    expect(first).toMatchObject({ skipped: 1 });
    const second = await client.fetchPage(credentials, first.nextCursor);
    expect(fetchMock).toHaveBeenNthCalledWith(
      2,
      expect.stringContaining('offset=2'),
      expect.anything(),
    );
    expect(second.nextCursor).toBeNull();
  });

  it('stops on an empty page even if total_items says there is more', async () => {
    answer({ members: [], total_items: 10 });
    const cursor = encodeCursor('mailchimp', { list: 'list1', offset: 5 });
    expect((await client.fetchPage(credentials, cursor)).nextCursor).toBeNull();
  });

  it('refuses a cursor from another list', async () => {
    const cursor = encodeCursor('mailchimp', { list: 'list2', offset: 5 });
    await expect(client.fetchPage(credentials, cursor)).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('refuses a key without a data centre before sending anything', async () => {
    const fetchMock = answer();
    await expect(
      client.fetchPage({ apiKey: 'nodc', publicationId: 'list1' }, null),
    ).rejects.toBeInstanceOf(InvalidCredentialsError);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
