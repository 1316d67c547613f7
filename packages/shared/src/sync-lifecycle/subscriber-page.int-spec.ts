import { createHash, randomUUID } from 'node:crypto';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/run-migrations';
import type { PoolClient } from 'pg';
import {
  copySubscriberPage,
  findChangedSubscribers,
  isUniqueViolation,
  SubscriberCandidate,
  SubscriberRow,
  upsertSubscriberPage,
} from './subscriber-page';

/**
 * Stands in for the sync's subscriberContentHash, which hashes the ESP's record: to these
 * functions the hash is opaque, whatever changes with the fields will do.
 */
function fieldsHash(row: SubscriberRow): string {
  const { emailHmac, status, firstName, lastName, subscribedAt, unsubscribedAt, metadata } = row;
  const fields = [emailHmac, status, firstName, lastName, subscribedAt, unsubscribedAt, metadata];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
}

type HashedRow = SubscriberRow & SubscriberCandidate;

function row(id: string, overrides: Partial<SubscriberRow> = {}): HashedRow {
  const fields: SubscriberRow = {
    externalId: id,
    emailEncrypted: `enc-${id}`,
    emailHmac: `hmac-${id}`,
    emailMasked: 's***@example.com',
    status: 'active',
    firstName: 'Ada',
    lastName: null,
    subscribedAt: new Date('2026-01-02T03:04:05.678Z'),
    unsubscribedAt: null,
    metadata: { plan: 'free', tags: ['a', 'b'] },
    ...overrides,
  };
  return { ...fields, contentHash: fieldsHash(fields) };
}

describe('subscriber pages (real Postgres)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let connectionId: string;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`${randomUUID()}@example.com`],
    );
    const [connection] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'enc', 'pub') RETURNING id`,
      [user.id],
    );
    connectionId = connection.id;
    await upsertSubscriberPage(dataSource.manager, connectionId, [row('a'), row('b'), row('c')]);
  });

  async function stored(ids: string[]) {
    return dataSource.query<
      {
        external_id: string;
        updated_at: Date;
        email_encrypted: string;
        content_hash: Buffer | null;
      }[]
    >(
      `SELECT external_id, updated_at, email_encrypted, content_hash FROM subscribers
        WHERE esp_connection_id = $1 AND external_id = ANY($2) ORDER BY external_id`,
      [connectionId, ids],
    );
  }

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('calls a stored subscriber unchanged when every compared field is equal, whatever the ciphertext or mask', async () => {
    const same = row('a', { emailEncrypted: 'another-iv', emailMasked: 'other' });
    expect(await findChangedSubscribers(dataSource.manager, connectionId, [same])).toEqual(
      new Set(),
    );
  });

  it('leaves a row whose hash alone differs in place: its hash refreshed, not counted, updated_at kept', async () => {
    // Metadata keys in another order: the same jsonb, another hash.
    const reordered = row('c', { metadata: { tags: ['a', 'b'], plan: 'free' } });
    await dataSource.query(
      `UPDATE subscribers SET content_hash = NULL WHERE esp_connection_id = $1 AND external_id = 'b'`,
      [connectionId],
    );
    const legacy = row('b');
    const before = await stored(['b', 'c']);
    const changed = await findChangedSubscribers(dataSource.manager, connectionId, [
      reordered,
      legacy,
    ]);
    expect(changed).toEqual(new Set(['b', 'c']));
    const counts = await upsertSubscriberPage(dataSource.manager, connectionId, [
      { ...reordered, emailEncrypted: 'fresh-iv' },
      { ...legacy, emailEncrypted: 'fresh-iv' },
    ]);
    expect(counts).toEqual({ created: 0, updated: 0 });
    const after = await stored(['b', 'c']);
    expect(
      after.map(({ updated_at, email_encrypted }) => ({ updated_at, email_encrypted })),
    ).toEqual(before.map(({ updated_at, email_encrypted }) => ({ updated_at, email_encrypted })));
    expect(after.every((r) => r.content_hash !== null)).toBe(true);
    expect(
      await findChangedSubscribers(dataSource.manager, connectionId, [reordered, legacy]),
    ).toEqual(new Set());
  });

  it('calls new subscribers and every kind of difference changed', async () => {
    const candidates = [
      row('new'),
      row('a', { status: 'unsubscribed' }),
      row('b', { lastName: 'Lovelace' }),
      row('c', { metadata: { plan: 'paid', tags: ['a', 'b'] } }),
      row('a', { emailHmac: 'hmac-other' }),
      row('b', { subscribedAt: new Date('2026-01-02T03:04:05.679Z') }),
      row('c', { firstName: null }),
      row('a', { unsubscribedAt: new Date() }),
    ];
    for (const candidate of candidates) {
      expect(await findChangedSubscribers(dataSource.manager, connectionId, [candidate])).toEqual(
        new Set([candidate.externalId]),
      );
    }
  });

  it('agrees with the upsert: what it calls unchanged, the upsert does not rewrite', async () => {
    const batch = [row('a'), row('b', { status: 'bounced' }), row('d')];
    const changed = await findChangedSubscribers(dataSource.manager, connectionId, batch);
    expect(changed).toEqual(new Set(['b', 'd']));
    const counts = await upsertSubscriberPage(dataSource.manager, connectionId, batch);
    expect(counts).toEqual({ created: 1, updated: 1 });
    expect(await findChangedSubscribers(dataSource.manager, connectionId, batch)).toEqual(
      new Set(),
    );
  });

  it('stores every value as it came, whatever JSON has to escape in it', async () => {
    const awkward = row('quote"back\\slash\u00e9🎉', {
      firstName: 'Zoë "the" \\ O\'Hara\n\tnext line \u2028 名前',
      lastName: '',
      unsubscribedAt: new Date('2026-02-03T04:05:06.007Z'),
      status: 'unsubscribed',
      metadata: { 'k"ey': ['x\\y', { deep: '🎉\u2029', n: 1.25, t: true, z: null }], e: '' },
    });
    expect(await upsertSubscriberPage(dataSource.manager, connectionId, [awkward])).toEqual({
      created: 1,
      updated: 0,
    });
    const [storedRow] = await dataSource.query<Record<string, unknown>[]>(
      `SELECT external_id, first_name, last_name, status, subscribed_at, unsubscribed_at,
              metadata, email_encrypted, email_hmac, email_masked
         FROM subscribers WHERE esp_connection_id = $1 AND external_id = $2`,
      [connectionId, awkward.externalId],
    );
    expect(storedRow).toEqual({
      external_id: awkward.externalId,
      first_name: awkward.firstName,
      last_name: '',
      status: 'unsubscribed',
      subscribed_at: awkward.subscribedAt,
      unsubscribed_at: awkward.unsubscribedAt,
      metadata: awkward.metadata,
      email_encrypted: awkward.emailEncrypted,
      email_hmac: awkward.emailHmac,
      email_masked: awkward.emailMasked,
    });
    expect(await findChangedSubscribers(dataSource.manager, connectionId, [awkward])).toEqual(
      new Set(),
    );
  });

  describe('inserted by COPY (a first sync)', () => {
    /** copySubscriberPage in a transaction of its own, as storePage runs it. */
    const copy = (rows: SubscriberRow[]) =>
      dataSource.transaction(async (manager) =>
        copySubscriberPage(
          (await manager.queryRunner!.connect()) as PoolClient,
          connectionId,
          rows,
        ),
      );
    const count = async (status: string) => {
      const found = await dataSource.query<{ count: number }[]>(
        `SELECT count FROM subscriber_counts WHERE esp_connection_id = $1 AND status = $2`,
        [connectionId, status],
      );
      return found[0]?.count ?? 0;
    };

    it('stores every value as it came, whatever the text format has to escape, with the content hash the upsert gives', async () => {
      const awkward = row('copy\ttab\\.\\N', {
        firstName: 'tab\there\nnew line\r\\. back\\slash \\N "quoted" é 🎉 \u2028',
        lastName: '\\',
        emailMasked: 'a\\b***@example.com',
        unsubscribedAt: new Date('2026-02-03T04:05:06.007Z'),
        status: 'bounced',
        metadata: { 'tab\tkey': ['x\\y\n', { deep: '\\.', z: null, n: 1.5 }], e: '' },
      });
      const plain = row('copy-plain', { firstName: null, subscribedAt: null, metadata: {} });
      const bouncedBefore = await count('bounced');
      expect(await copy([awkward, plain])).toBe(2);

      const storedRows = await dataSource.query<Record<string, unknown>[]>(
        `SELECT external_id, first_name, last_name, status, subscribed_at, unsubscribed_at,
                metadata, email_encrypted, email_hmac, email_masked
           FROM subscribers WHERE esp_connection_id = $1 AND external_id = ANY($2)
          ORDER BY external_id = $3`,
        [connectionId, [awkward.externalId, plain.externalId], awkward.externalId],
      );
      const expected = (r: SubscriberRow) => ({
        external_id: r.externalId,
        first_name: r.firstName,
        last_name: r.lastName,
        status: r.status,
        subscribed_at: r.subscribedAt,
        unsubscribed_at: r.unsubscribedAt,
        metadata: r.metadata,
        email_encrypted: r.emailEncrypted,
        email_hmac: r.emailHmac,
        email_masked: r.emailMasked,
      });
      expect(storedRows).toEqual([expected(plain), expected(awkward)]); // plain first: false < true
      // The hash COPY stored is the one a re-sync compares with: nothing to rewrite.
      expect(
        await findChangedSubscribers(dataSource.manager, connectionId, [awkward, plain]),
      ).toEqual(new Set());
      // The counts trigger sees COPY's rows like the upsert's.
      expect(await count('bounced')).toBe(bouncedBefore + 1);
    });

    it('stores a row given without a content hash with none, so that the next sync compares its fields', async () => {
      const unhashed = { ...row('copy-unhashed'), contentHash: null };
      expect(await copy([unhashed])).toBe(1);
      expect(await stored(['copy-unhashed'])).toEqual([
        expect.objectContaining({ external_id: 'copy-unhashed', content_hash: null }),
      ]);
      expect(
        await findChangedSubscribers(dataSource.manager, connectionId, [row('copy-unhashed')]),
      ).toEqual(new Set(['copy-unhashed']));
    });

    it('fails on a row already stored with a unique violation, and leaves none of the batch behind', async () => {
      const activeBefore = await count('active');
      const error: unknown = await copy([row('copy-new'), row('a')]).catch((e: unknown) => e);
      expect(isUniqueViolation(error)).toBe(true);
      expect(await stored(['copy-new'])).toEqual([]);
      expect(await count('active')).toBe(activeBefore);
    });
  });

  it('compares within the connection only', async () => {
    expect(await findChangedSubscribers(dataSource.manager, randomUUID(), [row('a')])).toEqual(
      new Set(['a']),
    );
    expect(await findChangedSubscribers(dataSource.manager, connectionId, [])).toEqual(new Set());
  });
});
