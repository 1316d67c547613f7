import { randomUUID } from 'node:crypto';
import { createTestDatabase, TestDatabase } from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../database/data-source-options';
import { runMigrations } from '../database/run-migrations';
import { SyncRequestedEvent } from '../events/sync-requested.event';
import { SubscriberRow } from './subscriber-page';
import { PassLostError, SeenSetLostError, SyncPass, SyncRunLifecycle } from './sync-run-lifecycle';

function rows(from: number, count: number): SubscriberRow[] {
  return Array.from({ length: count }, (_, i) => ({
    externalId: `sub-${from + i}`,
    emailEncrypted: `enc-${from + i}`,
    emailHmac: `hmac-${from + i}`,
    emailMasked: 's***@example.com',
    status: 'active' as const,
    firstName: null,
    lastName: null,
    subscribedAt: null,
    unsubscribedAt: null,
    metadata: {},
  }));
}

function checkpoint(runId: string, pagesDone: number, cursor: string | null) {
  return {
    syncRunId: runId,
    cursor,
    pagesDone,
    subscribersSeen: pagesDone * 100,
    updatedAt: new Date().toISOString(),
  };
}

describe('SyncRunLifecycle (real Postgres)', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let lifecycle: SyncRunLifecycle;
  // A pool big enough for the concurrency test's 30 requests next to a running pass.
  const POOL = 40;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    dataSource = await new DataSource({
      ...dataSourceOptions(database.url),
      extra: { max: POOL },
    }).initialize();
    lifecycle = new SyncRunLifecycle(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  async function connection(): Promise<{ userId: string; connectionId: string }> {
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`${randomUUID()}@example.com`],
    );
    const [row] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'enc', $2) RETURNING id`,
      [user.id, `pub_${randomUUID()}`],
    );
    return { userId: user.id, connectionId: row.id };
  }

  function event(userId: string, connectionId: string): SyncRequestedEvent {
    return new SyncRequestedEvent({
      eventId: randomUUID(),
      espConnectionId: connectionId,
      userId,
      syncRunId: randomUUID(),
      requestedAt: new Date().toISOString(),
    });
  }

  async function started(runId: string, connectionId: string): Promise<SyncPass> {
    const start = await lifecycle.startPass(runId, connectionId);
    if (start.kind !== 'started') throw new Error(`pass not started: ${start.status}`);
    return start.pass;
  }

  async function stored(connectionId: string): Promise<number> {
    const [{ count }] = await dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    return count;
  }

  async function state(runId: string, connectionId: string) {
    const [row] = await dataSource.query<
      { status: string; error_message: string | null; sync_status: string; conn: string }[]
    >(
      `SELECT r.status, r.error_message, c.sync_status, c.status AS conn
         FROM sync_runs r JOIN esp_connections c ON c.id = r.esp_connection_id
        WHERE r.id = $1 AND c.id = $2`,
      [runId, connectionId],
    );
    return row;
  }

  it('a newer pass of the same run fences the older one out: it can neither write nor finish', async () => {
    const { userId, connectionId } = await connection();
    const created = await lifecycle.createManual(userId, connectionId, event(userId, connectionId));
    if (created.kind !== 'created') throw new Error(created.kind);
    const runId = created.run.id;

    const older = await started(runId, connectionId);
    for (let page = 0; page < 10; page++) {
      await lifecycle.storePage(
        older,
        rows(page * 100, 100),
        checkpoint(runId, page + 1, `c${page}`),
      );
    }
    // BullMQ hands the job to another slot: the new pass resumes from the older one's checkpoint.
    const newer = await started(runId, connectionId);
    expect(newer.number).toBe(older.number + 1);
    expect(newer.checkpoint).toMatchObject({ pagesDone: 10, cursor: 'c9' });

    await expect(
      lifecycle.storePage(older, rows(1_000, 100), checkpoint(runId, 11, 'x')),
    ).rejects.toBeInstanceOf(PassLostError);
    for (let page = 10; page < 50; page++) {
      const last = page === 49;
      await lifecycle.storePage(
        newer,
        rows(page * 100, 100),
        checkpoint(runId, page + 1, last ? null : `c${page}`),
      );
    }
    await expect(lifecycle.finish(older)).rejects.toBeInstanceOf(PassLostError);
    await expect(lifecycle.finish(newer)).resolves.toMatchObject({
      subscriberCount: 5_000,
      removed: 0,
    });
    expect(await stored(connectionId)).toBe(5_000);
    expect(await state(runId, connectionId)).toMatchObject({
      status: 'success',
      sync_status: 'synced',
    });
  });

  it('refuses to remove ghosts unless the stored checkpoint reached the end of the list', async () => {
    const { userId, connectionId } = await connection();
    const created = await lifecycle.createManual(userId, connectionId, event(userId, connectionId));
    if (created.kind !== 'created') throw new Error(created.kind);
    const pass = await started(created.run.id, connectionId);
    await lifecycle.storePage(pass, rows(0, 100), checkpoint(created.run.id, 1, 'more'));
    await expect(lifecycle.finish(pass)).rejects.toThrow(/not at the end of the list/);
    expect((await state(created.run.id, connectionId)).status).toBe('running');
  });

  it('30 sync requests racing a running pass: no deadlock, all answered with the running run, no page lost', async () => {
    const { userId, connectionId } = await connection();
    const created = await lifecycle.createManual(userId, connectionId, event(userId, connectionId));
    if (created.kind !== 'created') throw new Error(created.kind);
    const runId = created.run.id;
    const pass = await started(runId, connectionId);

    let writing = true;
    const pages = (async () => {
      let page = 0;
      while (writing) {
        await lifecycle.storePage(
          pass,
          rows(page * 50, 50),
          checkpoint(runId, page + 1, `c${page}`),
        );
        page += 1;
      }
      return page;
    })();
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () =>
        lifecycle.createManual(userId, connectionId, event(userId, connectionId)),
      ),
    );
    writing = false;
    const written = await pages;

    expect(outcomes.map((outcome) => outcome.kind)).toEqual(Array(30).fill('existing'));
    expect(written).toBeGreaterThan(0);
    expect(await stored(connectionId)).toBe(written * 50);
    expect((await state(runId, connectionId)).status).toBe('running');
  });

  it('concurrent first requests on an idle connection make exactly one run and one outbox event', async () => {
    const { userId, connectionId } = await connection();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        lifecycle.createManual(userId, connectionId, event(userId, connectionId)),
      ),
    );
    const kinds = outcomes.map((outcome) => outcome.kind).sort();
    expect(kinds.filter((kind) => kind === 'created')).toHaveLength(1);
    expect(kinds.filter((kind) => kind !== 'created' && kind !== 'existing')).toEqual([]);
    const [{ events }] = await dataSource.query<{ events: number }[]>(
      `SELECT count(*)::int AS events FROM outbox_events WHERE payload->>'espConnectionId' = $1`,
      [connectionId],
    );
    expect(events).toBe(1);
  });

  it('a failed run reset for retry resumes from its checkpoint; a deleted connection refuses it', async () => {
    const { userId, connectionId } = await connection();
    const created = await lifecycle.createManual(userId, connectionId, event(userId, connectionId));
    if (created.kind !== 'created') throw new Error(created.kind);
    const runId = created.run.id;
    const pass = await started(runId, connectionId);
    await lifecycle.storePage(pass, rows(0, 100), checkpoint(runId, 1, 'c0'));
    expect(await lifecycle.failPass(pass, { reason: 'ESP down' })).toBe(true);
    expect(await state(runId, connectionId)).toMatchObject({
      status: 'failed',
      error_message: 'ESP down',
      sync_status: 'error',
    });

    await expect(lifecycle.resetForRetry(runId)).resolves.toMatchObject({ kind: 'reset' });
    expect(await state(runId, connectionId)).toMatchObject({
      status: 'queued',
      sync_status: 'syncing',
    });
    expect(await lifecycle.resetForRetry(runId)).toEqual({ kind: 'not-failed', status: 'queued' });
    const resumed = await started(runId, connectionId);
    expect(resumed.checkpoint).toMatchObject({ pagesDone: 1, cursor: 'c0' });

    // Deleting the connection fails its running run; the pass stops at its next write.
    expect(await lifecycle.disconnect(userId, connectionId)).toBe(true);
    await expect(
      lifecycle.storePage(resumed, rows(100, 100), checkpoint(runId, 2, 'c1')),
    ).rejects.toBeInstanceOf(PassLostError);
    expect(await lifecycle.resetForRetry(runId)).toEqual({
      kind: 'connection-unavailable',
      status: 'disconnected',
    });
  });

  async function seenSet(runId: string): Promise<{ skipped: boolean; kept: number }> {
    const [row] = await dataSource.query<{ skipped: boolean; kept: number }[]>(
      `SELECT seen_set_skipped AS skipped,
              (SELECT COALESCE(sum(id_count), 0)::int FROM sync_seen_batches
                WHERE sync_run_id = $1) AS kept
         FROM sync_runs WHERE id = $1`,
      [runId],
    );
    return row;
  }

  async function newRun(userId: string, connectionId: string): Promise<string> {
    const created = await lifecycle.createManual(userId, connectionId, event(userId, connectionId));
    if (created.kind !== 'created') throw new Error(created.kind);
    return created.run.id;
  }

  describe('the seen set, which finds the subscribers gone from the ESP', () => {
    it('is not kept by a pass that begins on an empty connection, whose end then removes nothing', async () => {
      const { userId, connectionId } = await connection();
      const runId = await newRun(userId, connectionId);
      const pass = await started(runId, connectionId);
      // Inserts only (COPY), until a batch repeats a subscriber already stored (the ESP listing
      // one on two pages, a resume): that batch is upserted instead, still one row each.
      await expect(
        lifecycle.storePage(pass, rows(0, 100), checkpoint(runId, 1, 'c0')),
      ).resolves.toEqual({ created: 100, updated: 0 });
      await expect(
        lifecycle.storePage(pass, rows(50, 100), checkpoint(runId, 2, null)),
      ).resolves.toEqual({ created: 50, updated: 0 });
      expect(await seenSet(runId)).toEqual({ skipped: true, kept: 0 });
      await expect(lifecycle.finish(pass)).resolves.toMatchObject({
        subscriberCount: 150,
        removed: 0,
      });
      expect(await stored(connectionId)).toBe(150);
    });

    it('still counts what it would hold: a previous-version worker ending the pass (it ignores the flag) finds the set short and removes nothing', async () => {
      const { userId, connectionId } = await connection();
      const runId = await newRun(userId, connectionId);
      const pass = await started(runId, connectionId);
      await lifecycle.storePage(pass, rows(0, 100), checkpoint(runId, 1, 'c0'));
      // The previous version resumes the pass during a rolling deploy: its seen set starts here.
      await dataSource.query(`UPDATE sync_runs SET seen_set_skipped = false WHERE id = $1`, [
        runId,
      ]);
      await lifecycle.storePage(pass, rows(100, 50), checkpoint(runId, 2, null));
      await expect(lifecycle.finish(pass)).rejects.toBeInstanceOf(SeenSetLostError);
      expect(await stored(connectionId)).toBe(150);
    });

    it('is kept by a pass that begins on a stored list, and removes what the ESP no longer has', async () => {
      const { userId, connectionId } = await connection();
      const first = await newRun(userId, connectionId);
      const firstPass = await started(first, connectionId);
      await lifecycle.storePage(firstPass, rows(0, 300), checkpoint(first, 1, null));
      await lifecycle.finish(firstPass);

      const second = await newRun(userId, connectionId);
      const pass = await started(second, connectionId);
      await lifecycle.storePage(pass, rows(0, 200), checkpoint(second, 1, null));
      expect(await seenSet(second)).toEqual({ skipped: false, kept: 200 });
      await expect(lifecycle.finish(pass)).resolves.toMatchObject({
        subscriberCount: 200,
        removed: 100,
      });
    });

    it('is one row per stored batch, an id listed twice counted twice, and removes only what no batch saw', async () => {
      const { userId, connectionId } = await connection();
      const first = await newRun(userId, connectionId);
      const firstPass = await started(first, connectionId);
      await lifecycle.storePage(firstPass, rows(0, 300), checkpoint(first, 1, null));
      await lifecycle.finish(firstPass);

      const second = await newRun(userId, connectionId);
      const pass = await started(second, connectionId);
      await lifecycle.storePage(pass, rows(0, 100), checkpoint(second, 1, 'c0'));
      // The ESP lists 50 of them again on the next page (a list that moved under the cursor).
      await lifecycle.storePage(pass, rows(50, 100), checkpoint(second, 2, 'c1'), undefined, [
        ...rows(200, 20).map((row) => row.externalId),
      ]);
      await lifecycle.storePage(pass, [], checkpoint(second, 3, null));
      const batches = await dataSource.query<{ id_count: number; ids: number }[]>(
        `SELECT id_count, json_array_length(external_ids) AS ids FROM sync_seen_batches
          WHERE sync_run_id = $1 ORDER BY id`,
        [second],
      );
      expect(batches).toEqual([
        { id_count: 100, ids: 100 },
        { id_count: 120, ids: 120 },
      ]);
      expect(await seenSet(second)).toEqual({ skipped: false, kept: 220 });
      await expect(lifecycle.finish(pass)).resolves.toMatchObject({
        subscriberCount: 170,
        removed: 130,
      });
      expect(await seenSet(second)).toEqual({ skipped: false, kept: 0 });
    });

    it("during a rollout, ids the previous version kept per subscriber are not counted as this version's: the pass ends short and removes nothing", async () => {
      const { userId, connectionId } = await connection();
      const first = await newRun(userId, connectionId);
      const firstPass = await started(first, connectionId);
      await lifecycle.storePage(firstPass, rows(0, 300), checkpoint(first, 1, null));
      await lifecycle.finish(firstPass);

      const second = await newRun(userId, connectionId);
      const pass = await started(second, connectionId);
      // What the previous version's storePage wrote for its first 100 ids before this version
      // resumed the pass: one row per id, counted in seen_count.
      await dataSource.query(
        `INSERT INTO sync_seen_subscribers (sync_run_id, external_id)
         SELECT $1, unnest($2::varchar[])`,
        [second, rows(0, 100).map((row) => row.externalId)],
      );
      await dataSource.query(`UPDATE sync_runs SET seen_count = 100 WHERE id = $1`, [second]);
      await lifecycle.storePage(pass, rows(100, 100), checkpoint(second, 2, null));
      await expect(lifecycle.finish(pass)).rejects.toBeInstanceOf(SeenSetLostError);
      expect(await stored(connectionId)).toBe(300);
    });

    it('stays skipped when the first pass resumes from its checkpoint, and is kept once the pass starts over', async () => {
      const { userId, connectionId } = await connection();
      const runId = await newRun(userId, connectionId);
      const pass = await started(runId, connectionId);
      await lifecycle.storePage(pass, rows(0, 100), checkpoint(runId, 1, 'c0'));
      // A crash: the job's next pass resumes at the checkpoint, still the only writer.
      const resumed = await started(runId, connectionId);
      expect(resumed.checkpoint).toMatchObject({ cursor: 'c0' });
      expect(await seenSet(runId)).toEqual({ skipped: true, kept: 0 });

      // The saved cursor is refused: the pass starts over on a list it has partly stored, so
      // what it stored and the ESP no longer lists must go at its end.
      await lifecycle.restartPass(resumed);
      expect(await seenSet(runId)).toEqual({ skipped: false, kept: 0 });
      await lifecycle.storePage(resumed, rows(0, 40), checkpoint(runId, 1, null));
      await expect(lifecycle.finish(resumed)).resolves.toMatchObject({
        subscriberCount: 40,
        removed: 60,
      });
    });

    it("is kept when another run wrote in between: the first run cannot resume, it starts over and removes both runs' ghosts", async () => {
      const { userId, connectionId } = await connection();
      const first = await newRun(userId, connectionId);
      const firstPass = await started(first, connectionId);
      await lifecycle.storePage(firstPass, rows(0, 100), checkpoint(first, 1, 'c0'));
      await lifecycle.failPass(firstPass, { reason: 'ESP down' });

      const other = await newRun(userId, connectionId);
      const otherPass = await started(other, connectionId);
      expect(await seenSet(other)).toEqual({ skipped: false, kept: 0 });
      await lifecycle.storePage(otherPass, rows(100, 50), checkpoint(other, 1, 'o0'));
      await lifecycle.failPass(otherPass, { reason: 'ESP down' });

      // An admin retries the first run: its checkpoint went with the other run's pass.
      await expect(lifecycle.resetForRetry(first)).resolves.toMatchObject({ kind: 'reset' });
      const retried = await started(first, connectionId);
      expect(retried.checkpoint).toBeNull();
      expect(await seenSet(first)).toEqual({ skipped: false, kept: 0 });
      await lifecycle.storePage(retried, rows(0, 50), checkpoint(first, 1, null));
      await expect(lifecycle.finish(retried)).resolves.toMatchObject({
        subscriberCount: 50,
        removed: 100,
      });
    });
  });

  it('finds runs nothing drives: no heartbeat past the limit, or running too long; not while the event waits in the outbox', async () => {
    const { userId, connectionId } = await connection();
    const request = event(userId, connectionId);
    const created = await lifecycle.createManual(userId, connectionId, request);
    if (created.kind !== 'created') throw new Error(created.kind);
    await dataSource.query(
      `UPDATE sync_runs SET created_at = now() - interval '1 hour' WHERE id = $1`,
      [created.run.id],
    );
    const find = () =>
      lifecycle.findStale({ staleAfterMs: 60_000, maxDurationMs: 7_200_000, limit: 10 });
    expect((await find()).find((run) => run.runId === created.run.id)).toMatchObject({
      status: 'queued',
      overdue: false,
      awaitingOutbox: true,
    });
    await dataSource.query(`UPDATE outbox_events SET published_at = now() WHERE id = $1`, [
      request.eventId,
    ]);
    expect((await find()).find((run) => run.runId === created.run.id)).toMatchObject({
      awaitingOutbox: false,
    });
    await started(created.run.id, connectionId);
    expect((await find()).find((run) => run.runId === created.run.id)).toBeUndefined();
    await dataSource.query(
      `UPDATE sync_runs SET started_at = now() - interval '3 hours' WHERE id = $1`,
      [created.run.id],
    );
    expect((await find()).find((run) => run.runId === created.run.id)).toMatchObject({
      status: 'running',
      overdue: true,
    });
  });
});
