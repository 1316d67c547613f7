import { randomUUID } from 'node:crypto';
import { signIn, SignedIn, startTestApi, TestApi } from './support/test-api';

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Mutating routes that stay open while an account waits for deletion (or need no session). */
const OPEN_DURING_DELETION = new Set([
  'post /auth/send-code',
  'post /auth/verify-code',
  'post /auth/logout',
  'post /auth/logout-all',
  'post /account/delete',
  'post /account/delete/cancel',
  'post /subscribers/:id/unmask',
  'delete /esp-connections/:id',
  // Stripe's (public, signed): an account's billing events apply whatever the account's state.
  'post /billing/webhook',
]);

describe('account deletion (real app, Postgres, Redis)', () => {
  let api: TestApi;

  const as = (token: string) => ({
    get: (path: string) => api.http().get(path).set('authorization', `Bearer ${token}`),
    post: (path: string) => api.http().post(path).set('authorization', `Bearer ${token}`),
  });
  const deleteRequestedAt = async (userId: string): Promise<Date | null> => {
    const [row] = await api.dataSource.query<{ delete_requested_at: Date | null }[]>(
      'SELECT delete_requested_at FROM users WHERE id = $1',
      [userId],
    );
    return row.delete_requested_at;
  };

  /** Every mutating route the app serves, `:params` filled with fresh UUIDs. */
  const mutatingRoutes = (): { method: string; path: string; key: string }[] => {
    const router = (api.app.getHttpAdapter().getInstance() as { router: { stack: RouterLayer[] } })
      .router;
    return router.stack
      .filter((layer) => layer.route && !/^\/docs|\*/.test(layer.route.path))
      .flatMap((layer) =>
        Object.keys(layer.route!.methods).map((method) => ({
          method,
          path: layer.route!.path.replace(/:\w+/g, () => randomUUID()),
          key: `${method} ${layer.route!.path}`,
        })),
      )
      .filter(
        ({ method, key }) =>
          !['get', 'head', 'options', '_all'].includes(method) && !OPEN_DURING_DELETION.has(key),
      );
  };

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
      env: { ACCOUNT_DELETION_GRACE_DAYS: '14' },
    });
  });

  afterAll(async () => {
    await api?.close();
  });

  describe('POST /account/delete', () => {
    let dora: SignedIn;
    let first: { message: string; deletionScheduledFor: string };

    beforeAll(async () => {
      dora = await signIn(api, 'dora@example.com');
    });

    it('needs a session', async () => {
      await api.http().post('/account/delete').expect(401);
      await api.http().post('/account/delete/cancel').expect(401);
    });

    it('records the request and answers when deletion will happen (grace period from config)', async () => {
      const before = Date.now();
      const response = await as(dora.token).post('/account/delete').expect(200);
      first = response.body as typeof first;
      expect(Object.keys(first).sort()).toEqual(['deletionScheduledFor', 'message']);
      const requestedAt = await deleteRequestedAt(dora.user.id);
      expect(requestedAt).toBeInstanceOf(Date);
      expect(requestedAt!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(new Date(first.deletionScheduledFor).getTime()).toBe(
        requestedAt!.getTime() + 14 * DAY_MS,
      );
      expect(first.message).toContain(first.deletionScheduledFor);

      const me = await as(dora.token).get('/auth/me').expect(200);
      expect(me.body.user.deleteRequestedAt).toBe(requestedAt!.toISOString());
    });

    it('revokes every other session of the user at once; this one stays', async () => {
      const hal = await signIn(api, 'hal@example.com');
      const phone = await signIn(api, 'hal@example.com');
      const laptop = await signIn(api, 'hal@example.com');
      const ivy = await signIn(api, 'ivy@example.com');
      await as(hal.token).post('/account/delete').expect(200);
      await as(hal.token).get('/auth/me').expect(200);
      await as(phone.token).get('/auth/me').expect(401);
      await as(laptop.token).get('/auth/me').expect(401);
      await as(ivy.token).get('/auth/me').expect(200);
      const [{ live }] = await api.dataSource.query<{ live: number }[]>(
        'SELECT count(*)::int AS live FROM sessions WHERE user_id = $1 AND revoked_at IS NULL',
        [hal.user.id],
      );
      expect(live).toBe(1);
    });

    it('is idempotent: asking again keeps the first date', async () => {
      const requestedAt = await deleteRequestedAt(dora.user.id);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const again = await as(dora.token).post('/account/delete').expect(200);
      expect(again.body).toEqual(first);
      expect(await deleteRequestedAt(dora.user.id)).toEqual(requestedAt);
    });
  });

  describe('during the grace period', () => {
    let erin: SignedIn;

    beforeAll(async () => {
      erin = await signIn(api, 'erin@example.com');
      // An admin, so admin routes reach the deletion check instead of stopping at the role check.
      await api.dataSource.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [erin.user.id]);
      await as(erin.token).post('/account/delete').expect(200);
    });

    it('answers 403 with a clear message on every mutating route but the allowed ones', async () => {
      const routes = mutatingRoutes();
      expect(routes.map((route) => route.key)).toEqual(
        expect.arrayContaining([
          'post /auth/complete-onboarding',
          'post /esp-connections',
          'patch /esp-connections/:id',
          'post /esp-connections/:id/sync',
          'post /admin/dead-letter/:id/retry',
          'post /admin/schedulers/:name/run',
          'post /admin/queues/session',
        ]),
      );
      for (const { method, path } of routes) {
        const response = await api
          .http()
          [method as 'post' | 'patch' | 'delete'](path)
          .set('authorization', `Bearer ${erin.token}`)
          .send({});
        expect({ route: `${method} ${path}`, status: response.status }).toEqual({
          route: `${method} ${path}`,
          status: 403,
        });
        expect(response.body.message).toMatch(
          /scheduled for deletion on .*POST \/account\/delete\/cancel/,
        );
      }
    });

    it('still allows reads and asking again', async () => {
      await as(erin.token).get('/auth/me').expect(200);
      await as(erin.token).get('/esp-connections').expect(200);
      await as(erin.token).get(`/jobs/${randomUUID()}`).expect(404);
      await as(erin.token).get('/admin/dead-letter').expect(200);
      await as(erin.token).post('/account/delete').expect(200);
    });

    it('refuses to cancel once the worker has begun deleting, keeping the request', async () => {
      const fay = await signIn(api, 'fay@example.com');
      await as(fay.token).post('/account/delete').expect(200);
      const requestedAt = await deleteRequestedAt(fay.user.id);
      await api.dataSource.query(`UPDATE users SET deletion_started_at = now() WHERE id = $1`, [
        fay.user.id,
      ]);
      const refused = await as(fay.token).post('/account/delete/cancel').expect(409);
      expect(refused.body.message).toBe(
        'The deletion of this account is already under way and can no longer be cancelled',
      );
      expect(await deleteRequestedAt(fay.user.id)).toEqual(requestedAt);
    });

    it('allows cancelling, which withdraws the request and reopens every route', async () => {
      await as(erin.token).post('/auth/complete-onboarding').expect(403);
      const cancelled = await as(erin.token).post('/account/delete/cancel').expect(200);
      expect(cancelled.body).toEqual({
        success: true,
        message: 'Account deletion cancelled',
        user: {
          id: erin.user.id,
          email: 'erin@example.com',
          isOnboarded: false,
          deleteRequestedAt: null,
        },
      });
      expect(await deleteRequestedAt(erin.user.id)).toBeNull();
      await as(erin.token).post('/auth/complete-onboarding').expect(200);

      const again = await as(erin.token).post('/account/delete/cancel').expect(200);
      expect(again.body).toMatchObject({ success: true, message: 'No deletion was pending' });
    });

    it('lets the owner delete their own connections (and only theirs)', async () => {
      const gil = await signIn(api, 'gil@example.com');
      const insert = (userId: string) =>
        api.dataSource.query<{ id: string }[]>(
          `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
           VALUES ($1, 'beehiiv', 'v1.test.not-a-key', 'pub-1') RETURNING id`,
          [userId],
        );
      const [own] = await insert(erin.user.id);
      const [others] = await insert(gil.user.id);
      const remove = (id: string) =>
        api.http().delete(`/esp-connections/${id}`).set('authorization', `Bearer ${erin.token}`);
      await remove(others.id).expect(404);
      await remove(own.id).expect(200, { success: true });
      const left = await api.dataSource.query<{ id: string }[]>(
        'SELECT id FROM esp_connections WHERE id = ANY($1)',
        [[own.id, others.id]],
      );
      expect(left).toEqual([{ id: others.id }]);
    });

    it('allows signing out, here or everywhere', async () => {
      await as(erin.token).post('/account/delete').expect(200);
      const elsewhere = await signIn(api, 'erin@example.com');
      await as(erin.token).post('/auth/logout').expect(200);
      await as(erin.token).get('/auth/me').expect(401);
      await as(elsewhere.token).post('/auth/logout-all').expect(200);
      await as(elsewhere.token).get('/auth/me').expect(401);
    });

    it('lets a user with a pending deletion sign in again and cancel', async () => {
      const again = await signIn(api, 'erin@example.com');
      expect(again.user.deleteRequestedAt).not.toBeNull();
      await as(again.token).post('/account/delete/cancel').expect(200);
    });
  });

  it('leaves other users alone', async () => {
    const fay = await signIn(api, 'fay@example.com');
    const gus = await signIn(api, 'gus@example.com');
    await as(fay.token).post('/account/delete').expect(200);
    expect(await deleteRequestedAt(gus.user.id)).toBeNull();
    await as(gus.token).post('/auth/complete-onboarding').expect(200);
  });
});
