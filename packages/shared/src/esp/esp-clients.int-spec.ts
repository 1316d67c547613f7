import { FakeAccountSpec, FakeEspServer } from '@subscribernest/testkit';
import { inspect } from 'node:util';
import type { EspType } from '../entities/esp-connection.entity';
import { BEEHIIV_PAGE_SIZE } from './beehiiv.client';
import { EspClient, EspCredentials } from './esp-client';
import { EspClientRegistry, createEspClientRegistry } from './esp-client.registry';
import {
  EspError,
  InvalidCredentialsError,
  NotFoundError,
  ProtocolError,
  RateLimitedError,
  TransientError,
} from './esp-errors';
import { EspHttpOptions } from './esp-http.client';
import { KIT_PAGE_SIZE } from './kit.client';
import { MAILCHIMP_PAGE_SIZE } from './mailchimp.client';

/**
 * What every ESP client must do, checked against the fake ESP server speaking each vendor's
 * protocol. A new ESP adds one row to CASES; its own quirks and the exact requests it sends are
 * pinned in its `<esp>.client.int-spec.ts`.
 */
interface EspCase {
  esp: EspType;
  pageSize: number;
  listId: (n: number) => string;
  apiKey: (n: number) => string;
  /** A key the ESP does not know, in a shape the client accepts. */
  unknownKey: string;
  /** The vendor's statuses that map to none of ours (ESP-APIS.md §0): never synced. */
  otherStatuses: string[];
  /**
   * The states a pass lists one by one (Kit: its unsubscribe date comes only with
   * status=cancelled); absent: one listing of every status.
   */
  listings?: string[];
}

const CASES: EspCase[] = [
  {
    esp: 'beehiiv',
    pageSize: BEEHIIV_PAGE_SIZE,
    listId: (n) => `pub_${n}`,
    apiKey: (n) => `bh_key_${n}_secret`,
    unknownKey: 'bh_key_unknown_secret',
    otherStatuses: ['validating', 'pending', 'needs_attention', 'paused'],
  },
  {
    esp: 'kit',
    pageSize: KIT_PAGE_SIZE,
    listId: (n) => String(4_100 + n), // a Kit list is the account: a numeric id
    apiKey: (n) => `kit_key_${n}_secret`,
    unknownKey: 'kit_key_unknown_secret',
    otherStatuses: ['inactive'],
    listings: ['active', 'cancelled', 'bounced', 'complained', 'inactive'],
  },
  {
    esp: 'mailchimp',
    pageSize: MAILCHIMP_PAGE_SIZE,
    listId: (n) => `a1b2c3d${n}`,
    apiKey: (n) => `mc0123456789abcdef${n}-us6`,
    unknownKey: 'mc0123456789abcdefff-us6',
    otherStatuses: ['pending', 'transactional', 'archived'],
  },
];

/** One account per list, so Kit (one list per account) is set up like the others. */
const LISTS = (pageSize: number) => ({
  empty: 0,
  one: 1,
  page: pageSize,
  pagePlusOne: pageSize + 1,
  large: 25_000,
  resume: 2 * pageSize + pageSize / 2,
  faulty: 2 * pageSize + 7,
  /** Every OTHER_EVERY-th subscriber in a vendor status our model does not sync. */
  mixed: 2 * pageSize + 3,
});
const OTHER_EVERY = 7;
type ListName = keyof ReturnType<typeof LISTS>;

const fixture = (c: EspCase, name: ListName) => {
  const n = Object.keys(LISTS(c.pageSize)).indexOf(name);
  return { id: c.listId(n), apiKey: c.apiKey(n), size: LISTS(c.pageSize)[name] };
};

let server: FakeEspServer;
let slept: number[];

/** Clients on the fake, with real retries but recorded (instant) sleeps and tiny backoff. */
function registry(overrides: Partial<EspHttpOptions> = {}): EspClientRegistry {
  return createEspClientRegistry(
    {
      BEEHIIV_API_URL: server.baseUrls.beehiiv,
      KIT_API_URL: server.baseUrls.kit,
      MAILCHIMP_API_URL: server.baseUrls.mailchimp,
      ESP_REQUEST_TIMEOUT_MS: 5_000,
      ESP_MAX_RETRIES: 2,
      ESP_MAX_INLINE_WAIT_MS: 5_000,
    },
    {
      backoffBaseMs: 1,
      sleep: async (ms) => {
        slept.push(ms);
      },
      ...overrides,
    },
  );
}

beforeAll(async () => {
  const accounts: FakeAccountSpec[] = CASES.flatMap((c) =>
    (Object.keys(LISTS(c.pageSize)) as ListName[]).map((name) => {
      const list = fixture(c, name);
      return {
        esp: c.esp,
        apiKey: list.apiKey,
        lists: [
          {
            id: list.id,
            name: `${c.esp} ${name}`,
            size: list.size,
            ...(name === 'mixed' ? { otherStatusEvery: OTHER_EVERY } : {}),
          },
        ],
      };
    }),
  );
  server = await FakeEspServer.start({ accounts });
});

afterAll(() => server.stop());

beforeEach(() => {
  slept = [];
  server.clearRequests();
});

type Seen = Map<string, { email: string; status: string }>;

async function drain(client: EspClient, credentials: EspCredentials, cursor: string | null = null) {
  const seen: Seen = new Map();
  let duplicates = 0;
  let pages = 0;
  let skipped = 0;
  for await (const page of client.streamSubscribers(credentials, cursor)) {
    pages++;
    skipped += page.skipped;
    for (const s of page.subscribers) {
      if (seen.has(s.externalId)) duplicates++;
      seen.set(s.externalId, { email: s.email, status: s.status });
    }
  }
  return { seen, duplicates, pages, skipped };
}

/**
 * Differences between what a client synced and what the fake holds, as counts plus samples.
 * Subscribers in a status our model does not sync are expected to be absent (else `extra`).
 */
function compare(esp: EspType, listId: string, seen: Seen) {
  let missing = 0;
  let different = 0;
  const samples: string[] = [];
  const expected = new Set<string>();
  for (const s of server.subscribers(esp, listId)) {
    if (s.status === 'other') continue;
    expected.add(s.externalId);
    const got = seen.get(s.externalId);
    if (!got) missing++;
    else if (got.email !== s.email || got.status !== s.status) {
      different++;
      if (samples.length < 3) samples.push(`${s.externalId}: ${s.status} → ${got.status}`);
    }
  }
  const extra = [...seen.keys()].filter((id) => !expected.has(id)).length;
  return { missing, extra, different, samples };
}

/**
 * Requests a full pass of a list costs: one per page, none after the last (a full page does not
 * cost an empty one); a client that lists state by state pays that per state.
 */
function passPages(c: EspCase, listId: string): number {
  const pages = (n: number) => Math.max(1, Math.ceil(n / c.pageSize));
  const all = [...server.subscribers(c.esp, listId)];
  if (!c.listings) return pages(all.length);
  return c.listings
    .map((state) => pages(all.filter((s) => s.rawStatus === state).length))
    .reduce((a, b) => a + b, 0);
}

const NO_DIFFERENCE = { missing: 0, extra: 0, different: 0, samples: [] };

/** The rejection, checked to be an EspError that shows the key nowhere. */
async function rejection(promise: Promise<unknown>, apiKey: string): Promise<EspError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EspError);
  for (const text of [String(error), (error as Error).stack, inspect(error)]) {
    expect(text).not.toContain(apiKey);
  }
  return error as EspError;
}

describe.each(CASES)('the $esp client', (c) => {
  const creds = (name: ListName): EspCredentials => {
    const list = fixture(c, name);
    return { apiKey: list.apiKey, publicationId: list.id };
  };
  const listRequests = () => server.requests.filter((r) => r.esp === c.esp);
  afterEach(() => server.setFaults(c.esp, fixture(c, 'faulty').id, undefined));

  describe('full pagination', () => {
    it.each<ListName>(['empty', 'one', 'page', 'pagePlusOne', 'large'])(
      'syncs every subscriber of the %s list exactly once, with its email and status',
      async (name) => {
        const { id, size } = fixture(c, name);
        const client = registry().get(c.esp);
        const { seen, duplicates, pages } = await drain(client, creds(name));
        expect(seen.size).toBe(size);
        expect(duplicates).toBe(0);
        expect(compare(c.esp, id, seen)).toEqual(NO_DIFFERENCE);
        expect(pages).toBe(passPages(c, id));
        expect(listRequests()).toHaveLength(pages);
      },
    );

    it.each<ListName>(['empty', 'one', 'pagePlusOne', 'large'])(
      'counts the %s list in one cheap request',
      async (name) => {
        const client = registry().get(c.esp);
        await expect(client.countSubscribers(creds(name))).resolves.toBe(fixture(c, name).size);
        expect(listRequests()).toHaveLength(1);
      },
    );
  });

  describe('statuses our model does not sync', () => {
    it('yields exactly the syncable subscribers and totals the others in page.skipped', async () => {
      const { id, size } = fixture(c, 'mixed');
      const others = [...server.subscribers(c.esp, id)].filter((s) => s.status === 'other');
      expect(others).toHaveLength(Math.floor(size / OTHER_EVERY));
      expect(new Set(others.map((s) => s.rawStatus))).toEqual(new Set(c.otherStatuses));

      const { seen, duplicates, pages, skipped } = await drain(
        registry().get(c.esp),
        creds('mixed'),
      );
      expect(seen.size).toBe(size - others.length);
      expect(duplicates).toBe(0);
      expect(compare(c.esp, id, seen)).toEqual(NO_DIFFERENCE);
      expect(skipped).toBe(others.length);
      // Skipped records still fill pages: the pass costs as many requests as without them.
      expect(pages).toBe(passPages(c, id));
    });

    it('counts the vendor total, the skipped statuses included', async () => {
      const { size } = fixture(c, 'mixed');
      await expect(registry().get(c.esp).countSubscribers(creds('mixed'))).resolves.toBe(size);
      expect(listRequests()).toHaveLength(1);
    });

    it('counts the syncable subscribers: what a complete pass stores, the skipped left out', async () => {
      const { id, size } = fixture(c, 'mixed');
      const others = [...server.subscribers(c.esp, id)].filter((s) => s.status === 'other');
      await expect(registry().get(c.esp).countSyncable(creds('mixed'))).resolves.toBe(
        size - others.length,
      );
    });
  });

  describe('resuming', () => {
    it('continues from a saved cursor with exactly the subscribers not yet seen', async () => {
      const { id, size } = fixture(c, 'resume');
      const first = await registry().get(c.esp).fetchPage(creds('resume'), null);
      // The checkpoint is a plain string, stored and read back by another process.
      const saved: string = JSON.parse(JSON.stringify(first.nextCursor));
      const rest = await drain(registry().get(c.esp), creds('resume'), saved);

      const before = new Set(first.subscribers.map((s) => s.externalId));
      const overlap = [...rest.seen.keys()].filter((externalId) => before.has(externalId));
      expect(overlap).toEqual([]);
      expect(before.size + rest.seen.size).toBe(size);
      for (const s of first.subscribers) rest.seen.set(s.externalId, s);
      expect(compare(c.esp, id, rest.seen)).toEqual(NO_DIFFERENCE);
    });

    it('resumes after a page failed mid-stream, from the last page handed over', async () => {
      const { id, size } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, { malformedBodyOnRequest: 2 });
      const client = registry().get(c.esp);
      const seen: Seen = new Map();
      let checkpoint: string | null = null;
      const error = await rejection(
        (async () => {
          for await (const page of client.streamSubscribers(creds('faulty'))) {
            for (const s of page.subscribers) seen.set(s.externalId, s);
            checkpoint = page.nextCursor;
          }
        })(),
        creds('faulty').apiKey,
      );
      expect(error).toBeInstanceOf(ProtocolError);
      expect(seen.size).toBe(c.pageSize);

      const rest = await drain(client, creds('faulty'), checkpoint);
      for (const [externalId, s] of rest.seen) {
        expect(seen.has(externalId)).toBe(false);
        seen.set(externalId, s);
      }
      expect(seen.size).toBe(size);
      expect(compare(c.esp, id, seen)).toEqual(NO_DIFFERENCE);
    });
  });

  describe('credentials', () => {
    it('validates a key and list id, returning the list id and name', async () => {
      const { id } = fixture(c, 'one');
      await expect(registry().get(c.esp).validate(creds('one'))).resolves.toEqual({
        ok: true,
        publicationId: id,
        publicationName: `${c.esp} one`,
      });
    });

    it('lists the publications the key can see, with names and counts', async () => {
      const { id, apiKey } = fixture(c, 'pagePlusOne');
      const lists = await registry().get(c.esp).listPublications(apiKey);
      // pagePlusOne has only statuses we sync: the syncable count is the total.
      expect(lists).toEqual([
        {
          id,
          name: `${c.esp} pagePlusOne`,
          subscriberCount: c.pageSize + 1,
          total: c.pageSize + 1,
        },
      ]);
    });

    it('answers an unknown key with InvalidCredentialsError, never retried', async () => {
      const client = registry().get(c.esp);
      const credentials = { apiKey: c.unknownKey, publicationId: fixture(c, 'one').id };
      const error = await rejection(client.fetchPage(credentials, null), c.unknownKey);
      expect(error).toBeInstanceOf(InvalidCredentialsError);
      expect(error).toMatchObject({ code: 'invalid_credentials', espType: c.esp, status: 401 });
      await rejection(client.countSubscribers(credentials), c.unknownKey);
      const validation = await client.validate(credentials);
      expect(validation).toMatchObject({ ok: false, error: { code: 'invalid_credentials' } });
      expect(listRequests()).toHaveLength(3);
      expect(slept).toEqual([]);
    });

    it('answers a list id the key cannot see with not_found', async () => {
      const credentials = { apiKey: fixture(c, 'one').apiKey, publicationId: c.listId(99) };
      const validation = await registry().get(c.esp).validate(credentials);
      expect(validation).toMatchObject({ ok: false, error: { code: 'not_found', espType: c.esp } });
      if (!validation.ok) expect(validation.error).toBeInstanceOf(NotFoundError);
    });
  });

  describe('rate limits and failures', () => {
    it('sleeps through short 429s (Retry-After) and still syncs everything once', async () => {
      const { id, size } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, { rateLimitEvery: 2, retryAfterSeconds: 1 });
      const { seen, duplicates } = await drain(registry().get(c.esp), creds('faulty'));
      expect(seen.size).toBe(size);
      expect(duplicates).toBe(0);
      expect(compare(c.esp, id, seen)).toEqual(NO_DIFFERENCE);
      // Every second request is refused once: each page but the first waits out one 429.
      const pages = passPages(c, id);
      expect(slept).toEqual(Array<number>(pages - 1).fill(1_000));
      expect(listRequests().map((r) => r.status)).toEqual(
        Array.from({ length: 2 * pages - 1 }, (_, i) => (i % 2 === 0 ? 200 : 429)),
      );
    });

    it('surfaces a long 429 as RateLimitedError with retryAfterMs, without waiting', async () => {
      const { id, apiKey } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, { rateLimitEvery: 1, retryAfterSeconds: 90 });
      const error = await rejection(registry().get(c.esp).fetchPage(creds('faulty'), null), apiKey);
      expect(error).toBeInstanceOf(RateLimitedError);
      expect(error).toMatchObject({ retryAfterMs: 90_000, status: 429, retryable: true });
      expect(slept).toEqual([]);
      expect(listRequests()).toHaveLength(1);
    });

    it('retries a burst of 5xx and carries on', async () => {
      const { id, size } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, { serverErrorBurst: { afterRequests: 1, count: 2 } });
      const { seen, pages } = await drain(registry().get(c.esp), creds('faulty'));
      expect(seen.size).toBe(size);
      expect(compare(c.esp, id, seen)).toEqual(NO_DIFFERENCE);
      expect(listRequests()).toHaveLength(pages + 2);
      expect(slept).toHaveLength(2);
    });

    it('stops retrying at its bound and throws TransientError', async () => {
      const { id, apiKey } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, {
        serverErrorBurst: { afterRequests: 0, count: 50, status: 503 },
      });
      const client = registry({ maxRetries: 3 }).get(c.esp);
      const error = await rejection(client.fetchPage(creds('faulty'), null), apiKey);
      expect(error).toBeInstanceOf(TransientError);
      expect(error).toMatchObject({ status: 503, retryable: true });
      expect(listRequests()).toHaveLength(4);
      expect(slept).toHaveLength(3);
    });

    it('gives up on a slow ESP after the timeout, with TransientError', async () => {
      const { id, apiKey } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, { latencyMs: 1_000 });
      const client = registry({ timeoutMs: 30, maxRetries: 1 }).get(c.esp);
      const error = await rejection(client.fetchPage(creds('faulty'), null), apiKey);
      expect(error).toBeInstanceOf(TransientError);
      expect(error.message).toContain('timed out after 30 ms');
      expect(slept).toHaveLength(1);
    });

    it('reports a malformed body as ProtocolError, not retried', async () => {
      const { id, apiKey } = fixture(c, 'faulty');
      server.setFaults(c.esp, id, { malformedBodyOnRequest: 1 });
      const error = await rejection(registry().get(c.esp).fetchPage(creds('faulty'), null), apiKey);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(listRequests()).toHaveLength(1);
    });
  });
});
