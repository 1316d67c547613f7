import { Test } from 'supertest';
import { TestUser } from './support/fake-esp-api';
import { insertConnection, insertSubscribers, manySubscribers } from './support/subscriber-factory';
import { startTestApi, TestApi } from './support/test-api';

/**
 * The cross-user matrix for subscribers: every route, called by another signed-in user on
 * Alice's connection or subscriber, answers 404 as if it did not exist, and nothing of Alice's
 * (address, masked address, name, id) reaches Mallory.
 */
describe('subscribers: another user’s connection or subscriber (real app)', () => {
  let api: TestApi;
  let alice: TestUser;
  let mallory: TestUser;
  let connectionId: string;
  let subscriberIds: string[];
  const malloryAnswers: string[] = [];
  const specs = manySubscribers(12, 'private');

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
    alice = await TestUser.signIn(api, 'alice@example.com', []);
    mallory = await TestUser.signIn(api, 'mallory@example.com', malloryAnswers);
    connectionId = await insertConnection(api, alice.id, { publicationName: 'Alice Weekly' });
    subscriberIds = await insertSubscribers(api, connectionId, specs);
    // Mallory has a connection and subscribers of her own.
    const own = await insertConnection(api, mallory.id, { publicationName: 'Mallory' });
    await insertSubscribers(api, own, manySubscribers(3, 'mallory'));
  });

  afterAll(async () => {
    await api?.close();
  });

  const connectionRoutes: [string, (user: TestUser) => Test][] = [
    [
      'GET /esp-connections/:id/subscribers',
      (u) => u.get(`/esp-connections/${connectionId}/subscribers`),
    ],
    [
      'GET /esp-connections/:id/subscribers?status&limit',
      (u) => u.get(`/esp-connections/${connectionId}/subscribers?status=active&limit=100`),
    ],
    [
      'GET /esp-connections/:id/subscriber-stats',
      (u) => u.get(`/esp-connections/${connectionId}/subscriber-stats`),
    ],
    ...(['csv', 'json', 'xlsx'] as const).map((format): [string, (user: TestUser) => Test] => [
      `GET /esp-connections/:id/subscribers/export?format=${format}`,
      (u) => u.get(`/esp-connections/${connectionId}/subscribers/export?format=${format}`),
    ]),
  ];

  it.each(connectionRoutes)('%s answers 404', async (_, call) => {
    const response = await call(mallory).expect(404);
    expect(response.body).toEqual({
      statusCode: 404,
      message: 'ESP connection not found',
      error: 'Not Found',
    });
    expect(response.headers['content-disposition']).toBeUndefined();
  });

  it('POST /subscribers/:id/unmask answers 404 for each of Alice’s subscribers', async () => {
    for (const id of subscriberIds) {
      const response = await mallory.post(`/subscribers/${id}/unmask`).expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        message: 'Subscriber not found',
        error: 'Not Found',
      });
    }
  });

  it('shows Mallory only her own subscribers and totals on the dashboard', async () => {
    const page = (await mallory.get('/dashboard/subscribers?limit=100').expect(200)).body as {
      data: { id: string; espConnectionId: string }[];
      total: number;
    };
    expect(page.total).toBe(3);
    expect(page.data.some((row) => subscriberIds.includes(row.id))).toBe(false);
    expect((await mallory.get('/dashboard/stats').expect(200)).body).toMatchObject({
      totalEspConnections: 1,
      totalSubscribers: 3,
    });
  });

  it('still serves every route to Alice', async () => {
    for (const [name, call] of connectionRoutes) {
      expect([name, (await call(alice)).status]).toEqual([name, 200]);
    }
    await alice.post(`/subscribers/${subscriberIds[0]}/unmask`).expect(200);
  });

  it('never answered Mallory with anything of Alice’s', () => {
    const text = malloryAnswers.join('\n');
    expect(text).not.toContain('private-');
    expect(text).not.toContain('p***@e***.com');
    expect(text).not.toContain('Alice Weekly');
    for (const id of subscriberIds) expect(text).not.toContain(id);
  });
});
