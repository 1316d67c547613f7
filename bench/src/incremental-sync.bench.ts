/**
 * A full pass against an incremental re-sync of the same list with 1% of it changed, through the
 * built worker (apps/worker/dist/main.js, a child process) on Postgres and Redis, against the
 * fake ESP in this process. Two connections of one list sync it fully first; then 1% of the
 * list changes (adds, profile changes, unsubscribes, bounces) and
 *
 *   incremental  connection A re-syncs: the worker asks only for what changed;
 *   full         connection B re-syncs with its periodic full pass made due: every page.
 *
 * Prints each pass's requests and wall time (the run's started_at → completed_at), the ratios
 * incremental/full, and checks both connections then hold identical rows (the incremental result
 * is the full one).
 *
 *   npm run bench -- incremental                              mailchimp, 1,000,000 subscribers
 *   npm run bench -- incremental --esp kit --size 200000
 *
 * Needs Postgres and Redis (scripts/services.sh) and the worker built (the npm script builds it).
 * The fake enforces no per-minute quota here and the worker's Kit budget is lifted, so the full
 * pass is measured at the speed we sync, not Kit's: at Kit's 120 requests a minute a full pass of
 * the list alone takes size/1000/120 minutes, which only widens the gap.
 */
import { EncryptionService, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeEspServer,
  testSecrets,
} from '@subscribernest/testkit';
import { Client } from 'pg';
import { flag } from './bench-args';
import {
  awaitBenchRun,
  createBenchConnection,
  requestBenchSync,
  startBenchWorker,
} from './bench-worker';
import { report } from './bench-report';

type Esp = 'mailchimp' | 'kit';
const KEYS: Record<Esp, string> = { mailchimp: 'bench-mc-key-us1', kit: 'bench-kit-key' };
const LIST_IDS: Record<Esp, string> = { mailchimp: 'list_bench', kit: '999999' };
const MEMBERS_PATH: Record<Esp, string> = {
  mailchimp: `/lists/${LIST_IDS.mailchimp}/members`,
  kit: '/subscribers',
};

interface RunResult {
  mode: string;
  seconds: number;
  requests: number;
  created: number;
  updated: number;
  removed: number;
}

async function main(): Promise<void> {
  const esp = flag('esp', 'mailchimp') as Esp;
  const size = Number(flag('size', '1000000'));
  const changed = Math.round(size / 100);
  const fake = await FakeEspServer.start({
    accounts: [{ esp, apiKey: KEYS[esp], lists: [{ id: LIST_IDS[esp], name: 'Bench', size }] }],
  });
  const database = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const queues = createTestQueuePrefix();
  const secrets = testSecrets();
  const encryption = EncryptionService.fromSettings(secrets);
  const worker = await startBenchWorker({
    databaseUrl: database.url,
    queuePrefix: queues.prefix,
    secrets,
    fake,
    extra: { SYNC_CONCURRENCY: '2', ESP_BUDGET_KIT_API_KEY_REQUESTS: '1000000' },
  });
  const db = new Client({ connectionString: database.url });
  await db.connect();

  const connection = (n: number) =>
    createBenchConnection(db, encryption, {
      esp,
      apiKey: KEYS[esp],
      publicationId: LIST_IDS[esp],
      email: `bench-${n}@example.com`,
    });

  /** A manual sync as the api records one (run + outbox event); the worker's sweeper picks it up. */
  const sync = async (owner: { userId: string; connectionId: string }): Promise<RunResult> => {
    fake.clearRequests();
    fake.clearRequests();
    const runId = await requestBenchSync(db, owner);
    const run = await awaitBenchRun(db, runId, {
      deadline: Number.POSITIVE_INFINITY,
      intervalMs: 200,
      label: 'incremental bench',
    });
    return {
      mode: run.mode,
      seconds: run.seconds,
      requests: fake.requests.filter((r) => r.path === MEMBERS_PATH[esp]).length,
      created: run.created_count,
      updated: run.updated_count,
      removed: run.removed_count,
    };
  };

  try {
    console.log(
      `Incremental sync benchmark: ${esp}, ${size.toLocaleString('en-US')} subscribers, ` +
        `${changed.toLocaleString('en-US')} (1%) changed`,
    );
    const a = await connection(1);
    const b = await connection(2);
    const [firstA, firstB] = await Promise.all([sync(a), sync(b)]);
    // Both ran at once, so the fake's count holds the requests of both.
    console.log(
      `initial full passes (A and B at once): ${firstA.seconds.toFixed(1)} s and ` +
        `${firstB.seconds.toFixed(1)} s, ${firstB.requests} requests together`,
    );

    const quarter = Math.floor(changed / 4);
    fake.mutate(esp, LIST_IDS[esp], {
      add: quarter,
      change: quarter,
      unsubscribe: quarter,
      bounce: changed - 3 * quarter,
    });
    const incremental = await sync(a);
    await db.query(
      `UPDATE esp_connections SET last_full_sync_at = now() - interval '30 days' WHERE id = $1`,
      [b.connectionId],
    );
    const full = await sync(b);

    console.log('pass         mode         requests  seconds   created  updated  removed');
    for (const [name, r] of [
      ['incremental', incremental],
      ['full', full],
    ] as const) {
      console.log(
        [
          name.padEnd(11),
          r.mode.padEnd(11),
          String(r.requests).padStart(9),
          r.seconds.toFixed(2).padStart(8),
          String(r.created).padStart(8),
          String(r.updated).padStart(8),
          String(r.removed).padStart(8),
        ].join('  '),
      );
    }
    const {
      rows: [diff],
    } = await db.query<{ differing: number }>(
      `WITH a AS (SELECT external_id, status, first_name, last_name, subscribed_at, unsubscribed_at,
                         email_hmac, metadata FROM subscribers WHERE esp_connection_id = $1),
            b AS (SELECT external_id, status, first_name, last_name, subscribed_at, unsubscribed_at,
                         email_hmac, metadata FROM subscribers WHERE esp_connection_id = $2)
       SELECT (SELECT count(*) FROM (SELECT * FROM a EXCEPT SELECT * FROM b) x)::int +
              (SELECT count(*) FROM (SELECT * FROM b EXCEPT SELECT * FROM a) y)::int AS differing`,
      [a.connectionId, b.connectionId],
    );
    const requestShare = incremental.requests / full.requests;
    const speedup = full.seconds / incremental.seconds;
    console.log(
      `${esp}: incremental/full requests ${(requestShare * 100).toFixed(2)}% (target ≤ 3%), ` +
        `full/incremental time ${speedup.toFixed(1)}× (target ≥ 20×), ` +
        `rows differing between the two connections: ${diff.differing} (target 0)`,
    );
    report({
      bench: 'incremental',
      esp,
      size,
      changed,
      incremental,
      full,
      requestShare,
      speedup,
      rowsDiffering: diff.differing,
    });
    if (incremental.mode !== 'incremental' || full.mode !== 'full' || diff.differing !== 0) {
      throw new Error('the incremental result is not the full one');
    }
  } finally {
    await db.end();
    await worker.stop('SIGTERM');
    await fake.stop();
    await database.drop();
    await queues.cleanup();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
