import { randomUUID } from 'node:crypto';
import { TestUser } from './support/fake-esp-api';
import {
  insertConnection,
  insertSubscribers,
  manySubscribers,
  SubscriberSpec,
} from './support/subscriber-factory';
import { startTestApi, TestApi } from './support/test-api';

interface Row {
  id: string;
  maskedEmail: string;
  firstName: string | null;
  lastName: string | null;
  status: string;
  subscribedAt: string | null;
  unsubscribedAt: string | null;
}

interface PageBody<R = Row> {
  data: R[];
  total: number;
  page: number | null;
  limit: number;
  totalPages: number;
  nextCursor: string | null;
}

type DashboardRow = Row & { espConnectionId: string; espType: string };

describe('subscribers and dashboard (real app, Postgres, Redis)', () => {
  let api: TestApi;
  let alice: TestUser;
  let bob: TestUser;
  let weekly: string;
  let daily: string;
  let empty: string;
  const weeklySpecs = manySubscribers(157, 'weekly');
  const dailySpecs: SubscriberSpec[] = manySubscribers(23, 'daily');
  let weeklyIds: string[];
  let dailyIds: string[];
  const answers: string[] = [];
  const lastSync = new Date('2025-06-01T12:34:56.000Z');

  const sorted = (ids: string[]) => [...ids].sort();

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
    alice = await TestUser.signIn(api, 'alice@example.com', answers);
    bob = await TestUser.signIn(api, 'bob@example.com', answers);
    weekly = await insertConnection(api, alice.id, {
      espType: 'beehiiv',
      publicationName: 'Weekly',
      lastSyncedAt: new Date('2025-05-01T00:00:00Z'),
    });
    daily = await insertConnection(api, alice.id, {
      espType: 'kit',
      publicationName: 'Daily',
      lastSyncedAt: lastSync,
    });
    empty = await insertConnection(api, alice.id, { espType: 'mailchimp' });
    weeklyIds = await insertSubscribers(api, weekly, weeklySpecs);
    dailyIds = await insertSubscribers(api, daily, dailySpecs);
  });

  afterAll(async () => {
    await api?.close();
  });

  /** Follows nextCursor from the first page to the end; returns every id seen, in order. */
  async function walk(user: TestUser, path: string, query: string): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 1_000; guard++) {
      const url = `${path}?${query}${cursor ? `&cursor=${cursor}` : ''}`;
      const body = (await user.get(url).expect(200)).body as PageBody;
      seen.push(...body.data.map((row) => row.id));
      if (!body.nextCursor) return seen;
      expect(body.data).toHaveLength(body.limit);
      cursor = body.nextCursor;
    }
    throw new Error('cursor walk did not end');
  }

  describe('GET /esp-connections/:id/subscribers', () => {
    it('answers the first page with the defaults, masked addresses only', async () => {
      const body = (await alice.get(`/esp-connections/${weekly}/subscribers`).expect(200))
        .body as PageBody;
      expect(body).toMatchObject({ total: 157, page: 1, limit: 20, totalPages: 8 });
      expect(body.nextCursor).toEqual(expect.any(String));
      expect(body.data.map((row) => row.id)).toEqual(sorted(weeklyIds).slice(0, 20));
      const index = weeklyIds.indexOf(body.data[0].id);
      const spec = weeklySpecs[index];
      expect(body.data[0]).toEqual({
        id: weeklyIds[index],
        maskedEmail: 'w***@e***.com',
        firstName: spec.firstName,
        lastName: spec.lastName,
        status: spec.status,
        subscribedAt: spec.subscribedAt!.toISOString(),
        unsubscribedAt: spec.unsubscribedAt?.toISOString() ?? null,
      });
    });

    it('pages with page and limit', async () => {
      const body = (
        await alice.get(`/esp-connections/${weekly}/subscribers?page=3&limit=7`).expect(200)
      ).body as PageBody;
      expect(body).toMatchObject({ total: 157, page: 3, limit: 7, totalPages: 23 });
      expect(body.data.map((row) => row.id)).toEqual(sorted(weeklyIds).slice(14, 21));

      const last = (
        await alice.get(`/esp-connections/${weekly}/subscribers?page=23&limit=7`).expect(200)
      ).body as PageBody;
      expect(last.data).toHaveLength(157 - 22 * 7);
      expect(last.nextCursor).toBeNull();
      const beyond = (
        await alice.get(`/esp-connections/${weekly}/subscribers?page=99&limit=7`).expect(200)
      ).body as PageBody;
      expect(beyond).toMatchObject({ data: [], total: 157, page: 99, nextCursor: null });
    });

    it('filters by status', async () => {
      const expected = weeklySpecs
        .map((spec, index) => (spec.status === 'bounced' ? weeklyIds[index] : null))
        .filter((id): id is string => id !== null);
      const body = (
        await alice
          .get(`/esp-connections/${weekly}/subscribers?status=bounced&limit=100`)
          .expect(200)
      ).body as PageBody;
      expect(body.total).toBe(expected.length);
      expect(body.data.map((row) => row.id)).toEqual(sorted(expected));
      expect(body.data.every((row) => row.status === 'bounced')).toBe(true);
    });

    it('walks every row exactly once with the keyset cursor', async () => {
      const all = await walk(alice, `/esp-connections/${weekly}/subscribers`, 'limit=13');
      expect(all).toEqual(sorted(weeklyIds));
      expect(new Set(all).size).toBe(157);
    });

    it('walks every row of a status exactly once with the keyset cursor', async () => {
      for (const status of ['active', 'unsubscribed', 'bounced'] as const) {
        const expected = weeklyIds.filter((_, index) => weeklySpecs[index].status === status);
        const seen = await walk(
          alice,
          `/esp-connections/${weekly}/subscribers`,
          `limit=9&status=${status}`,
        );
        expect(seen).toEqual(sorted(expected));
      }
    });

    it('answers a cursor page with page null and the total', async () => {
      const first = (await alice.get(`/esp-connections/${weekly}/subscribers?limit=5`).expect(200))
        .body as PageBody;
      const next = (
        await alice
          .get(`/esp-connections/${weekly}/subscribers?limit=5&cursor=${first.nextCursor}`)
          .expect(200)
      ).body as PageBody;
      expect(next).toMatchObject({ page: null, limit: 5, total: 157, totalPages: 32 });
      expect(next.data.map((row) => row.id)).toEqual(sorted(weeklyIds).slice(5, 10));
    });

    it('answers an empty connection with an empty page', async () => {
      const body = (await alice.get(`/esp-connections/${empty}/subscribers`).expect(200))
        .body as PageBody;
      expect(body).toEqual({
        data: [],
        total: 0,
        page: 1,
        limit: 20,
        totalPages: 0,
        nextCursor: null,
      });
    });

    const dashboardCursor = Buffer.from(JSON.stringify([1, randomUUID(), randomUUID()])).toString(
      'base64url',
    );
    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['page=0', 'page'],
      ['page=1.5', 'page'],
      ['page=-1', 'page'],
      ['status=deleted', 'status'],
      ['cursor=not*a*cursor', 'cursor'],
      ['cursor=bm90LWpzb24', 'cursor'],
      [`cursor=${dashboardCursor}`, 'cursor'],
      ['page=2&cursor=WzEsIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd', 'page'],
      ['sort=email', 'sort'],
    ])('answers 400 for %s, naming %s', async (query, field) => {
      const response = await alice
        .get(`/esp-connections/${weekly}/subscribers?${query}`)
        .expect(400);
      const body = response.body as { fields: Record<string, string[]>; message: string[] };
      expect(Object.keys(body.fields)).toEqual([field]);
      expect(body.message.length).toBeGreaterThan(0);
    });

    it('serves offset pages down to page × limit = 10,000 rows, and points deeper ones to cursor', async () => {
      const deepest = (
        await alice.get(`/esp-connections/${weekly}/subscribers?page=100&limit=100`).expect(200)
      ).body as PageBody;
      expect(deepest).toMatchObject({ data: [], page: 100, total: 157, nextCursor: null });
      for (const query of ['page=101&limit=100', 'page=501', 'page=10001&limit=1']) {
        const body = (
          await alice.get(`/esp-connections/${weekly}/subscribers?${query}`).expect(400)
        ).body as { fields: Record<string, string[]>; message: string[] };
        expect(Object.keys(body.fields)).toEqual(['page']);
        expect(body.message.join(' ')).toMatch(/10000|cursor/);
      }
      const body = (
        await alice.get(`/esp-connections/${weekly}/subscribers?page=101&limit=100`).expect(400)
      ).body as { message: string[] };
      expect(body.message).toEqual([
        'page × limit must be at most 10000 (page 101 × limit 100 is 10100): deeper rows are ' +
          "read with cursor (pass each answer's nextCursor), whose pages cost the same at any depth",
      ]);
    });

    it('names the limits in its messages', async () => {
      const body = (
        await alice.get(`/esp-connections/${weekly}/subscribers?limit=101&status=x`).expect(400)
      ).body as { fields: Record<string, string[]> };
      expect(body.fields.limit).toEqual(['limit must not be greater than 100']);
      expect(body.fields.status).toEqual(['status must be one of: active, unsubscribed, bounced']);
    });

    it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
      await alice.get('/esp-connections/nope/subscribers').expect(400);
      const response = await alice.get(`/esp-connections/${randomUUID()}/subscribers`).expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        message: 'ESP connection not found',
        error: 'Not Found',
      });
    });
  });

  describe('GET /esp-connections/:id/subscriber-stats', () => {
    it('counts the stored subscribers by status', async () => {
      const count = (status: string) => weeklySpecs.filter((spec) => spec.status === status).length;
      const body = (await alice.get(`/esp-connections/${weekly}/subscriber-stats`).expect(200))
        .body;
      expect(body).toEqual({
        active: count('active'),
        unsubscribed: count('unsubscribed'),
        bounced: count('bounced'),
        total: 157,
      });
      expect(count('active') + count('unsubscribed') + count('bounced')).toBe(157);
    });

    it('answers zeros for an empty connection, 400 and 404 otherwise', async () => {
      expect(
        (await alice.get(`/esp-connections/${empty}/subscriber-stats`).expect(200)).body,
      ).toEqual({
        active: 0,
        unsubscribed: 0,
        bounced: 0,
        total: 0,
      });
      await alice.get('/esp-connections/1/subscriber-stats').expect(400);
      await alice.get(`/esp-connections/${randomUUID()}/subscriber-stats`).expect(404);
    });
  });

  describe('POST /subscribers/:id/unmask', () => {
    it('answers the address in clear to its owner', async () => {
      const response = await alice.post(`/subscribers/${dailyIds[4]}/unmask`).expect(200);
      expect(response.body).toEqual({ email: 'daily-4@example.com' });
    });

    it('answers 404 for an unknown subscriber and 400 for a bad id', async () => {
      const response = await alice.post(`/subscribers/${randomUUID()}/unmask`).expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        message: 'Subscriber not found',
        error: 'Not Found',
      });
      await alice.post('/subscribers/abc/unmask').expect(400);
    });
  });

  describe('GET /dashboard/stats', () => {
    it("answers the caller's totals", async () => {
      expect((await alice.get('/dashboard/stats').expect(200)).body).toEqual({
        totalEspConnections: 3,
        totalSubscribers: 157 + 23,
        lastSyncTime: lastSync.toISOString(),
      });
    });

    it('answers zeros to a user with nothing', async () => {
      expect((await bob.get('/dashboard/stats').expect(200)).body).toEqual({
        totalEspConnections: 0,
        totalSubscribers: 0,
        lastSyncTime: null,
      });
    });
  });

  describe('GET /dashboard/subscribers', () => {
    const byConnection = () =>
      [
        ...sorted(weeklyIds).map((id) => [weekly, id]),
        ...sorted(dailyIds).map((id) => [daily, id]),
      ].sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1));

    it('pages across all the caller’s connections, each row with its ESP', async () => {
      const body = (await alice.get('/dashboard/subscribers?page=2&limit=50').expect(200))
        .body as PageBody<DashboardRow>;
      expect(body).toMatchObject({ total: 180, page: 2, limit: 50, totalPages: 4 });
      expect(body.data.map((row) => row.id)).toEqual(
        byConnection()
          .slice(50, 100)
          .map(([, id]) => id),
      );
      for (const row of body.data) {
        expect(row.espType).toBe(row.espConnectionId === weekly ? 'beehiiv' : 'kit');
        expect(Object.keys(row).sort()).toEqual(
          [
            'espConnectionId',
            'espType',
            'firstName',
            'id',
            'lastName',
            'maskedEmail',
            'status',
            'subscribedAt',
            'unsubscribedAt',
          ].sort(),
        );
      }
    });

    it('walks every row exactly once with the keyset cursor, with and without status', async () => {
      const all = await walk(alice, '/dashboard/subscribers', 'limit=17');
      expect(all).toEqual(byConnection().map(([, id]) => id));
      const unsubscribed = await walk(
        alice,
        '/dashboard/subscribers',
        'limit=4&status=unsubscribed',
      );
      const expected = new Set(
        [
          ...weeklySpecs.map((s, i) => [s, weeklyIds[i]] as const),
          ...dailySpecs.map((s, i) => [s, dailyIds[i]] as const),
        ]
          .filter(([spec]) => spec.status === 'unsubscribed')
          .map(([, id]) => id),
      );
      expect(new Set(unsubscribed)).toEqual(expected);
      expect(unsubscribed).toHaveLength(expected.size);
    });

    it('answers an empty page to a user with nothing, and 400 for bad paging', async () => {
      expect((await bob.get('/dashboard/subscribers').expect(200)).body).toEqual({
        data: [],
        total: 0,
        page: 1,
        limit: 20,
        totalPages: 0,
        nextCursor: null,
      });
      await alice.get('/dashboard/subscribers?limit=500').expect(400);
      await alice.get('/dashboard/subscribers?page=0').expect(400);
      await alice.get('/dashboard/subscribers?page=100&limit=100').expect(200);
      const deep = (await alice.get('/dashboard/subscribers?page=101&limit=100').expect(400))
        .body as { fields: Record<string, string[]> };
      expect(deep.fields.page[0]).toMatch(/cursor/);
      const connectionCursor = Buffer.from(JSON.stringify([1, randomUUID()])).toString('base64url');
      await alice.get(`/dashboard/subscribers?cursor=${connectionCursor}`).expect(400);
    });
  });

  it('answers 401 on every route without a valid token', async () => {
    const id = randomUUID();
    const calls = [
      api.http().get(`/esp-connections/${weekly}/subscribers`),
      api.http().get(`/esp-connections/${weekly}/subscriber-stats`),
      api.http().get(`/esp-connections/${weekly}/subscribers/export?format=csv`),
      api.http().post(`/subscribers/${id}/unmask`),
      api.http().get('/dashboard/stats'),
      api.http().get('/dashboard/subscribers'),
      api
        .http()
        .get('/dashboard/stats')
        .set('authorization', `Bearer ${'x'.repeat(43)}`),
    ];
    for (const call of calls) await call.expect(401);
  });

  it('documents every route in the OpenAPI document', async () => {
    const document = (await api.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    const routes: [string, string, string[]][] = [
      ['/esp-connections/{id}/subscribers', 'get', ['200', '400', '401', '404']],
      ['/esp-connections/{id}/subscriber-stats', 'get', ['200', '400', '401', '404']],
      ['/esp-connections/{id}/subscribers/export', 'get', ['200', '400', '401', '404', '429']],
      ['/subscribers/{id}/unmask', 'post', ['200', '400', '401', '404']],
      ['/dashboard/stats', 'get', ['200', '401']],
      ['/dashboard/subscribers', 'get', ['200', '400', '401']],
    ];
    for (const [path, method, statuses] of routes) {
      expect(Object.keys(document.paths[path]?.[method]?.responses ?? {}).sort()).toEqual(statuses);
    }
    for (const schema of [
      'SubscriberPageDto',
      'SubscriberDto',
      'SubscriberStatsDto',
      'UnmaskedEmailDto',
      'DashboardStatsDto',
      'DashboardSubscriberPageDto',
      'DashboardSubscriberDto',
    ]) {
      expect(document.components.schemas).toHaveProperty(schema);
    }
  });

  it('never answered with an address in clear or encrypted, except from unmask', () => {
    for (const text of answers) {
      if (text.startsWith('{"email":')) continue;
      expect(text).not.toMatch(/(weekly|daily)-\d+@example\.com/);
      expect(text).not.toMatch(/v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}\./);
    }
  });
});
