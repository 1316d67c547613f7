import { randomUUID } from 'node:crypto';
import { billingMonthOf } from '@subscribernest/shared';
import { insertConnection } from './support/subscriber-factory';
import { signIn, SignedIn, startTestApi, TestApi } from './support/test-api';

interface UsageBody {
  maxSubscriberCount: number;
  calculatedAmount: number;
  billingPeriodStart: string;
  billingPeriodEnd: string;
}

interface PeriodBody {
  id: string;
  billingPeriodStart: string;
  billingPeriodEnd: string;
  maxSubscriberCount: number;
  calculatedAmount: number;
  status: string;
  stripeInvoiceId: string | null;
}

const day = (date: Date): string => date.toISOString().slice(0, 10);
const DAY_MS = 24 * 60 * 60 * 1000;

describe('billing routes without Stripe (real app, Postgres, Redis)', () => {
  let api: TestApi;
  let alice: SignedIn;
  let bob: SignedIn;

  const get = (token: string, path: string) =>
    api.http().get(path).set('authorization', `Bearer ${token}`);
  const sql = <T>(query: string, parameters: unknown[] = []) =>
    api.dataSource.query<T>(query, parameters);
  const connection = async (userId: string): Promise<string> => {
    const [row] = await sql<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'enc', $2) RETURNING id`,
      [userId, `pub_${randomUUID()}`],
    );
    return row.id;
  };
  /** A connection's count on a day; the same day twice keeps the higher (as a day's peak). */
  const snapshot = (
    userId: string,
    on: string,
    count: number,
    connectionId: string | null = null,
  ) =>
    sql(
      `INSERT INTO subscriber_count_snapshots (user_id, esp_connection_id, day, subscriber_count)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, esp_connection_id, day) DO UPDATE SET subscriber_count =
         greatest(subscriber_count_snapshots.subscriber_count, EXCLUDED.subscriber_count)`,
      [userId, connectionId, on, count],
    );
  const period = async (
    userId: string,
    start: string,
    end: string,
    values: { max: number; cents: number; status?: string; invoice?: string | null },
  ): Promise<string> => {
    const [row] = await sql<{ id: string }[]>(
      `INSERT INTO billing_periods
         (user_id, period_start, period_end, max_subscriber_count, amount_cents, status, stripe_invoice_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        userId,
        start,
        end,
        values.max,
        values.cents,
        values.status ?? 'skipped',
        values.invoice ?? null,
      ],
    );
    return row.id;
  };

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
    alice = await signIn(api, 'alice@example.com');
    bob = await signIn(api, 'bob@example.com');
  });

  afterAll(async () => {
    await api?.close();
  });

  it('answers 401 without a token on every billing route', async () => {
    for (const path of ['/billing/status', '/billing/usage', '/billing/history']) {
      await api.http().get(path).expect(401);
    }
  });

  it('documents the three routes in the OpenAPI document (so the fuzz test covers them)', async () => {
    const document = (await api.http().get('/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const path of ['/billing/status', '/billing/usage', '/billing/history']) {
      expect(Object.keys(document.paths[path] ?? {})).toEqual(['get']);
    }
  });

  describe('the Stripe routes', () => {
    const DISABLED = /^Billing is not enabled on this server/;

    it('are documented, and need a session except the webhook', async () => {
      const document = (await api.http().get('/docs-json').expect(200)).body as {
        paths: Record<string, Record<string, { security?: unknown[] }>>;
      };
      for (const path of [
        '/billing/create-checkout-session',
        '/billing/create-portal-session',
        '/billing/verify-checkout-session',
        '/billing/webhook',
      ]) {
        expect(Object.keys(document.paths[path] ?? {})).toEqual(['post']);
      }
      expect(document.paths['/billing/webhook'].post.security).toEqual([]);
      for (const path of [
        '/billing/create-checkout-session',
        '/billing/create-portal-session',
        '/billing/verify-checkout-session',
      ]) {
        await api.http().post(path).expect(401);
      }
    });

    it('answer 409 while billing is disabled, saying so', async () => {
      const post = (path: string, body?: object) =>
        api.http().post(path).set('authorization', `Bearer ${alice.token}`).send(body);
      for (const response of [
        await post('/billing/create-checkout-session'),
        await post('/billing/create-portal-session'),
        await post('/billing/verify-checkout-session', { sessionId: 'cs_test_a1b2c3' }),
        await api
          .http()
          .post('/billing/webhook')
          .set('content-type', 'application/json')
          .set('stripe-signature', 't=1,v1=00')
          .send('{"id":"evt_1","object":"event"}'),
      ]) {
        expect(response.status).toBe(409);
        expect(response.body.message).toMatch(DISABLED);
      }
      // Input is still checked first.
      await post('/billing/verify-checkout-session', { sessionId: 'nope' }).expect(400);
      expect(await sql(`SELECT * FROM billing_accounts`)).toEqual([]);
      expect(await sql(`SELECT * FROM stripe_webhook_events`)).toEqual([]);
    });

    it('gate nothing while billing is disabled: a manual sync without a subscription is accepted', async () => {
      const connectionId = await insertConnection(api, bob.user.id);
      await api
        .http()
        .post(`/esp-connections/${connectionId}/sync`)
        .set('authorization', `Bearer ${bob.token}`)
        .expect(202);
    });
  });

  describe('GET /billing/status', () => {
    it('counts every user as subscribed while billing is disabled', async () => {
      const response = await get(alice.token, '/billing/status').expect(200);
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.body).toEqual({
        hasActiveSubscription: true,
        subscription: null,
        currentPeriodEnd: null,
        billingEnabled: false,
      });
    });
  });

  describe('GET /billing/usage', () => {
    it('is 0 and $0 for a month without snapshots', async () => {
      const month = billingMonthOf(new Date());
      expect((await get(bob.token, '/billing/usage').expect(200)).body).toEqual({
        maxSubscriberCount: 0,
        calculatedAmount: 0,
        billingPeriodStart: month.start.toISOString(),
        billingPeriodEnd: month.end.toISOString(),
      });
    });

    it("bills the sum of each connection's peak this month, ignoring other months and users", async () => {
      const news = await connection(alice.user.id);
      const digest = await connection(alice.user.id);
      const month = billingMonthOf(new Date());
      const today = day(new Date());
      // The first of the month and today (the same day on the 1st: each keeps its higher count).
      const first = day(month.start);
      await snapshot(alice.user.id, first, 40_000, news);
      await snapshot(alice.user.id, first, 30_000, digest);
      await snapshot(alice.user.id, today, 60_000, news);
      await snapshot(alice.user.id, today, 20_000, digest);
      // Last month and next month (far larger) and bob's snapshot are not this month's usage.
      await snapshot(alice.user.id, day(new Date(month.start.getTime() - DAY_MS)), 900_000);
      await snapshot(alice.user.id, day(month.end), 900_000);
      await snapshot(bob.user.id, today, 5_000_000);

      const usage = (await get(alice.token, '/billing/usage').expect(200)).body as UsageBody;
      expect(usage).toEqual({
        maxSubscriberCount: 60_000 + 30_000,
        calculatedAmount: 13,
        billingPeriodStart: month.start.toISOString(),
        billingPeriodEnd: month.end.toISOString(),
      });
      expect(usage.billingPeriodStart).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);
    });
  });

  describe('GET /billing/history', () => {
    const ids: string[] = [];

    beforeAll(async () => {
      // 15 months of alice's, inserted oldest first but not in order of id.
      for (let i = 0; i < 15; i++) {
        const start = new Date(Date.UTC(2025, i, 1));
        const end = new Date(Date.UTC(2025, i + 1, 1));
        ids.push(
          await period(alice.user.id, day(start), day(end), {
            max: 10_000 + i * 10_000,
            cents: 500 + i * 100,
            status: i === 14 ? 'paid' : 'skipped',
            invoice: i === 14 ? 'in_test_123' : null,
          }),
        );
      }
      await period(bob.user.id, '2026-06-01', '2026-07-01', { max: 1, cents: 500 });
    });

    it('lists the newest 12 by default, newest first, amounts in dollars', async () => {
      const rows = (await get(alice.token, '/billing/history').expect(200)).body as PeriodBody[];
      expect(rows).toHaveLength(12);
      expect(rows.map((row) => row.billingPeriodStart)).toEqual(
        Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2025, 14 - i, 1)).toISOString()),
      );
      expect(rows[0]).toEqual({
        id: ids[14],
        billingPeriodStart: '2026-03-01T00:00:00.000Z',
        billingPeriodEnd: '2026-04-01T00:00:00.000Z',
        maxSubscriberCount: 150_000,
        calculatedAmount: 19,
        status: 'paid',
        stripeInvoiceId: 'in_test_123',
      });
      expect(rows[1]).toMatchObject({ id: ids[13], calculatedAmount: 18, stripeInvoiceId: null });
    });

    it('takes a limit from 1 to 100', async () => {
      expect((await get(alice.token, '/billing/history?limit=1').expect(200)).body).toHaveLength(1);
      expect((await get(alice.token, '/billing/history?limit=100').expect(200)).body).toHaveLength(
        15,
      );
      for (const limit of ['0', '101', '-1', '1.5', 'abc']) {
        const response = await get(alice.token, `/billing/history?limit=${limit}`).expect(400);
        const { message } = response.body as { message: string[] };
        expect(message.join(' ')).toMatch(/^limit /);
      }
    });

    it("never shows another user's periods", async () => {
      const rows = (await get(bob.token, '/billing/history?limit=100').expect(200))
        .body as PeriodBody[];
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ billingPeriodStart: '2026-06-01T00:00:00.000Z' });
      const mine = (await get(alice.token, '/billing/history?limit=100').expect(200))
        .body as PeriodBody[];
      expect(mine.map((row) => row.id).sort()).toEqual([...ids].sort());
    });
  });
});
