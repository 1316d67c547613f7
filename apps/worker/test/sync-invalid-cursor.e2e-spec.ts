import {
  EncryptionService,
  encodeCursor,
  EspClientRegistry,
  InvalidCursorError,
  JOB,
  JobPayloads,
  QUEUE,
} from '@subscribernest/shared';
import { FakeEspServer, waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { QueueWorkersService } from '../src/ops/queue-workers.service';
import { startTestWorker, TestWorker } from './support/test-worker';

type SyncData = JobPayloads[typeof JOB.syncPublication];

const KEY = 'b-key';
const LISTS = { resumed: 'pub_resumed', rejecting: 'pub_rejecting', fresh: 'pub_fresh' };

interface RunRow {
  status: string;
  subscriber_count: number | null;
  removed_count: number;
  error_message: string | null;
}

/**
 * A saved checkpoint whose cursor the ESP client rejects (`InvalidCursorError`: written for another
 * publication, by another ESP client, or in another format): the sync clears the checkpoint and
 * starts the pass over once; a pass that did not start from a checkpoint fails as before.
 */
describe('subscriber sync: a rejected saved cursor restarts the pass once', () => {
  let fake: FakeEspServer;
  let worker: TestWorker;
  let encryption: EncryptionService;
  let queue: Queue<SyncData>;
  let streamCalls: { publicationId: string | null | undefined; cursor: string | null }[];

  beforeAll(async () => {
    fake = await FakeEspServer.start({
      accounts: [
        {
          esp: 'beehiiv',
          apiKey: KEY,
          lists: [
            { id: LISTS.resumed, name: 'Resumed', size: 1_000 },
            { id: LISTS.rejecting, name: 'Rejecting', size: 200 },
            { id: LISTS.fresh, name: 'Fresh', size: 200 },
          ],
        },
      ],
    });
    worker = await startTestWorker({
      env: {
        BEEHIIV_API_URL: fake.baseUrls.beehiiv,
        QUEUE_LOCK_DURATION_MS: '5000',
        QUEUE_STALLED_INTERVAL_MS: '2500',
      },
    });
    encryption = worker.app.get(EncryptionService);
    queue = worker.queue<SyncData>(QUEUE.subscriberSync);

    // Every pass the sync starts, as the ESP client sees it; `rejecting` and `fresh` stand for an
    // ESP whose every cursor is refused (the fake ESP never refuses its own).
    const client = worker.app.get(EspClientRegistry).get('beehiiv');
    const stream = client.streamSubscribers.bind(client);
    streamCalls = [];
    jest.spyOn(client, 'streamSubscribers').mockImplementation((credentials, cursor = null) => {
      streamCalls.push({ publicationId: credentials.publicationId, cursor });
      if (credentials.publicationId === LISTS.resumed) return stream(credentials, cursor);
      return (async function* () {
        yield* [];
        throw new InvalidCursorError('beehiiv', 'the cursor belongs to another publication');
      })();
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await worker?.close();
    await fake?.stop();
  });

  let users = 0;
  /** A connection whose run already stored some pages, with a checkpoint holding `cursor`. */
  async function resumedRun(
    publicationId: string,
    cursor: string | null,
  ): Promise<{ connectionId: string; runId: string }> {
    users += 1;
    const db = worker.dataSource;
    const [user] = await db.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`cursor-owner${users}@example.com`],
    );
    const [connection] = await db.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, sync_status)
       VALUES ($1, 'beehiiv', $2, $3, 'syncing') RETURNING id`,
      [user.id, encryption.encrypt(KEY), publicationId],
    );
    const [run] = await db.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status, started_at)
       VALUES ($1, $2, 'manual', 'running', now()) RETURNING id`,
      [connection.id, user.id],
    );
    // A subscriber the ESP no longer has, marked seen by the interrupted pass: the restarted pass
    // must forget that, or the ghost would survive the sync.
    await db.query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
         email_masked, status) VALUES ($1, 'sub_ghost', $2, $3, 'g***@e***.com', 'active')`,
      [
        connection.id,
        encryption.encrypt('ghost@example.com'),
        encryption.emailHmac('ghost@example.com'),
      ],
    );
    await db.query(
      `INSERT INTO sync_seen_batches (sync_run_id, external_ids, id_count)
       VALUES ($1, '["sub_ghost"]', 1)`,
      [run.id],
    );
    if (cursor !== null) {
      await db.query(`UPDATE esp_connections SET sync_checkpoint = $2 WHERE id = $1`, [
        connection.id,
        JSON.stringify({
          syncRunId: run.id,
          cursor,
          pagesDone: 3,
          subscribersSeen: 300,
          updatedAt: new Date().toISOString(),
        }),
      ]);
    }
    await queue.add(
      JOB.syncPublication,
      { espConnectionId: connection.id, syncRunId: run.id, trigger: 'manual' },
      { jobId: run.id },
    );
    return { connectionId: connection.id, runId: run.id };
  }

  const finished = (runId: string) =>
    waitFor(
      async () => {
        const [run] = await worker.dataSource.query<RunRow[]>(
          `SELECT status, subscriber_count, removed_count, error_message FROM sync_runs
            WHERE id = $1`,
          [runId],
        );
        return run.status === 'success' || run.status === 'failed' ? run : undefined;
      },
      { timeoutMs: 30_000, description: `sync run ${runId} to finish` },
    );

  const connectionOf = async (connectionId: string) => {
    const [row] = await worker.dataSource.query<
      { sync_status: string; sync_checkpoint: unknown }[]
    >(`SELECT sync_status, sync_checkpoint FROM esp_connections WHERE id = $1`, [connectionId]);
    return row;
  };

  const callsFor = (publicationId: string) =>
    streamCalls.filter((call) => call.publicationId === publicationId);

  it('applies the configured job lock timings to every BullMQ worker', () => {
    const workers = worker.app.get(QueueWorkersService).workers;
    expect(workers.length).toBeGreaterThan(0);
    for (const bullWorker of workers) {
      expect(bullWorker.opts).toMatchObject({
        lockDuration: 5_000,
        lockRenewTime: 2_500,
        stalledInterval: 2_500,
      });
      // BullMQ's lock manager keeps its own copy of the timings: it must have the new ones.
      const lockManager = (bullWorker as unknown as { lockManager: { opts: unknown } }).lockManager;
      expect(lockManager.opts).toMatchObject({ lockDuration: 5_000, lockRenewTime: 2_500 });
    }
  });

  it('a saved cursor of another publication: checkpoint cleared, full pass from the start, exact data', async () => {
    // A well-formed cursor of ours, but for another publication (e.g. the connection was pointed
    // at a new one): the beehiiv client refuses it before sending anything.
    const foreign = encodeCursor('beehiiv', { list: 'pub_elsewhere', cursor: 'abc' });
    const { connectionId, runId } = await resumedRun(LISTS.resumed, foreign);
    const from = fake.requests.length;

    const run = await finished(runId);
    expect(run).toMatchObject({
      status: 'success',
      subscriber_count: 1_000,
      removed_count: 1,
      error_message: null,
    });
    expect(callsFor(LISTS.resumed).map((call) => call.cursor)).toEqual([foreign, null]);
    const pages = fake.requests
      .slice(from)
      .filter((request) => request.path === `/publications/${LISTS.resumed}/subscriptions`);
    expect(pages).toHaveLength(10);
    expect(pages[0].query.cursor).toBeUndefined();
    const rows = await worker.dataSource.query<{ external_id: string }[]>(
      `SELECT external_id FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    const expected = [...fake.subscribers('beehiiv', LISTS.resumed)]
      .filter((subscriber) => subscriber.status !== 'other')
      .map((subscriber) => subscriber.externalId);
    expect(rows.map((row) => row.external_id).sort()).toEqual(expected.sort());
    expect(await connectionOf(connectionId)).toEqual({
      sync_status: 'synced',
      sync_checkpoint: null,
    });
  });

  it('refused again after the restart: the run fails, with one restart only', async () => {
    const cursor = encodeCursor('beehiiv', { list: LISTS.rejecting, cursor: 'abc' });
    const { connectionId, runId } = await resumedRun(LISTS.rejecting, cursor);
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error_message).toBe('beehiiv: the cursor belongs to another publication');
    expect(callsFor(LISTS.rejecting).map((call) => call.cursor)).toEqual([cursor, null]);
    expect(await connectionOf(connectionId)).toEqual({
      sync_status: 'error',
      sync_checkpoint: null,
    });
    const job = await waitFor(async () => {
      const found = await queue.getJob(runId);
      return found && (await found.getState()) === 'failed' ? found : undefined;
    });
    expect(job.attemptsMade).toBe(1);
  });

  it('refused on a pass that did not resume from a checkpoint: the run fails at once', async () => {
    const { runId } = await resumedRun(LISTS.fresh, null);
    const run = await finished(runId);
    expect(run.status).toBe('failed');
    expect(run.error_message).toBe('beehiiv: the cursor belongs to another publication');
    expect(callsFor(LISTS.fresh).map((call) => call.cursor)).toEqual([null]);
  });
});
