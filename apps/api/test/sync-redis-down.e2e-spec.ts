import { EVENT, OutboxRelayService, QUEUE } from '@subscribernest/shared';
import { freePort, testRedisUrl } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { LoginCodeService } from '../src/auth/login-code.service';
import { EspTestApi, KEYS, startEspTestApi } from './support/fake-esp-api';
import { waitingLoginCode } from './support/login-code-row';
import { TcpProxy } from './support/tcp-proxy';

interface OutboxRow {
  id: string;
  event_type: string;
  payload: Record<string, unknown>;
  published_at: Date | null;
  publish_attempts: number;
  last_error: string | null;
}

/**
 * The app's Redis sits behind a proxy that is down: a sync request is still accepted (202), its
 * run and outbox event are committed, and the event stays unpublished for the worker's sweeper,
 * which publishes it with the same relay once Redis is back.
 */
describe('manual sync with Redis unavailable (real app)', () => {
  let harness: EspTestApi;
  let redis: TcpProxy;
  let token: string;
  /** The test's own reader of `domain-events`, on the real Redis (the app's goes via the proxy). */
  let domainEvents: Queue;

  const api = () => harness.api;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    // Read before the app's env (REDIS_URL = the proxy) lands in process.env.
    const realUrl = testRedisUrl();
    const real = new URL(realUrl);
    redis = new TcpProxy(await freePort(), {
      host: real.hostname,
      port: Number(real.port || 6379),
    });
    harness = await startEspTestApi({
      redisUrl: `redis://127.0.0.1:${redis.port}${real.pathname}`,
    });
    domainEvents = new Queue(QUEUE.domainEvents, {
      connection: { url: realUrl },
      prefix: api().env.QUEUE_PREFIX,
    });
    // send-code needs Redis (the email queue): take a code straight from the service instead.
    const email = 'no-redis@example.com';
    const issued = await api().app.get(LoginCodeService).issue(email, null);
    const code = await waitingLoginCode(api().dataSource, api().encryption, issued.id);
    const signedIn = await api().http().post('/auth/verify-code').send({ email, code }).expect(200);
    token = (signedIn.body as { token: string }).token;
  });

  afterAll(async () => {
    await domainEvents?.close();
    await harness?.close();
    await redis?.stop();
    // ioredis keeps a 2 s safety timer after disconnecting a client that was reconnecting.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  });

  it('accepts the sync (202) and keeps the outbox event unpublished', async () => {
    const created = await api()
      .http()
      .post('/esp-connections')
      .set(auth())
      .send({ espType: 'kit', apiKey: KEYS.kit })
      .expect(201);
    const connectionId = (created.body as { id: string }).id;

    const started = Date.now();
    const response = await api()
      .http()
      .post(`/esp-connections/${connectionId}/sync`)
      .set(auth())
      .expect(202);
    expect(Date.now() - started).toBeLessThan(10_000);
    const { jobId, status } = response.body as { jobId: string; status: string };
    expect(status).toBe('queued');

    const runs = await api().dataSource.query(
      'SELECT id, status FROM sync_runs WHERE esp_connection_id = $1',
      [connectionId],
    );
    expect(runs).toEqual([{ id: jobId, status: 'queued' }]);
    const events = await api().dataSource.query<OutboxRow[]>('SELECT * FROM outbox_events');
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({
      event_type: EVENT.syncRequested,
      published_at: null,
      publish_attempts: 1,
      last_error: expect.stringMatching(/Redis|took longer/),
    });
    expect(event.payload).toMatchObject({ syncRunId: jobId, espConnectionId: connectionId });
    expect(await domainEvents.getJob(event.id)).toBeUndefined();

    // A second trigger meanwhile is the same run, still one event.
    const again = await api()
      .http()
      .post(`/esp-connections/${connectionId}/sync`)
      .set(auth())
      .expect(202);
    expect((again.body as { jobId: string }).jobId).toBe(jobId);
    expect(await api().dataSource.query('SELECT id FROM outbox_events')).toHaveLength(1);
  });

  it('publishes the pending event once Redis is back, as the sweeper will', async () => {
    await redis.start();
    const [pending] = await api().dataSource.query<OutboxRow[]>(
      'SELECT * FROM outbox_events WHERE published_at IS NULL',
    );
    const relay = api().app.get(OutboxRelayService);
    let published = false;
    for (let attempt = 0; attempt < 30 && !published; attempt++) {
      published = await relay.publish({
        id: pending.id,
        eventType: pending.event_type,
        payload: pending.payload,
      });
    }
    expect(published).toBe(true);

    const job = await domainEvents.getJob(pending.id);
    expect(job?.name).toBe(EVENT.syncRequested);
    expect(job?.data).toEqual(pending.payload);
    const [row] = await api().dataSource.query<OutboxRow[]>(
      'SELECT * FROM outbox_events WHERE id = $1',
      [pending.id],
    );
    expect(row.published_at).toBeInstanceOf(Date);
    expect(row.last_error).toBeNull();

    // Publishing again (the sweeper racing the fast path) adds no second job.
    expect(
      await relay.publish({
        id: pending.id,
        eventType: pending.event_type,
        payload: pending.payload,
      }),
    ).toBe(true);
    expect(await domainEvents.getJobCountByTypes('waiting', 'paused')).toBe(1);
  });
});
