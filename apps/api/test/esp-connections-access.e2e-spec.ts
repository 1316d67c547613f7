import { EspTestApi, KEYS, startEspTestApi, TestUser } from './support/fake-esp-api';

/**
 * The cross-user matrix: every ESP connection and sync route, called by another signed-in user
 * on Alice's connection, answers 404 (as if it did not exist) and neither reads nor changes it.
 */
describe('ESP connections and sync: another user’s connection (real app)', () => {
  let harness: EspTestApi;
  let alice: TestUser;
  let mallory: TestUser;
  let connectionId: string;
  const answers: string[] = [];

  const api = () => harness.api;
  const snapshot = async () => ({
    connection: await api().dataSource.query('SELECT * FROM esp_connections WHERE id = $1', [
      connectionId,
    ]),
    runs: await api().dataSource.query(
      'SELECT * FROM sync_runs WHERE esp_connection_id = $1 ORDER BY id',
      [connectionId],
    ),
    subscribers: await api().dataSource.query(
      'SELECT count(*)::int AS count FROM subscribers WHERE esp_connection_id = $1',
      [connectionId],
    ),
    outbox: await api().dataSource.query('SELECT id FROM outbox_events ORDER BY id'),
  });

  beforeAll(async () => {
    harness = await startEspTestApi();
    alice = await TestUser.signIn(api(), 'alice@example.com', answers);
    mallory = await TestUser.signIn(api(), 'mallory@example.com', answers);
    const created = await alice
      .post('/esp-connections', {
        espType: 'beehiiv',
        apiKey: KEYS.beehiiv,
        publicationId: 'pub_weekly',
      })
      .expect(201);
    connectionId = (created.body as { id: string }).id;
    await alice.post(`/esp-connections/${connectionId}/sync`).expect(202);
    await api().dataSource.query(
      `INSERT INTO subscribers
         (esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status)
       VALUES ($1, 'ext-1', 'v1.k.x.y', 'hmac', 'a***@e***.com', 'active')`,
      [connectionId],
    );
  });

  afterAll(async () => {
    await harness?.close();
  });

  const routes: [string, (user: TestUser, id: string) => ReturnType<TestUser['get']>][] = [
    ['GET /esp-connections/:id', (user, id) => user.get(`/esp-connections/${id}`)],
    [
      'PATCH /esp-connections/:id',
      (user, id) => user.patch(`/esp-connections/${id}`, { apiKey: KEYS.beehiiv }),
    ],
    ['GET /esp-connections/:id/lists', (user, id) => user.get(`/esp-connections/${id}/lists`)],
    [
      'GET /esp-connections/:id/subscriber-count',
      (user, id) => user.get(`/esp-connections/${id}/subscriber-count`),
    ],
    ['POST /esp-connections/:id/sync', (user, id) => user.post(`/esp-connections/${id}/sync`)],
    [
      'GET /esp-connections/:id/sync-history',
      (user, id) => user.get(`/esp-connections/${id}/sync-history`),
    ],
    ['DELETE /esp-connections/:id', (user, id) => user.delete(`/esp-connections/${id}`)],
  ];

  it.each(routes)('%s answers 404 and changes nothing', async (_, call) => {
    const before = await snapshot();
    const requestsBefore = harness.esp.requests.length;
    const response = await call(mallory, connectionId).expect(404);
    expect(response.body).toEqual({
      statusCode: 404,
      message: 'ESP connection not found',
      error: 'Not Found',
    });
    expect(await snapshot()).toEqual(before);
    // Nothing was asked of the ESP with Alice's key either.
    expect(harness.esp.requests.length).toBe(requestsBefore);
  });

  it('lists none of Alice’s connections to Mallory', async () => {
    const response = await mallory.get('/esp-connections').expect(200);
    expect(response.body).toEqual([]);
  });

  it('lets Mallory connect the same publication with her own account, separately', async () => {
    const response = await mallory
      .post('/esp-connections', {
        espType: 'beehiiv',
        apiKey: KEYS.beehiiv,
        publicationId: 'pub_weekly',
      })
      .expect(201);
    expect((response.body as { id: string }).id).not.toBe(connectionId);
    const listed = (await alice.get('/esp-connections').expect(200)).body as { id: string }[];
    expect(listed.map((c) => c.id)).toEqual([connectionId]);
  });

  it('still serves every route to Alice', async () => {
    const statuses: Record<string, number> = {};
    for (const [name, call] of routes) statuses[name] = (await call(alice, connectionId)).status;
    expect(statuses).toEqual({
      'GET /esp-connections/:id': 200,
      'PATCH /esp-connections/:id': 200,
      'GET /esp-connections/:id/lists': 200,
      'GET /esp-connections/:id/subscriber-count': 200,
      'POST /esp-connections/:id/sync': 202,
      'GET /esp-connections/:id/sync-history': 200,
      'DELETE /esp-connections/:id': 200,
    });
    await alice.get(`/esp-connections/${connectionId}`).expect(404);
  });

  it('never answered with an API key', () => {
    for (const text of answers) {
      for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
    }
  });
});
