import { randomUUID } from 'node:crypto';
import { clearEspBudgets } from '@subscribernest/testkit';
import { EspClientRegistry } from '@subscribernest/shared';
import { EspTestApi, KEYS, startEspTestApi, TestUser } from './support/fake-esp-api';

const CONNECTION_FIELDS = [
  'authMethod',
  'createdAt',
  'espType',
  'id',
  'lastSyncedAt',
  'lastValidatedAt',
  'listNames',
  'publicationId',
  'publicationIds',
  'status',
  'syncStatus',
].sort();

interface ConnectionBody {
  id: string;
  espType: string;
  publicationId: string;
  status: string;
  syncStatus: string;
}

describe('ESP connections (real app, Postgres, Redis and the fake ESP)', () => {
  let harness: EspTestApi;
  let alice: TestUser;
  /** Every answer body the suite received, checked for keys at the end. */
  const answers: string[] = [];

  const api = () => harness.api;
  const esp = () => harness.esp;
  const rowOf = async (id: string) => {
    const [row] = await api().dataSource.query(
      'SELECT status, encrypted_api_key, publication_id, publication_name FROM esp_connections WHERE id = $1',
      [id],
    );
    return row as
      | {
          status: string;
          encrypted_api_key: string;
          publication_id: string;
          publication_name: string | null;
        }
      | undefined;
  };
  const connect = async (user: TestUser, body: object): Promise<ConnectionBody> =>
    (await user.post('/esp-connections', body).expect(201)).body as ConnectionBody;

  beforeAll(async () => {
    harness = await startEspTestApi();
    alice = await TestUser.signIn(api(), 'alice@example.com', answers);
  });

  // A 429 a test injects says "nothing until Reset", which the request budget (rightly) honours
  // for that key: each test starts with fresh budgets instead of waiting for those windows.
  afterEach(() => clearEspBudgets(api().env.QUEUE_PREFIX));

  afterAll(async () => {
    await harness?.close();
  });

  afterEach(() => {
    for (const list of ['pub_weekly', 'pub_faulty']) esp().setFaults('beehiiv', list, undefined);
    esp().setFaults('kit', '424242', undefined);
  });

  it('uses the shared EspClientRegistry', () => {
    expect(api().app.get(EspClientRegistry).espTypes.sort()).toEqual([
      'beehiiv',
      'kit',
      'mailchimp',
    ]);
  });

  describe('POST /esp-connections', () => {
    it('validates with the ESP, stores the key encrypted and answers 201 with the connection', async () => {
      const before = Date.now();
      const response = await alice
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: KEYS.beehiiv,
          publicationId: 'pub_weekly',
        })
        .expect(201);
      const body = response.body as Record<string, unknown>;
      expect(Object.keys(body).sort()).toEqual(CONNECTION_FIELDS);
      expect(body).toMatchObject({
        id: expect.any(String),
        espType: 'beehiiv',
        authMethod: 'api_key',
        publicationId: 'pub_weekly',
        publicationIds: ['pub_weekly'],
        listNames: ['Weekly'],
        status: 'active',
        syncStatus: 'idle',
        lastSyncedAt: null,
      });
      expect(new Date(body.lastValidatedAt as string).getTime()).toBeGreaterThanOrEqual(
        before - 1_000,
      );
      expect(new Date(body.createdAt as string).toISOString()).toBe(body.createdAt);

      const row = await rowOf(body.id as string);
      expect(row?.encrypted_api_key).toMatch(/^v1\./);
      expect(row?.encrypted_api_key).not.toContain(KEYS.beehiiv);
      expect(api().encryption.decrypt(row!.encrypted_api_key)).toBe(KEYS.beehiiv);
      expect(
        esp().requests.some(
          (r) => r.esp === 'beehiiv' && r.path === '/publications/pub_weekly' && r.status === 200,
        ),
      ).toBe(true);
    });

    it('takes the Kit account id when no publicationId is given', async () => {
      const body = await connect(alice, { espType: 'kit', apiKey: KEYS.kit });
      expect(body).toMatchObject({
        espType: 'kit',
        publicationId: '424242',
        publicationIds: ['424242'],
        listNames: ['Alice on Kit'],
      });
    });

    it('connects a Mailchimp list', async () => {
      const body = await connect(alice, {
        espType: 'mailchimp',
        apiKey: KEYS.mailchimp,
        publicationId: 'list_main',
      });
      expect(body).toMatchObject({ espType: 'mailchimp', listNames: ['Main'] });
    });

    it('answers 409 for the same user, ESP and publication, and stores nothing more', async () => {
      const body = { espType: 'beehiiv', apiKey: KEYS.beehiiv, publicationId: 'pub_daily' };
      await alice.post('/esp-connections', body).expect(201);
      const response = await alice.post('/esp-connections', body).expect(409);
      expect(response.body.message).toBe(
        'This beehiiv publication/list (pub_daily) is already connected',
      );
      const [{ count }] = await api().dataSource.query(
        `SELECT count(*)::int AS count FROM esp_connections WHERE publication_id = 'pub_daily'`,
      );
      expect(count).toBe(1);
    });

    it('answers 400 naming the reason when the ESP rejects the key, and stores nothing', async () => {
      const response = await alice
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: 'bh-wrong-key-123456',
          publicationId: 'pub_weekly',
        })
        .expect(400);
      expect(response.body.message).toMatch(/^beehiiv rejected the API key: .*HTTP 401/);
      expect(response.text).not.toContain('bh-wrong-key-123456');

      const kit = await alice
        .post('/esp-connections', { espType: 'kit', apiKey: 'kit-wrong-key-98765' })
        .expect(400);
      expect(kit.body.message).toMatch(/^Kit rejected the API key/);

      const mailchimp = await alice
        .post('/esp-connections', {
          espType: 'mailchimp',
          apiKey: 'nodatacentre0123',
          publicationId: 'list_main',
        })
        .expect(400);
      expect(mailchimp.body.message).toMatch(/^Mailchimp rejected the API key: .*data centre/);
    });

    it('answers 400 when the publication or list is not the key’s', async () => {
      const response = await alice
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: KEYS.beehiiv,
          publicationId: 'pub_bob',
        })
        .expect(400);
      expect(response.body.message).toMatch(
        /^beehiiv did not find the publication\/list for this key: .*404/,
      );
      const kit = await alice
        .post('/esp-connections', { espType: 'kit', apiKey: KEYS.kit, publicationId: '515151' })
        .expect(400);
      expect(kit.body.message).toMatch(/^Kit did not find the publication\/list/);
    });

    it('answers 400 for invalid bodies, naming the field', async () => {
      const cases: [object, string][] = [
        [{ apiKey: KEYS.beehiiv, publicationId: 'pub_weekly' }, 'espType'],
        [{ espType: 'substack', apiKey: 'x1234', publicationId: 'p' }, 'espType'],
        [{ espType: 'beehiiv', publicationId: 'pub_weekly' }, 'apiKey'],
        [{ espType: 'beehiiv', apiKey: '   ', publicationId: 'pub_weekly' }, 'apiKey'],
        [{ espType: 'beehiiv', apiKey: 42, publicationId: 'pub_weekly' }, 'apiKey'],
        [{ espType: 'beehiiv', apiKey: KEYS.beehiiv }, 'publicationId'],
        [{ espType: 'mailchimp', apiKey: KEYS.mailchimp, publicationId: '' }, 'publicationId'],
        [{ espType: 'kit', apiKey: KEYS.kit, publicationId: '' }, 'publicationId'],
        [{ espType: 'beehiiv', apiKey: 'x'.repeat(513), publicationId: 'p' }, 'apiKey'],
        [{ espType: 'kit', apiKey: KEYS.kit, extra: true }, 'extra'],
      ];
      for (const [body, field] of cases) {
        const response = await alice.post('/esp-connections', body).expect(400);
        expect(Object.keys(response.body.fields as object)).toContain(field);
      }
      const malformed = await api()
        .http()
        .post('/esp-connections')
        .set('authorization', `Bearer ${alice.token}`)
        .set('content-type', 'application/json')
        .send(`{"espType":"kit","apiKey":"${KEYS.kit}"`)
        .expect(400);
      expect(malformed.text).not.toContain(KEYS.kit);
    });

    it('answers 429 with Retry-After when the ESP rate-limits the check', async () => {
      esp().setFaults('beehiiv', 'pub_faulty', { rateLimitEvery: 1, retryAfterSeconds: 42 });
      const response = await alice
        .post('/esp-connections', {
          espType: 'beehiiv',
          apiKey: KEYS.beehiiv,
          publicationId: 'pub_faulty',
        })
        .expect(429);
      expect(response.headers['retry-after']).toBe('42');
      expect(response.body.message).toBe('beehiiv is limiting our requests; try again in 42 s');
    });

    it('answers 502 when the ESP fails and 503 when it cannot be reached in time', async () => {
      const body = { espType: 'beehiiv', apiKey: KEYS.beehiiv, publicationId: 'pub_faulty' };
      esp().setFaults('beehiiv', 'pub_faulty', {
        serverErrorBurst: { afterRequests: 0, count: 1_000, status: 500 },
      });
      const failed = await alice.post('/esp-connections', body).expect(502);
      expect(failed.body.message).toBe(
        'beehiiv answered with an error (HTTP 500); try again later',
      );
      esp().setFaults('beehiiv', 'pub_faulty', { latencyMs: 3_000 });
      const unreachable = await alice.post('/esp-connections', body).expect(503);
      expect(unreachable.body.message).toBe('beehiiv could not be reached; try again later');
      expect(
        await api().dataSource.query(
          `SELECT id FROM esp_connections WHERE publication_id = 'pub_faulty'`,
        ),
      ).toEqual([]);
    });

    it('answers 401 without a session', async () => {
      await api()
        .http()
        .post('/esp-connections')
        .send({ espType: 'kit', apiKey: KEYS.kit })
        .expect(401);
    });
  });

  describe('GET /esp-connections and /esp-connections/:id', () => {
    it("lists the caller's connections, oldest first, never a key", async () => {
      const response = await alice.get('/esp-connections').expect(200);
      const list = response.body as ConnectionBody[];
      expect(list.map((c) => `${c.espType}:${c.publicationId}`)).toEqual([
        'beehiiv:pub_weekly',
        'kit:424242',
        'mailchimp:list_main',
        'beehiiv:pub_daily',
      ]);
      for (const connection of list) {
        expect(Object.keys(connection).sort()).toEqual(CONNECTION_FIELDS);
      }
    });

    it('answers one connection, 400 for a non-UUID id and 404 for an unknown one', async () => {
      const [first] = (await alice.get('/esp-connections').expect(200)).body as ConnectionBody[];
      const one = await alice.get(`/esp-connections/${first.id}`).expect(200);
      expect(one.body).toEqual(first);
      const bad = await alice.get('/esp-connections/not-a-uuid').expect(400);
      expect(bad.body.message).toBe('id must be a UUID');
      await alice.get(`/esp-connections/${randomUUID()}`).expect(404);
      await api().http().get(`/esp-connections/${first.id}`).expect(401);
      await api().http().get('/esp-connections').expect(401);
    });
  });

  describe('GET /esp-connections/:id/lists and /subscriber-count (live from the ESP)', () => {
    let beehiiv: ConnectionBody;
    let kit: ConnectionBody;

    beforeAll(async () => {
      const list = (await alice.get('/esp-connections').expect(200)).body as ConnectionBody[];
      beehiiv = list.find((c) => c.publicationId === 'pub_weekly')!;
      kit = list.find((c) => c.espType === 'kit')!;
    });

    /** Syncable (statuses a sync stores) and total, as the fake holds them now. */
    const counts = (espType: 'beehiiv' | 'kit' | 'mailchimp', listId: string) => {
      const all = [...esp().subscribers(espType, listId)];
      const syncable = all.filter((s) => s.status !== 'other').length;
      return { syncable, total: all.length };
    };

    it('lists what the stored key can see, each counted as subscriber-count counts', async () => {
      const response = await alice.get(`/esp-connections/${beehiiv.id}/lists`).expect(200);
      const listed = (id: string, name: string) => {
        const { syncable, total } = counts('beehiiv', id);
        return { id, name, subscriberCount: syncable, syncable, total };
      };
      expect(response.body).toEqual([
        listed('pub_weekly', 'Weekly'),
        listed('pub_daily', 'Daily'),
        listed('pub_faulty', 'Faulty'),
      ]);
      const kitLists = await alice.get(`/esp-connections/${kit.id}/lists`).expect(200);
      const kitCounts = counts('kit', '424242');
      expect(kitLists.body).toEqual([
        { id: '424242', name: 'Alice on Kit', subscriberCount: kitCounts.syncable, ...kitCounts },
      ]);
    });

    it('counts the subscribers of the connection’s list: syncable (= count) and total', async () => {
      const response = await alice
        .get(`/esp-connections/${beehiiv.id}/subscriber-count`)
        .expect(200);
      const before = counts('beehiiv', 'pub_weekly');
      expect(response.body).toEqual({ count: before.syncable, ...before });
      esp().mutate('beehiiv', 'pub_weekly', { add: 3 });
      const after = await alice.get(`/esp-connections/${beehiiv.id}/subscriber-count`).expect(200);
      const now = counts('beehiiv', 'pub_weekly');
      expect(after.body).toEqual({ count: now.syncable, ...now });
      expect(now.total).toBe(before.total + 3);
    });

    it('maps ESP rate limits to 429 with Retry-After', async () => {
      esp().setFaults('beehiiv', 'pub_weekly', { rateLimitEvery: 1, retryAfterSeconds: 7 });
      const count = await alice.get(`/esp-connections/${beehiiv.id}/subscriber-count`).expect(429);
      expect(count.headers['retry-after']).toBe('7');
      esp().setFaults('kit', '424242', { rateLimitEvery: 1, retryAfterSeconds: 9 });
      const lists = await alice.get(`/esp-connections/${kit.id}/lists`).expect(429);
      expect(lists.headers['retry-after']).toBe('9');
      expect(lists.body.message).toBe('Kit is limiting our requests; try again in 9 s');
    });

    it('maps ESP errors to 502, timeouts to 503, and unreadable answers to 502', async () => {
      esp().setFaults('beehiiv', 'pub_weekly', {
        serverErrorBurst: { afterRequests: 0, count: 1_000, status: 503 },
      });
      const failed = await alice.get(`/esp-connections/${beehiiv.id}/subscriber-count`).expect(502);
      expect(failed.body).toEqual({
        statusCode: 502,
        message: 'beehiiv answered with an error (HTTP 503); try again later',
        error: 'Bad Gateway',
      });
      esp().setFaults('beehiiv', 'pub_weekly', { latencyMs: 3_000 });
      const slow = await alice.get(`/esp-connections/${beehiiv.id}/subscriber-count`).expect(503);
      expect(slow.body.message).toBe('beehiiv could not be reached; try again later');
      esp().setFaults('kit', '424242', { malformedBodyOnRequest: 1 });
      const garbled = await alice.get(`/esp-connections/${kit.id}/subscriber-count`).expect(502);
      expect(garbled.body.message).toBe('Kit sent an answer we could not understand');
      esp().setFaults('kit', '424242', {
        serverErrorBurst: { afterRequests: 0, count: 1_000, status: 500 },
      });
      await alice.get(`/esp-connections/${kit.id}/lists`).expect(502);
    });

    it('answers 400 for a non-UUID id and 404 for an unknown one', async () => {
      for (const route of ['lists', 'subscriber-count']) {
        await alice.get(`/esp-connections/nope/${route}`).expect(400);
        await alice.get(`/esp-connections/${randomUUID()}/${route}`).expect(404);
        await api().http().get(`/esp-connections/${beehiiv.id}/${route}`).expect(401);
      }
    });
  });

  describe('PATCH /esp-connections/:id and a key the ESP stops accepting', () => {
    let connection: ConnectionBody;

    beforeAll(async () => {
      connection = await connect(alice, {
        espType: 'kit',
        apiKey: KEYS.kitOther,
        publicationId: '515151',
      });
    });

    it('marks the connection invalid when the ESP rejects the stored key (502, clear message)', async () => {
      // The key was revoked at the ESP: what we store no longer works.
      await api().dataSource.query(
        'UPDATE esp_connections SET encrypted_api_key = $2 WHERE id = $1',
        [connection.id, api().encryption.encrypt('kit-revoked-key-0000')],
      );
      const response = await alice
        .get(`/esp-connections/${connection.id}/subscriber-count`)
        .expect(502);
      expect(response.body.message).toMatch(/^Kit rejected the stored API key/);
      expect((await rowOf(connection.id))?.status).toBe('invalid');
      const shown = await alice.get(`/esp-connections/${connection.id}`).expect(200);
      expect(shown.body.status).toBe('invalid');
    });

    it('answers 400 with the ESP’s reason for a new key it rejects, and keeps the old state', async () => {
      const before = await rowOf(connection.id);
      const response = await alice
        .patch(`/esp-connections/${connection.id}`, { apiKey: 'kit-still-wrong-1111' })
        .expect(400);
      expect(response.body.message).toMatch(/^Kit rejected the API key/);
      // A valid key of another Kit account is not this connection's list.
      const other = await alice
        .patch(`/esp-connections/${connection.id}`, { apiKey: KEYS.kit })
        .expect(400);
      expect(other.body.message).toMatch(/^Kit did not find the publication\/list/);
      expect(await rowOf(connection.id)).toEqual(before);
    });

    it('replaces the key after validating it and reactivates the connection', async () => {
      const response = await alice
        .patch(`/esp-connections/${connection.id}`, { apiKey: KEYS.kitOther })
        .expect(200);
      expect(response.body).toMatchObject({
        id: connection.id,
        status: 'active',
        publicationId: '515151',
        listNames: ['Carol on Kit'],
      });
      const row = await rowOf(connection.id);
      expect(api().encryption.decrypt(row!.encrypted_api_key)).toBe(KEYS.kitOther);
      await alice.get(`/esp-connections/${connection.id}/subscriber-count`).expect(200);
    });

    it('answers 400 for invalid bodies and ids, 404 for unknown ids, 401 without a session', async () => {
      for (const body of [{}, { apiKey: '' }, { apiKey: KEYS.kit, status: 'active' }]) {
        await alice.patch(`/esp-connections/${connection.id}`, body).expect(400);
      }
      await alice.patch('/esp-connections/123', { apiKey: KEYS.kit }).expect(400);
      await alice.patch(`/esp-connections/${randomUUID()}`, { apiKey: KEYS.kit }).expect(404);
      await api()
        .http()
        .patch(`/esp-connections/${connection.id}`)
        .send({ apiKey: KEYS.kit })
        .expect(401);
    });
  });

  describe('DELETE /esp-connections/:id', () => {
    const insertSubscribers = async (connectionId: string, count: number) => {
      await api().dataSource.query(
        `INSERT INTO subscribers
           (esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status)
         SELECT $1, 'ext-' || i, 'v1.k.x.y', md5(i::text), 's***@e***.com', 'active'
         FROM generate_series(1, $2::int) AS i`,
        [connectionId, count],
      );
    };
    const countWhere = async (table: string, connectionId: string): Promise<number> => {
      const [{ count }] = await api().dataSource.query(
        `SELECT count(*)::int AS count FROM ${table} WHERE esp_connection_id = $1`,
        [connectionId],
      );
      return count as number;
    };

    it('deletes the connection with its subscribers (in batches) and sync runs', async () => {
      const doomed = await connect(alice, {
        espType: 'beehiiv',
        apiKey: KEYS.beehiiv,
        publicationId: 'pub_faulty',
      });
      const kept = (
        (await alice.get('/esp-connections').expect(200)).body as ConnectionBody[]
      ).find((c) => c.publicationId === 'pub_weekly')!;
      await insertSubscribers(doomed.id, 12_345);
      await insertSubscribers(kept.id, 10);
      // Records how many subscribers each DELETE statement removed.
      await api().dataSource.query(`
        CREATE TABLE test_subscriber_deletes (deleted int NOT NULL);
        CREATE FUNCTION test_count_subscriber_deletes() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO test_subscriber_deletes SELECT count(*) FROM old_rows;
          RETURN NULL;
        END $$;
        CREATE TRIGGER test_count_subscriber_deletes AFTER DELETE ON subscribers
          REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
          EXECUTE FUNCTION test_count_subscriber_deletes();`);
      await alice.post(`/esp-connections/${doomed.id}/sync`).expect(202);
      await api().dataSource.query(
        `UPDATE sync_runs SET status = 'success' WHERE esp_connection_id = $1`,
        [doomed.id],
      );
      await alice.post(`/esp-connections/${doomed.id}/sync`).expect(202);
      expect(await countWhere('sync_runs', doomed.id)).toBe(2);

      const response = await alice.delete(`/esp-connections/${doomed.id}`).expect(200);
      expect(response.body).toEqual({ success: true });

      expect(await countWhere('subscribers', doomed.id)).toBe(0);
      expect(await countWhere('sync_runs', doomed.id)).toBe(0);
      const statements = (
        await api().dataSource.query<{ deleted: number }[]>(
          'SELECT deleted FROM test_subscriber_deletes WHERE deleted > 0',
        )
      ).map((row) => row.deleted);
      expect(statements).toEqual([5_000, 5_000, 2_345]);
      expect(await rowOf(doomed.id)).toBeUndefined();
      expect(await countWhere('subscribers', kept.id)).toBe(10);
      await alice.get(`/esp-connections/${doomed.id}`).expect(404);
      await alice.delete(`/esp-connections/${doomed.id}`).expect(404);
    });

    it('answers 400 for a non-UUID id, 404 for an unknown one, 401 without a session', async () => {
      await alice.delete('/esp-connections/1').expect(400);
      await alice.delete(`/esp-connections/${randomUUID()}`).expect(404);
      await api().http().delete(`/esp-connections/${randomUUID()}`).expect(401);
    });
  });

  it('never answered with an API key, plain or encrypted', async () => {
    expect(answers.length).toBeGreaterThan(50);
    const encrypted = (
      await api().dataSource.query<{ encrypted_api_key: string }[]>(
        'SELECT encrypted_api_key FROM esp_connections',
      )
    ).map((row) => row.encrypted_api_key);
    const secrets = [...Object.values(KEYS), ...encrypted, 'encryptedApiKey'];
    for (const text of answers) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });
});
