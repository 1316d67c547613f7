import {
  DEFAULT_JOB_OPTIONS,
  deleteAccountJobId,
  JOB,
  PayloadOf,
  QUEUE,
} from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { AccountDeletionResult } from '../src/account-deletion/account-deletion.service';
import { SyncProcessHarness } from './support/sync-process';

type DeleteAccount = PayloadOf<typeof JOB.deleteAccount>;

const SUBSCRIBERS = 200_000;
const BATCH = 1_000;

/**
 * The built worker as a child process, SIGKILLed half-way through deleting a 200,000-subscriber
 * account (no shutdown hook runs, the job's lock is left to expire), then a new worker process:
 * BullMQ's stalled-job check hands it the job, which deletes what the first one left, and not one
 * row of another account.
 */
describe('worker process: an account deletion survives SIGKILL and finishes on restart', () => {
  let harness: SyncProcessHarness;
  let deletions: Queue<DeleteAccount>;

  beforeAll(async () => {
    harness = await SyncProcessHarness.create([]);
    deletions = new Queue<DeleteAccount>(QUEUE.accountDeletion, {
      connection: { url: harness.redisUrl },
      prefix: harness.queues.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[QUEUE.accountDeletion],
    });
  });

  afterAll(async () => {
    await deletions?.close();
    await harness?.close();
  });

  const sql = () => harness.dataSource;

  const seed = async (email: string, subscribers: number, requested: boolean) => {
    const [{ id: userId }] = await sql().query<{ id: string }[]>(
      `INSERT INTO users (email, delete_requested_at)
       VALUES ($1, CASE WHEN $2 THEN now() - interval '31 days' END) RETURNING id`,
      [email, requested],
    );
    const [{ id: connectionId }] = await sql().query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', 'v1.test.not-a-key', 'pub-1') RETURNING id`,
      [userId],
    );
    await sql().query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                email_masked, status)
       SELECT $1::uuid, 'ext-' || g, 'v1.test.x', md5($1::uuid::text || g), 's***@example.com', 'active'
         FROM generate_series(1, $2::int) AS g`,
      [connectionId, subscribers],
    );
    return { userId, connectionId };
  };

  const subscribersOf = async (connectionId: string): Promise<number> => {
    const [{ n }] = await sql().query<{ n: number }[]>(
      'SELECT count(*)::int AS n FROM subscribers WHERE esp_connection_id = $1',
      [connectionId],
    );
    return n;
  };

  it('kill -9 mid-deletion, restart: every row of the account gone, the other account whole', async () => {
    const doomed = await seed('doomed@example.com', SUBSCRIBERS, true);
    const other = await seed('other@example.com', 5_000, false);
    const [{ at }] = await sql().query<{ at: Date }[]>(
      'SELECT delete_requested_at AS at FROM users WHERE id = $1',
      [doomed.userId],
    );

    // Short lock timings so the killed worker's job is recovered in seconds, not 30 s.
    const env = {
      QUEUE_LOCK_DURATION_MS: '2000',
      QUEUE_STALLED_INTERVAL_MS: '1000',
      ACCOUNT_DELETION_BATCH_SIZE: String(BATCH),
      CRONS_ENABLED: 'false',
    };
    const first = await harness.startWorker(env);
    const jobId = deleteAccountJobId(doomed.userId, at);
    await deletions.add(
      JOB.deleteAccount,
      { userId: doomed.userId, requestedAt: at.toISOString() },
      { jobId },
    );

    // Killed once a few batches are committed, long before the last.
    await waitFor(
      async () => (await subscribersOf(doomed.connectionId)) <= SUBSCRIBERS - 5 * BATCH,
      {
        description: 'the deletion to be under way',
        intervalMs: 5,
        timeoutMs: 60_000,
      },
    );
    expect(await harness.kill(first)).toEqual({ code: null, signal: 'SIGKILL' });
    const left = await subscribersOf(doomed.connectionId);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(SUBSCRIBERS);
    const [user] = await sql().query<{ deletion_started_at: Date | null }[]>(
      'SELECT deletion_started_at FROM users WHERE id = $1',
      [doomed.userId],
    );
    expect(user.deletion_started_at).toBeInstanceOf(Date);

    await harness.startWorker(env);
    const job = await waitFor(
      async () => {
        const state = await deletions.getJobState(jobId);
        if (state === 'failed') throw new Error('the deletion failed');
        return state === 'completed' ? ((await deletions.getJob(jobId)) ?? false) : false;
      },
      { description: 'the restarted worker to finish the deletion', timeoutMs: 120_000 },
    );
    const result = job.returnvalue as AccountDeletionResult;
    expect(result.result).toBe('deleted');
    // The restarted attempt deleted exactly what the killed one had left, in batches of BATCH.
    expect(result.deleted.subscribers).toBe(left);
    expect(result.batches).toBeGreaterThanOrEqual(Math.ceil(left / BATCH));
    expect(await subscribersOf(doomed.connectionId)).toBe(0);
    const [{ users }] = await sql().query<{ users: number }[]>(
      'SELECT count(*)::int AS users FROM users WHERE id = $1',
      [doomed.userId],
    );
    expect(users).toBe(0);
    expect(await subscribersOf(other.connectionId)).toBe(5_000);
  });
});
