import { randomUUID } from 'node:crypto';
import { EVENT, JobPayloads, QUEUE } from '@subscribernest/shared';
import { testRedisUrl } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { EspTestApi, KEYS, startEspTestApi, TestUser } from './support/fake-esp-api';

interface SyncAccepted {
  jobId: string;
  status: string;
  message: string;
  connection: { id: string; syncStatus: string; status: string };
}

interface OutboxRow {
  id: string;
  event_type: string;
  payload: JobPayloads['sync-requested'];
  published_at: Date | null;
  publish_attempts: number;
  last_error: string | null;
}

describe('manual sync through events (real app, Postgres, Redis and the fake ESP)', () => {
  let harness: EspTestApi;
  let alice: TestUser;
  let syncQueue: Queue;
  const answers: string[] = [];

  const api = () => harness.api;
  const sql = <T>(query: string, parameters: unknown[] = []) =>
    api().dataSource.query<T>(query, parameters);
  const runsOf = (connectionId: string) =>
    sql<{ id: string; status: string; trigger: string; user_id: string }[]>(
      'SELECT id, status, trigger, user_id FROM sync_runs WHERE esp_connection_id = $1',
      [connectionId],
    );
  const outboxOf = (connectionId: string) =>
    sql<OutboxRow[]>(
      `SELECT * FROM outbox_events WHERE payload->>'espConnectionId' = $1 ORDER BY created_at`,
      [connectionId],
    );
  const connect = async (publicationId: string): Promise<string> => {
    const response = await alice
      .post('/esp-connections', { espType: 'beehiiv', apiKey: KEYS.beehiiv, publicationId })
      .expect(201);
    return (response.body as { id: string }).id;
  };
  const trigger = async (connectionId: string): Promise<SyncAccepted> =>
    (await alice.post(`/esp-connections/${connectionId}/sync`).expect(202)).body as SyncAccepted;

  beforeAll(async () => {
    harness = await startEspTestApi();
    alice = await TestUser.signIn(api(), 'alice@example.com', answers);
    syncQueue = new Queue(QUEUE.subscriberSync, {
      connection: { url: testRedisUrl() },
      prefix: api().env.QUEUE_PREFIX,
    });
  });

  afterAll(async () => {
    await syncQueue?.close();
    await harness?.close();
  });

  describe('POST /esp-connections/:id/sync', () => {
    let connectionId: string;
    let first: SyncAccepted;

    beforeAll(async () => {
      connectionId = await connect('pub_weekly');
    });

    it('answers 202 with the queued run and the connection, now syncing', async () => {
      first = await trigger(connectionId);
      expect(first).toEqual({
        jobId: expect.any(String),
        status: 'queued',
        message: 'Sync queued',
        connection: expect.objectContaining({
          id: connectionId,
          status: 'active',
          syncStatus: 'syncing',
        }),
      });
    });

    it('wrote exactly one sync run and one outbox event, and published the event', async () => {
      expect(await runsOf(connectionId)).toEqual([
        { id: first.jobId, status: 'queued', trigger: 'manual', user_id: alice.id },
      ]);
      const [{ syncStatus }] = await sql<{ syncStatus: string }[]>(
        'SELECT sync_status AS "syncStatus" FROM esp_connections WHERE id = $1',
        [connectionId],
      );
      expect(syncStatus).toBe('syncing');

      const events = await outboxOf(connectionId);
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event).toMatchObject({
        event_type: EVENT.syncRequested,
        publish_attempts: 1,
        last_error: null,
      });
      expect(event.published_at).toBeInstanceOf(Date);
      expect(event.payload).toEqual({
        eventId: event.id,
        espConnectionId: connectionId,
        userId: alice.id,
        syncRunId: first.jobId,
        requestedAt: expect.any(String),
        // The request's id: the worker logs every line of this sync with it.
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        // Its W3C trace context (no trusted proxy here: a new trace), ids only.
        traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/),
      });

      const job = await api().domainEventsQueue.getJob(event.id);
      expect(job?.name).toBe(EVENT.syncRequested);
      expect(job?.id).toBe(event.id);
      expect(job?.data).toEqual(event.payload);
      expect(job?.opts.attempts).toBe(10);
    });

    it('never adds a sync job itself', async () => {
      const counts = await syncQueue.getJobCounts();
      expect(Object.values(counts).every((count) => count === 0)).toBe(true);
      expect(await syncQueue.getJob(first.jobId)).toBeUndefined();
    });

    it('answers a second trigger while queued with the same run, writing nothing', async () => {
      const again = await trigger(connectionId);
      expect(again).toMatchObject({
        jobId: first.jobId,
        status: 'queued',
        message: 'A sync of this connection is already queued',
      });
      expect(await runsOf(connectionId)).toHaveLength(1);
      expect(await outboxOf(connectionId)).toHaveLength(1);
      expect(await api().domainEventsQueue.getWaitingCount()).toBe(1);
    });

    it('answers with the running run while it runs', async () => {
      await sql(`UPDATE sync_runs SET status = 'running', started_at = now() WHERE id = $1`, [
        first.jobId,
      ]);
      const again = await trigger(connectionId);
      expect(again).toMatchObject({
        jobId: first.jobId,
        status: 'running',
        message: 'A sync of this connection is already running',
      });
      expect(await runsOf(connectionId)).toHaveLength(1);
    });

    it('starts a new run once the previous one finished', async () => {
      await sql(`UPDATE sync_runs SET status = 'success', completed_at = now() WHERE id = $1`, [
        first.jobId,
      ]);
      await sql(`UPDATE esp_connections SET sync_status = 'synced' WHERE id = $1`, [connectionId]);
      const next = await trigger(connectionId);
      expect(next.jobId).not.toBe(first.jobId);
      expect(next.status).toBe('queued');
      expect(next.connection.syncStatus).toBe('syncing');
      expect(await runsOf(connectionId)).toHaveLength(2);
      const events = await outboxOf(connectionId);
      expect(events).toHaveLength(2);
      expect(events[1].payload.syncRunId).toBe(next.jobId);
      expect(await api().domainEventsQueue.getJob(events[1].id)).toBeDefined();
    });

    it('accepts one run only when triggers race', async () => {
      const racing = await connect('pub_daily');
      const answersToRace = await Promise.all(Array.from({ length: 8 }, () => trigger(racing)));
      const ids = new Set(answersToRace.map((answer) => answer.jobId));
      expect(ids.size).toBe(1);
      expect(answersToRace.filter((answer) => answer.message === 'Sync queued')).toHaveLength(1);
      expect(await runsOf(racing)).toHaveLength(1);
      expect(await outboxOf(racing)).toHaveLength(1);
    });

    it('answers 409 for a connection whose key the ESP rejected', async () => {
      const invalid = await connect('pub_faulty');
      await sql(`UPDATE esp_connections SET status = 'invalid' WHERE id = $1`, [invalid]);
      const response = await alice.post(`/esp-connections/${invalid}/sync`).expect(409);
      expect(response.body).toEqual({
        statusCode: 409,
        message:
          "beehiiv rejected this connection's API key; save a new key " +
          '(PATCH /esp-connections/:id) before syncing',
        error: 'Conflict',
      });
      expect(await runsOf(invalid)).toEqual([]);
      expect(await outboxOf(invalid)).toEqual([]);
    });

    it('answers 400 for a non-UUID id, 404 for an unknown one, 401 without a session', async () => {
      await alice.post('/esp-connections/abc/sync').expect(400);
      await alice.post(`/esp-connections/${randomUUID()}/sync`).expect(404);
      await api().http().post(`/esp-connections/${connectionId}/sync`).expect(401);
    });
  });

  describe('GET /esp-connections/:id/sync-history', () => {
    let connectionId: string;
    const createdIds: string[] = [];

    beforeAll(async () => {
      const response = await alice
        .post('/esp-connections', { espType: 'kit', apiKey: KEYS.kit })
        .expect(201);
      connectionId = (response.body as { id: string }).id;
      // 25 finished runs, one a minute, the newest last; then one queued through the route.
      for (let i = 0; i < 25; i++) {
        const [{ id }] = await sql<{ id: string }[]>(
          `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status, subscriber_count,
             error_message, started_at, completed_at, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, now() - make_interval(mins => $7),
                   now() - make_interval(mins => $7) + interval '10 seconds',
                   now() - make_interval(mins => $7))
           RETURNING id`,
          [
            connectionId,
            alice.id,
            i % 2 ? 'manual' : 'scheduled',
            i % 5 === 0 ? 'failed' : 'success',
            i % 5 === 0 ? null : 40 + i,
            i % 5 === 0 ? 'Kit answered with an error' : null,
            100 - i,
          ],
        );
        createdIds.push(id);
      }
      createdIds.push((await trigger(connectionId)).jobId);
    });

    it('answers the 20 newest runs, newest first, in the frontend’s shape', async () => {
      const response = await alice.get(`/esp-connections/${connectionId}/sync-history`).expect(200);
      const runs = response.body as Record<string, unknown>[];
      expect(runs).toHaveLength(20);
      expect(runs.map((run) => run.id)).toEqual([...createdIds].reverse().slice(0, 20));
      expect(runs[0]).toEqual({
        id: createdIds[25],
        espConnectionId: connectionId,
        status: 'queued',
        trigger: 'manual',
        // Planned when the run starts.
        mode: null,
        startedAt: null,
        completedAt: null,
        subscriberCount: null,
        errorMessage: null,
        skippedRows: 0,
        skipReasons: {},
        correlationId: expect.any(String),
        createdAt: expect.any(String),
      });
      expect(runs[1]).toMatchObject({
        id: createdIds[24],
        status: 'success',
        trigger: 'scheduled',
        subscriberCount: 64,
        errorMessage: null,
      });
      expect(runs[5]).toMatchObject({
        status: 'failed',
        subscriberCount: null,
        errorMessage: 'Kit answered with an error',
      });
      for (const run of runs) {
        expect(['queued', 'running', 'success', 'failed']).toContain(run.status);
      }
    });

    it('honours limit (1..100) and rejects anything else with 400', async () => {
      const five = await alice
        .get(`/esp-connections/${connectionId}/sync-history?limit=5`)
        .expect(200);
      expect((five.body as unknown[]).length).toBe(5);
      const all = await alice
        .get(`/esp-connections/${connectionId}/sync-history?limit=100`)
        .expect(200);
      expect((all.body as unknown[]).length).toBe(26);
      for (const bad of ['0', '101', '-1', '2.5', 'abc', '']) {
        const response = await alice
          .get(`/esp-connections/${connectionId}/sync-history?limit=${bad}`)
          .expect(400);
        expect(Object.keys(response.body.fields as object)).toEqual(['limit']);
      }
      await alice.get(`/esp-connections/${connectionId}/sync-history?page=2`).expect(400);
    });

    it('answers [] for a connection never synced', async () => {
      const fresh = await alice
        .post('/esp-connections', {
          espType: 'mailchimp',
          apiKey: KEYS.mailchimp,
          publicationId: 'list_main',
        })
        .expect(201);
      const response = await alice
        .get(`/esp-connections/${(fresh.body as { id: string }).id}/sync-history`)
        .expect(200);
      expect(response.body).toEqual([]);
    });

    it('answers 400 for a non-UUID id, 404 for an unknown one, 401 without a session', async () => {
      await alice.get('/esp-connections/x/sync-history').expect(400);
      await alice.get(`/esp-connections/${randomUUID()}/sync-history`).expect(404);
      await api().http().get(`/esp-connections/${connectionId}/sync-history`).expect(401);
    });
  });

  it('never answered with an API key', () => {
    for (const text of answers) {
      for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
    }
  });
});
