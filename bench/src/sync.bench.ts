/**
 * A list synced through the built worker (apps/worker/dist/main.js, a child process) from the
 * fake ESP (in this process, no rate limits, the worker's budgets lifted), against raw write
 * baselines measured in the same run on the same `subscribers` table. Per ESP:
 *
 *   first sync        N subscribers into an empty connection;
 *   unchanged re-sync a full pass over the same list (every sync here is a full pass:
 *                     SYNC_FULL_PASS_EVERY_DAYS=0), nothing to write;
 *   1% changed        a full pass after 1% of the list changed in the fake (adds, profile
 *                     changes, unsubscribes, bounces, removals in equal shares).
 *
 * Each sync's speed is the list size over its run's started_at → completed_at; the worker's peak
 * RSS is VmHWM, reset before each sync (/proc/<pid>/clear_refs) and sampled from VmRSS as well;
 * its CPU (user + system) over the sync, from /proc/<pid>/stat, moves less between runs than the
 * wall time does. `--repeat N` runs the unchanged re-sync N times and reports the median.
 * After each sync the connection's stored rows must match the fake's list (count per status);
 * a mismatch fails the run (exit 1).
 *
 * The baselines run in a database of their own, migrated like the worker's (same table, same
 * indexes), on the rows the first sync stored, their emails encrypted afresh with
 * EncryptionService before any timing starts, each into an empty table:
 *
 *   unnest   1,000-row `INSERT … SELECT FROM unnest(…) ON CONFLICT … DO UPDATE … WHERE … IS
 *            DISTINCT FROM` statements, the statement shape of the sync's page upsert;
 *   COPY     one `COPY subscribers (…) FROM STDIN` of every row (pg-copy-streams);
 *   per-row  SELECT by (connection, external id), then a one-row INSERT: the naive pattern, on a
 *            sample (20,000 rows by default), reported as rows/s.
 *
 *   npm run bench -- sync                                beehiiv, 200,000 subscribers
 *   npm run bench -- sync --esp all --size 200000 --json
 *
 * Only the worker's behaviour is measured: nothing here imports the sync code; it drives the
 * worker from outside (the fake ESP over HTTP, the database, the outbox the api writes to).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EncryptionService, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeEspServer,
  testSecrets,
} from '@subscribernest/testkit';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { flag } from './bench-args';
import {
  awaitBenchRun,
  createBenchConnection,
  FinishedBenchRun,
  requestBenchSync,
  startBenchWorker,
} from './bench-worker';
import { jsonWanted, report, table } from './bench-report';

type Esp = 'beehiiv' | 'kit' | 'mailchimp';
const ESPS: Esp[] = ['beehiiv', 'kit', 'mailchimp'];
const KEYS: Record<Esp, string> = {
  beehiiv: 'bench-beehiiv-key',
  kit: 'bench-kit-key',
  mailchimp: 'bench-mc-key-us1',
};
const LIST_IDS: Record<Esp, string> = {
  beehiiv: 'pub_bench',
  kit: '999999',
  mailchimp: 'list_bench',
};
const BATCH = 1_000;
const COLUMNS = [
  'external_id',
  'email_encrypted',
  'email_hmac',
  'email_masked',
  'status',
  'first_name',
  'last_name',
  'subscribed_at',
  'unsubscribed_at',
  'metadata',
] as const;
type Column = (typeof COLUMNS)[number];
/** A stored row as text, as the sync writes it (timestamps and metadata as Postgres prints them). */
type Row = Record<Column, string | null>;

/** The statement shape of the sync's page upsert (packages/shared/src/sync-lifecycle/subscriber-page.ts). */
const UNNEST_UPSERT = `INSERT INTO subscribers AS s (
       esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
       first_name, last_name, subscribed_at, unsubscribed_at, metadata)
     SELECT $1, t.external_id, t.email_encrypted, t.email_hmac, t.email_masked, t.status,
            t.first_name, t.last_name, t.subscribed_at, t.unsubscribed_at, t.metadata
       FROM unnest($2::varchar[], $3::text[], $4::varchar[], $5::varchar[], $6::varchar[],
                   $7::varchar[], $8::varchar[], $9::timestamptz[], $10::timestamptz[],
                   $11::jsonb[])
         AS t(external_id, email_encrypted, email_hmac, email_masked, status, first_name,
              last_name, subscribed_at, unsubscribed_at, metadata)
     ON CONFLICT (esp_connection_id, external_id) DO UPDATE SET
       email_encrypted = EXCLUDED.email_encrypted,
       email_hmac = EXCLUDED.email_hmac,
       email_masked = EXCLUDED.email_masked,
       status = EXCLUDED.status,
       first_name = EXCLUDED.first_name,
       last_name = EXCLUDED.last_name,
       subscribed_at = EXCLUDED.subscribed_at,
       unsubscribed_at = EXCLUDED.unsubscribed_at,
       metadata = EXCLUDED.metadata,
       updated_at = now()
     WHERE (s.status, s.first_name, s.last_name, s.subscribed_at, s.unsubscribed_at,
            s.email_hmac, s.metadata)
       IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.first_name, EXCLUDED.last_name,
            EXCLUDED.subscribed_at, EXCLUDED.unsubscribed_at, EXCLUDED.email_hmac,
            EXCLUDED.metadata)
     RETURNING (xmax = 0) AS inserted`;

interface SyncFigures {
  mode: string | null;
  subscribers: number;
  seconds: number;
  subsPerSecond: number;
  peakRssMb: number;
  /** The worker process's CPU (user + system) over the sync: steadier than wall time. */
  workerCpuSeconds: number;
  created: number;
  updated: number;
  removed: number;
  storedRows: number;
  expectedRows: number;
}

interface BaselineFigures {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
}

interface EspFigures {
  firstSync: SyncFigures;
  /** The median of `--repeat` unchanged re-syncs (each run's seconds in `runs`). */
  unchangedResync: SyncFigures & { speedup: number; runs: number[] };
  changedResync: SyncFigures & { speedup: number; changed: number };
  baselines: { unnest: BaselineFigures; copy: BaselineFigures; perRow: BaselineFigures };
  ratios: Record<
    'firstSync' | 'unchangedResync' | 'changedResync',
    { unnest: number; copy: number; perRow: number }
  >;
}

const seconds = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const int = (value: number) => Math.round(value).toLocaleString('en-US');

/** The worker's memory: VmHWM reset before a sync where the kernel allows, VmRSS sampled too. */
class RssProbe {
  private timer?: NodeJS.Timeout;
  private sampled = 0;
  private hwmReset = false;

  constructor(private readonly pid: number) {}

  start(): void {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
      this.hwmReset = true;
    } catch {
      this.hwmReset = false;
    }
    this.sampled = this.read().now;
    this.timer = setInterval(() => {
      this.sampled = Math.max(this.sampled, this.read().now);
    }, 50);
  }

  /** The peak in MB since `start`. */
  stop(): number {
    clearInterval(this.timer);
    const { peak, now } = this.read();
    return Math.max(this.sampled, now, this.hwmReset ? peak : 0);
  }

  private read(): { peak: number; now: number } {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { peak: round(kb('VmHWM') / 1024, 1), now: round(kb('VmRSS') / 1024, 1) };
  }
}

/** A process's CPU time so far (user + system, /proc/<pid>/stat), in seconds. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which sits in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // USER_HZ: what /proc reports in, whatever the kernel ticks at
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** COPY's text format: tab-separated, \N for null, backslash escapes. */
function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

async function emptyTable(db: Client): Promise<void> {
  await db.query('TRUNCATE subscribers CASCADE');
  await db.query('VACUUM ANALYZE subscribers');
}

/** The raw write paths, each into an empty `subscribers` of the baseline database. */
async function baselines(
  db: Client,
  connectionId: string,
  rows: Row[],
  perRowSample: number,
): Promise<EspFigures['baselines']> {
  const column = (batch: Row[], name: Column) => batch.map((row) => row[name]);

  await emptyTable(db);
  let started = process.hrtime.bigint();
  for (let offset = 0; offset < rows.length; offset += BATCH) {
    const batch = rows.slice(offset, offset + BATCH);
    await db.query(UNNEST_UPSERT, [connectionId, ...COLUMNS.map((name) => column(batch, name))]);
  }
  const unnestSeconds = seconds(started);

  await emptyTable(db);
  started = process.hrtime.bigint();
  const prefix = `${connectionId}\t`;
  async function* lines(): AsyncGenerator<string> {
    for (let offset = 0; offset < rows.length; offset += BATCH) {
      let chunk = '';
      for (const row of rows.slice(offset, offset + BATCH)) {
        chunk += prefix + COLUMNS.map((name) => copyField(row[name])).join('\t') + '\n';
      }
      yield chunk;
    }
  }
  await pipeline(
    Readable.from(lines()),
    db.query(copyFrom(`COPY subscribers (esp_connection_id, ${COLUMNS.join(', ')}) FROM STDIN`)),
  );
  const copySeconds = seconds(started);

  await emptyTable(db);
  const sample = rows.slice(0, Math.min(perRowSample, rows.length));
  started = process.hrtime.bigint();
  for (const row of sample) {
    const found = await db.query(
      `SELECT id FROM subscribers WHERE esp_connection_id = $1 AND external_id = $2`,
      [connectionId, row.external_id],
    );
    if (found.rowCount === 0) {
      await db.query(
        `INSERT INTO subscribers (esp_connection_id, ${COLUMNS.join(', ')})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        [connectionId, ...COLUMNS.map((name) => row[name])],
      );
    }
  }
  const perRowSeconds = seconds(started);
  await emptyTable(db);

  const figures = (count: number, s: number) => ({
    rows: count,
    seconds: round(s, 3),
    rowsPerSecond: Math.round(count / s),
  });
  return {
    unnest: figures(rows.length, unnestSeconds),
    copy: figures(rows.length, copySeconds),
    perRow: figures(sample.length, perRowSeconds),
  };
}

async function main(): Promise<void> {
  const which = flag('esp', 'beehiiv');
  const esps = which === 'all' ? ESPS : [which as Esp];
  if (!esps.every((esp) => ESPS.includes(esp))) throw new Error(`--esp: no ESP named "${which}"`);
  const size = Number(flag('size', '200000'));
  const perRowSample = Number(flag('per-row-sample', '20000'));
  const repeat = Number(flag('repeat', '1'));
  if (!(size > 0) || !(perRowSample > 0)) throw new Error('--size and --per-row-sample: N > 0');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat: an integer N ≥ 1');
  const json = jsonWanted();

  const fake = await FakeEspServer.start({
    accounts: esps.map((esp) => ({
      esp,
      apiKey: KEYS[esp],
      lists: [{ id: LIST_IDS[esp], name: 'Bench', size }],
    })),
    rateLimits: { beehiiv: null, kit: null, mailchimp: null },
    recordRequests: false,
  });
  const database = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const baselineDatabase = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const queues = createTestQueuePrefix();
  const secrets = testSecrets();
  const encryption = EncryptionService.fromSettings(secrets);
  const worker = await startBenchWorker({
    databaseUrl: database.url,
    queuePrefix: queues.prefix,
    secrets,
    fake,
    extra: {
      CRONS_ENABLED: 'false',
      // No rate limits: the fake enforces none, and the worker's budgets are lifted, so a sync
      // runs at the speed we sync rather than the vendor's quota.
      ESP_BUDGET_BEEHIIV_REQUESTS: '1000000',
      ESP_BUDGET_KIT_API_KEY_REQUESTS: '1000000',
      ESP_BUDGET_MAILCHIMP_IN_FLIGHT: '1000',
      // Every sync is a full pass, re-syncs included (beehiiv's always are).
      SYNC_FULL_PASS_EVERY_DAYS: '0',
    },
  });
  const db = new Client({ connectionString: database.url });
  const baselineDb = new Client({ connectionString: baselineDatabase.url });
  await db.connect();
  await baselineDb.connect();
  const probe = new RssProbe(worker.pid);
  let mismatches = 0;

  const connection = (client: Client, esp: Esp) =>
    createBenchConnection(client, encryption, {
      esp,
      apiKey: KEYS[esp],
      publicationId: LIST_IDS[esp],
      email: `bench-${esp}@example.com`,
    });

  /** The fake's list per status we store ('other' statuses are not synced). */
  const expectedByStatus = (esp: Esp) => {
    const counts = new Map<string, number>();
    for (const view of fake.subscribers(esp, LIST_IDS[esp])) {
      if (view.status !== 'other') counts.set(view.status, (counts.get(view.status) ?? 0) + 1);
    }
    return counts;
  };

  /** Stored rows per status against the fake's list; prints a check line, counts a mismatch. */
  const check = async (esp: Esp, label: string, connectionId: string) => {
    const expected = expectedByStatus(esp);
    const { rows } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM subscribers WHERE esp_connection_id = $1
        GROUP BY status`,
      [connectionId],
    );
    const stored = new Map(rows.map((r) => [r.status, r.n]));
    const statuses = [...new Set([...expected.keys(), ...stored.keys()])].sort();
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const ok = statuses.every((s) => (expected.get(s) ?? 0) === (stored.get(s) ?? 0));
    if (!ok) mismatches += 1;
    const detail = statuses
      .map((s) => `${s} ${stored.get(s) ?? 0}/${expected.get(s) ?? 0}`)
      .join(', ');
    console.log(
      `check ${esp} ${label}: stored ${total(stored)} rows, fake list ${total(expected)} ` +
        `(${detail}) ${ok ? 'OK' : 'MISMATCH'}`,
    );
    return { storedRows: total(stored), expectedRows: total(expected) };
  };

  /** A manual sync as the api records one (run + outbox event); the worker's sweeper picks it up. */
  const sync = async (
    esp: Esp,
    label: string,
    owner: { userId: string; connectionId: string },
  ): Promise<SyncFigures> => {
    const subscribers = fake.count(esp, LIST_IDS[esp]);
    probe.start();
    const cpuBefore = cpuSecondsOf(worker.pid);
    const runId = await requestBenchSync(db, owner);
    let run: FinishedBenchRun;
    let peakRssMb: number;
    try {
      run = await awaitBenchRun(db, runId, {
        deadline: Date.now() + Math.max(600_000, (size / 100) * 1000),
        intervalMs: 100,
        label: `${esp} ${label}`,
      });
    } finally {
      peakRssMb = probe.stop();
    }
    const workerCpuSeconds = round(cpuSecondsOf(worker.pid) - cpuBefore);
    const counts = await check(esp, label, owner.connectionId);
    return {
      mode: run.mode,
      subscribers,
      seconds: round(run.seconds, 3),
      subsPerSecond: Math.round(subscribers / run.seconds),
      peakRssMb,
      workerCpuSeconds,
      created: run.created_count,
      updated: run.updated_count,
      removed: run.removed_count,
      ...counts,
    };
  };

  const results: Partial<Record<Esp, EspFigures>> = {};
  try {
    console.log(
      `Sync benchmark: ${esps.join(', ')}, ${int(size)} subscribers per list; baselines on the ` +
        `same rows, per-row on ${int(Math.min(size, perRowSample))}`,
    );
    for (const esp of esps) {
      const owner = await connection(db, esp);
      const first = await sync(esp, 'first sync', owner);
      // The rows as the first sync stored them, for the baselines: each email encrypted afresh
      // (EncryptionService, the key the worker uses) before any timing starts.
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS.map((c) => `${c}::text AS ${c}`).join(', ')}
           FROM subscribers WHERE esp_connection_id = $1 ORDER BY created_at, id`,
        [owner.connectionId],
      );
      for (const row of rows) {
        row.email_encrypted = encryption.encrypt(encryption.decrypt(row.email_encrypted!));
      }
      // Repeated on request (--repeat N), the median kept: one re-sync's wall time moves with
      // the machine by more than most changes to it.
      const resyncs: SyncFigures[] = [];
      for (let i = 0; i < repeat; i++) resyncs.push(await sync(esp, 'unchanged re-sync', owner));
      const unchanged = [...resyncs].sort((a, b) => a.seconds - b.seconds)[
        Math.floor((resyncs.length - 1) / 2)
      ];

      const changed = Math.round(size / 100);
      const fifth = Math.floor(changed / 5);
      fake.mutate(esp, LIST_IDS[esp], {
        add: changed - 4 * fifth,
        change: fifth,
        unsubscribe: fifth,
        bounce: fifth,
        remove: fifth,
      });
      const afterChanges = await sync(esp, '1% changed re-sync', owner);

      const { connectionId: baselineConnection } = await connection(baselineDb, esp);
      const raw = await baselines(baselineDb, baselineConnection, rows, perRowSample);

      const ratios = (figures: SyncFigures) => ({
        unnest: round(figures.subsPerSecond / raw.unnest.rowsPerSecond),
        copy: round(figures.subsPerSecond / raw.copy.rowsPerSecond),
        perRow: round(figures.subsPerSecond / raw.perRow.rowsPerSecond, 1),
      });
      results[esp] = {
        firstSync: first,
        unchangedResync: {
          ...unchanged,
          speedup: round(first.seconds / unchanged.seconds),
          runs: resyncs.map((r) => r.seconds),
        },
        changedResync: {
          ...afterChanges,
          changed,
          speedup: round(first.seconds / afterChanges.seconds),
        },
        baselines: raw,
        ratios: {
          firstSync: ratios(first),
          unchangedResync: ratios(unchanged),
          changedResync: ratios(afterChanges),
        },
      };
      for (const [label, s] of [
        ['first sync', first],
        ['unchanged re-sync', unchanged],
        ['1% changed re-sync', afterChanges],
      ] as const) {
        console.log(
          `${esp} ${label}: ${s.mode ?? '?'} pass, ${int(s.subscribers)} subscribers in ` +
            `${s.seconds.toFixed(2)} s, created ${int(s.created)}, updated ${int(s.updated)}, ` +
            `removed ${int(s.removed)}, worker CPU ${s.workerCpuSeconds.toFixed(2)} s`,
        );
      }
      if (repeat > 1) {
        console.log(
          `${esp} unchanged re-sync, ${repeat} runs (median above): ` +
            `${resyncs.map((r) => `${r.seconds.toFixed(2)} s`).join(', ')}`,
        );
      }
    }

    const rows: string[][] = [];
    for (const esp of esps) {
      const r = results[esp]!;
      const syncRow = (label: string, s: SyncFigures, ratio: EspFigures['ratios']['firstSync']) => [
        `${esp} ${label}`,
        int(s.subsPerSecond),
        ratio.unnest.toFixed(2),
        ratio.copy.toFixed(2),
        `${ratio.perRow.toFixed(1)}×`,
        'speedup' in s ? `${(s as { speedup: number }).speedup.toFixed(2)}×` : '-',
        s.workerCpuSeconds.toFixed(2),
        s.peakRssMb.toFixed(1),
      ];
      rows.push(
        syncRow('first sync', r.firstSync, r.ratios.firstSync),
        syncRow('unchanged re-sync', r.unchangedResync, r.ratios.unchangedResync),
        syncRow('1% changed re-sync', r.changedResync, r.ratios.changedResync),
      );
      const b = r.baselines;
      const baselineRow = (label: string, f: BaselineFigures) => [
        `${esp} rows: ${label}`,
        int(f.rowsPerSecond),
        (f.rowsPerSecond / b.unnest.rowsPerSecond).toFixed(2),
        (f.rowsPerSecond / b.copy.rowsPerSecond).toFixed(2),
        `${(f.rowsPerSecond / b.perRow.rowsPerSecond).toFixed(1)}×`,
        '-',
        '-',
        '-',
      ];
      rows.push(
        baselineRow(`unnest upsert, ${int(BATCH)}-row statements`, b.unnest),
        baselineRow('COPY FROM STDIN', b.copy),
        baselineRow(`per-row SELECT+INSERT (${int(b.perRow.rows)} rows)`, b.perRow),
      );
    }
    console.log('');
    console.log(
      table(
        [
          `path (${int(size)} subscribers)`,
          'subs/s',
          '/unnest',
          '/COPY',
          '/per-row',
          're-sync speed-up',
          'worker CPU s',
          'peak RSS MB',
        ],
        rows,
      ),
    );
    console.log(
      `targets (issue 16): first sync ≥ 0.8 of unnest and ≥ 0.5 of COPY, ≥ 10× per-row; ` +
        `unchanged re-sync ≥ 3× faster than the first sync; correctness checks: ` +
        `${mismatches === 0 ? 'all OK' : `${mismatches} MISMATCH`}`,
    );
    report({ bench: 'sync', size, perRowSample, checksOk: mismatches === 0, esps: results }, json);
    if (mismatches > 0) process.exitCode = 1;
  } finally {
    await db.end();
    await baselineDb.end();
    await worker.stop('SIGTERM');
    await fake.stop();
    await database.drop();
    await baselineDatabase.drop();
    await queues.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
