import type { EspTransport } from './esp-transport';
import { encodeCursor } from './esp-cursor';
import { ProtocolError } from './esp-errors';
import { KitClient, mapKitSubscriber } from './kit.client';

const subscriber = (overrides: Record<string, unknown> = {}) => ({
  id: 3_125_467,
  first_name: 'Ada',
  email_address: 'ada@example.com',
  state: 'active',
  created_at: '2023-01-27T11:43:55Z',
  fields: { last_name: 'Lovelace', company: null },
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

const client = new KitClient('https://api.test/v4', {
  timeoutMs: 1_000,
  transport,
  maxRetries: 0,
  maxInlineWaitMs: 0,
});

afterEach(() => {
  jest.restoreAllMocks();
  transport.mockReset();
});

describe('mapKitSubscriber', () => {
  it('maps an active subscriber: integer id as a string, names, ISO creation date', () => {
    expect(mapKitSubscriber(subscriber())).toEqual({
      externalId: '3125467',
      email: 'ada@example.com',
      status: 'active',
      firstName: 'Ada',
      lastName: 'Lovelace',
      subscribedAt: new Date('2023-01-27T11:43:55Z'),
      unsubscribedAt: null,
      metadata: { state: 'active', fields: { last_name: 'Lovelace', company: null } },
    });
  });

  it.each([
    ['active', 'active'],
    ['cancelled', 'unsubscribed'],
    ['bounced', 'bounced'],
    ['complained', 'unsubscribed'],
  ])('maps state %s to %s, keeping the vendor state in metadata', (vendor, ours) => {
    const mapped = mapKitSubscriber(subscriber({ state: vendor }));
    expect(mapped?.status).toBe(ours);
    expect(mapped?.metadata.state).toBe(vendor);
  });

  it('skips an inactive subscriber', () => {
    expect(mapKitSubscriber(subscriber({ state: 'inactive' }))).toBeNull();
  });

  it('takes the unsubscribe date from canceled_at when Kit includes it', () => {
    const mapped = mapKitSubscriber(
      subscriber({ state: 'cancelled', canceled_at: '2024-02-03T04:05:06Z' }),
    );
    expect(mapped?.unsubscribedAt).toEqual(new Date('2024-02-03T04:05:06Z'));
    expect(mapped?.metadata).not.toHaveProperty('canceled_at');
  });

  it('has null names when Kit has none', () => {
    expect(mapKitSubscriber(subscriber({ first_name: null, fields: {} }))).toMatchObject({
      firstName: null,
      lastName: null,
    });
  });

  it('rejects a subscriber without an id', () => {
    expect(() => mapKitSubscriber(subscriber({ id: null }), 'subscribers[0]')).toThrow(
      new ProtocolError('kit', 'subscribers[0].id is missing or not a string'),
    );
  });
});

describe('KitClient.fetchPage', () => {
  const page = (hasNext: boolean, endCursor: string | null) => ({
    subscribers: [subscriber()],
    pagination: {
      has_previous_page: false,
      has_next_page: hasNext,
      start_cursor: 's',
      end_cursor: endCursor,
      per_page: 1000,
    },
  });

  it('ends a state on has_next_page false, even though end_cursor is still there', async () => {
    answer(page(false, 'WzEwMDBd'));
    const active = await client.fetchPage({ apiKey: 'kit-key-1' }, null);
    // The next state's listing starts from its beginning.
    expect(active.nextCursor).toBe(encodeCursor('kit', { status: 'cancelled' }));
  });

  it('ends the pass after the last state (inactive) has no next page', async () => {
    const fetchMock = answer(page(false, 'WzEwMDBd'));
    const last = encodeCursor('kit', { status: 'inactive' });
    expect((await client.fetchPage({ apiKey: 'kit-key-1' }, last)).nextCursor).toBeNull();
    expect(fetchMock).toHaveBeenCalledWith(
      expect.not.stringContaining('after='),
      expect.anything(),
    );
  });

  it('asks for canceled_at only in the status=cancelled listing', async () => {
    const fetchMock = answer(page(false, 'x'), page(false, 'y'));
    await client.fetchPage({ apiKey: 'kit-key-1' }, null);
    await client.fetchPage({ apiKey: 'kit-key-1' }, encodeCursor('kit', { status: 'cancelled' }));
    const [active, cancelled] = fetchMock.mock.calls.map(([url]) => new URL(url));
    expect(active.searchParams.get('status')).toBe('active');
    expect(active.searchParams.has('include')).toBe(false);
    expect(cancelled.searchParams.get('status')).toBe('cancelled');
    expect(cancelled.searchParams.get('include')).toBe('canceled_at');
  });

  it('refuses a cursor of the earlier all-states format (the pass restarts)', async () => {
    const earlier = encodeCursor('kit', { after: 'WzEwMDBd' });
    await expect(client.fetchPage({ apiKey: 'kit-key-1' }, earlier)).rejects.toThrow(
      'the cursor is malformed',
    );
  });

  it('continues after end_cursor while has_next_page is true', async () => {
    const fetchMock = answer(page(true, 'WzEwMDBd'), page(false, 'WzIwMDBd'));
    const first = await client.fetchPage({ apiKey: 'kit-key-1' }, null);
    await client.fetchPage({ apiKey: 'kit-key-1' }, first.nextCursor);
    expect(fetchMock).toHaveBeenNthCalledWith(
      2,
      expect.stringContaining('after=WzEwMDBd'),
      expect.anything(),
    );
  });

  it('refuses a page without pagination.has_next_page', async () => {
    answer({ subscribers: [], pagination: { end_cursor: 'x' } });
    await expect(client.fetchPage({ apiKey: 'kit-key-1' }, null)).rejects.toThrow(
      'pagination.has_next_page is missing',
    );
  });

  it('refuses has_next_page with the same end_cursor it was given', async () => {
    answer(page(true, 'same'));
    const stuck = encodeCursor('kit', { status: 'active', after: 'same' });
    await expect(client.fetchPage({ apiKey: 'kit-key-1' }, stuck)).rejects.toThrow(
      'end_cursor did not advance',
    );
  });
});

describe('KitClient.validate', () => {
  const account = { user: { email: 'o@x.io' }, account: { id: 42, name: 'Ada Weekly' } };

  it('resolves the account as the one list, with or without a publication id', async () => {
    answer(account, account);
    const expected = { ok: true, publicationId: '42', publicationName: 'Ada Weekly' };
    await expect(client.validate({ apiKey: 'kit-key-1' })).resolves.toEqual(expected);
    await expect(client.validate({ apiKey: 'kit-key-1', publicationId: '42' })).resolves.toEqual(
      expected,
    );
  });

  it('answers not found for a publication id that is not the account id', async () => {
    answer(account);
    const result = await client.validate({ apiKey: 'kit-key-1', publicationId: '41' });
    expect(result).toMatchObject({ ok: false, error: { code: 'not_found', espType: 'kit' } });
  });
});
