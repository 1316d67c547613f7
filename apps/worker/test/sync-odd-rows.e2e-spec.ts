import {
  EncryptionService,
  EspType,
  internalErrorMessage,
  JOB,
  JobPayloads,
  QUEUE,
  SyncRunLifecycle,
} from '@subscribernest/shared';
import { FakeEspServer, waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { startTestWorker, TestWorker } from './support/test-worker';

type SyncData = JobPayloads[typeof JOB.syncPublication];

const SIZE = 250;
const LONG_NAME = 'Ñ'.repeat(300);
// A name of 254 letters then an accented letter written as two code points, then more: cutting
// at 255 code points would separate the accent from its letter.
const COMBINING_NAME = 'x'.repeat(254) + 'e\u0301' + 'tail';
/** The odd rows every vendor's list holds (indices into the generated list). */
const ODD = {
  3: { firstName: LONG_NAME },
  5: { firstName: 'Ja\u0000ne', lastName: 'Bell\u0007' },
  7: { email: 'not an address' },
  9: { email: '  padded@example.test  ' },
  11: { lastName: COMBINING_NAME },
  13: { firstName: 'Line one\nline two' },
};
const KEYS: Record<EspType, string> = { beehiiv: 'b-odd', kit: 'k-odd', mailchimp: 'm-odd-us6' };
const LIST_IDS: Record<EspType, string> = {
  beehiiv: 'pub_odd',
  kit: 'kit_odd',
  mailchimp: 'mc_odd',
};

interface RunRow {
  status: string;
  subscriber_count: number | null;
  skipped_count: number;
  skip_reasons: Record<string, number>;
  error_message: string | null;
}

/**
 * One odd row never fails a sync (issue 13): a 300-character name, NUL and other control
 * characters, an address the vendor let through malformed. On every vendor the run succeeds, the
 * odd values are stored cleaned and cut on a character boundary, the unusable row is skipped and
 * counted by reason, and the rest of the list lands. And when a page's write fails for a reason
 * nobody foresaw, the owner reads a reference, never the database's text.
 */
describe('sync of lists with odd rows (real worker, fake ESPs)', () => {
  let fake: FakeEspServer;
  let worker: TestWorker;
  let sql: DataSource;
  let encryption: EncryptionService;
  let queue: Queue<SyncData>;
  let users = 0;

  beforeAll(async () => {
    fake = await FakeEspServer.start({
      accounts: (Object.keys(KEYS) as EspType[]).map((esp) => ({
        esp,
        apiKey: KEYS[esp],
        lists: [{ id: LIST_IDS[esp], name: `Odd ${esp}`, size: SIZE, oddIdentities: ODD }],
      })),
    });
    worker = await startTestWorker({
      env: {
        BEEHIIV_API_URL: fake.baseUrls.beehiiv,
        KIT_API_URL: fake.baseUrls.kit,
        MAILCHIMP_API_URL: fake.baseUrls.mailchimp,
      },
    });
    sql = worker.dataSource;
    encryption = worker.app.get(EncryptionService);
    queue = worker.queue<SyncData>(QUEUE.subscriberSync);
  });

  afterAll(async () => {
    await worker?.close();
    await fake?.stop();
  });

  const sync = async (esp: EspType): Promise<{ connectionId: string; runId: string }> => {
    users += 1;
    const [user] = await sql.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`odd-owner-${users}@example.com`],
    );
    const [connection] = await sql.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, sync_status)
       VALUES ($1, $2, $3, $4, 'syncing') RETURNING id`,
      [user.id, esp, encryption.encrypt(KEYS[esp]), LIST_IDS[esp]],
    );
    const [run] = await sql.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger) VALUES ($1, $2, 'manual')
       RETURNING id`,
      [connection.id, user.id],
    );
    await queue.add(
      JOB.syncPublication,
      { espConnectionId: connection.id, syncRunId: run.id, trigger: 'manual' },
      // Two quick attempts: the failure test sees the last one end the run.
      { jobId: run.id, attempts: 2, backoff: { type: 'fixed', delay: 100 } },
    );
    return { connectionId: connection.id, runId: run.id };
  };

  /** Another manual run of an existing connection. */
  const resync = async (connectionId: string): Promise<string> => {
    const [run] = await sql.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger)
       SELECT id, user_id, 'manual' FROM esp_connections WHERE id = $1 RETURNING id`,
      [connectionId],
    );
    await sql.query(`UPDATE esp_connections SET sync_status = 'syncing' WHERE id = $1`, [
      connectionId,
    ]);
    await queue.add(
      JOB.syncPublication,
      { espConnectionId: connectionId, syncRunId: run.id, trigger: 'manual' },
      { jobId: run.id, attempts: 2, backoff: { type: 'fixed', delay: 100 } },
    );
    return run.id;
  };

  const finished = (runId: string): Promise<RunRow> =>
    waitFor(
      async () => {
        const [run] = await sql.query<RunRow[]>(
          `SELECT status, subscriber_count, skipped_count, skip_reasons, error_message
             FROM sync_runs WHERE id = $1`,
          [runId],
        );
        return run.status === 'success' || run.status === 'failed' ? run : undefined;
      },
      { timeoutMs: 60_000, description: `sync run ${runId} to finish` },
    );

  const storedByEmail = async (connectionId: string) => {
    const rows = await sql.query<
      { email_encrypted: string; first_name: string | null; last_name: string | null }[]
    >(
      `SELECT email_encrypted, first_name, last_name FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    return new Map(rows.map((row) => [encryption.decrypt(row.email_encrypted), row]));
  };

  it.each(Object.keys(KEYS) as EspType[])(
    '%s: the run succeeds, odd values are stored cleaned and cut, the malformed row is skipped and counted',
    async (esp) => {
      const { connectionId, runId } = await sync(esp);
      const run = await finished(runId);
      // The fake's list also holds statuses we do not store; those are counted as skipped too.
      const expected = [...fake.subscribers(esp, LIST_IDS[esp])];
      const storable = expected.filter((s) => s.status !== 'other' && s.email !== 'not an address');
      const notStored = expected.filter((s) => s.status === 'other').length;
      expect(run).toMatchObject({
        status: 'success',
        subscriber_count: storable.length,
        error_message: null,
      });
      expect(run.skip_reasons['malformed-email']).toBe(1);
      expect(run.skipped_count).toBe(1 + notStored);

      const stored = await storedByEmail(connectionId);
      const byIndex = (index: number) => {
        // `subscribers` lists them in created order: nothing was removed, so by index.
        return stored.get(expected[index].email.trim());
      };
      expect([...(byIndex(3)?.first_name ?? '')]).toHaveLength(255);
      expect(byIndex(3)?.first_name).toBe('Ñ'.repeat(255));
      expect(byIndex(5)).toMatchObject({ first_name: 'Jane', last_name: 'Bell' });
      // Trimmed, then stored: the address the owner exports is the usable one.
      expect(stored.has('padded@example.test')).toBe(true);
      expect(byIndex(11)?.last_name).toBe('x'.repeat(254));
      expect(byIndex(13)?.first_name).toBe('Line one\nline two');
      expect(stored.has('not an address')).toBe(false);
    },
  );

  it('a re-sync of the same odd list stores the same rows, rewrites none and counts the same skips', async () => {
    // beehiiv: no change filter, so the re-sync is a full pass that compares every subscriber
    // by the hash of the record as listed, cleaned and cut values included.
    const first = await sync('beehiiv');
    const firstRun = await finished(first.runId);
    expect(firstRun.status).toBe('success');
    const rows = () =>
      sql.query<Record<string, unknown>[]>(
        `SELECT external_id, first_name, last_name, email_encrypted, content_hash, updated_at
           FROM subscribers WHERE esp_connection_id = $1 ORDER BY external_id`,
        [first.connectionId],
      );
    const before = await rows();
    expect(before.every((row) => row.content_hash !== null)).toBe(true);

    const runId = await resync(first.connectionId);
    const again = await finished(runId);
    expect(again).toMatchObject({
      status: 'success',
      subscriber_count: firstRun.subscriber_count,
      skipped_count: firstRun.skipped_count,
      skip_reasons: firstRun.skip_reasons,
    });
    const [counts] = await sql.query<{ created_count: number; updated_count: number }[]>(
      `SELECT created_count, updated_count FROM sync_runs WHERE id = $1`,
      [runId],
    );
    expect(counts).toEqual({ created_count: 0, updated_count: 0 });
    expect(await rows()).toEqual(before);
  });

  it('a write failing for a reason nobody foresaw shows the owner a reference, never the database text', async () => {
    const lifecycle = worker.app.get(SyncRunLifecycle);
    const spy = jest.spyOn(lifecycle, 'storePage').mockRejectedValue(
      Object.assign(
        new Error('duplicate key value violates unique constraint "subscribers_pkey"'),
        {
          severity: 'ERROR',
          code: '23505',
        },
      ),
    );
    try {
      const { runId } = await sync('beehiiv');
      const run = await finished(runId);
      expect(run.status).toBe('failed');
      expect(run.error_message).toBe(internalErrorMessage(`${QUEUE.subscriberSync}/${runId}`));
      expect(run.error_message).not.toMatch(/constraint|duplicate|subscribers_pkey/);
      const job = await queue.getJob(runId);
      expect(job?.failedReason).not.toMatch(/constraint|duplicate/);
      const [audit] = await sql.query<{ last_error: string }[]>(
        `SELECT last_error FROM job_runs WHERE queue = 'subscriber-sync' AND job_id = $1`,
        [runId],
      );
      expect(audit.last_error).not.toMatch(/constraint|duplicate/);
    } finally {
      spy.mockRestore();
    }
  });
});
