/**
 * Requests per second of the subscriber list through the running api (apps/api/dist/main.js, a
 * child process of its own), with autocannon, against `GET /health` measured in the same run:
 *
 *   health  GET /health (terminus: one Postgres and one Redis round trip): the cheapest route
 *           that still touches both stores, so the baseline of "an api request";
 *   cursor  GET /esp-connections/:id/subscribers?limit=50&cursor=…, each autocannon connection
 *           walking the list by `nextCursor` from a random starting row (so the whole list is
 *           read, not only its first pages), starting over at the end;
 *   page    GET …/subscribers?limit=50&page=N, N random in 1–20 (shallow offset pages);
 *   sql     the cursor's own keyset SELECT sent by plain `pg` clients (no HTTP, no auth, no
 *           total): the floor under the cursor route.
 *
 * at a small and a large list (seeded directly: pre-encrypted rows, one INSERT … SELECT per
 * 100,000 rows). Prints req/s and latency per route and size, then the ratios: cursor/health
 * (target ≥ 0.3) and large/small (target ≥ 1/1.5: a list ten times longer serves at nearly the
 * same rate).
 *
 *   npm run bench -- api                                   200,000 vs 2,000,000 subscribers
 *   npm run bench -- api --small 20000 --large 200000 --duration 5 --json
 *   npm run bench -- api --small 20000 --large 200000 --cpu-prof /tmp/prof   (the api's profile)
 *
 * Needs Postgres and Redis (scripts/services.sh) and the api built (the npm script builds it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { EncryptionService, maskEmail, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
} from '@subscribernest/testkit';
import { Client } from 'pg';
import { cpuProfileArgs, flag } from './bench-args';

const API_ENTRY = join(__dirname, '../../apps/api/dist/main.js');
const LIMIT = 50;
const SEED_CHUNK = 100_000;
const CIPHERTEXTS = 1_000;

interface Measured {
  route: 'health' | 'cursor' | 'page' | 'sql';
  size: number | null;
  reqPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  ok: number;
  failed: number;
}

/** The opaque cursor the list gives out for "after this id" (subscriber-cursor.ts, version 1). */
const cursorAfter = (id: string) =>
  Buffer.from(JSON.stringify([1, id]), 'utf8').toString('base64url');

/** A connection with `size` subscribers, written straight into the table. */
async function seed(
  client: Client,
  encryption: EncryptionService,
  userId: string,
  size: number,
): Promise<string> {
  const {
    rows: [connection],
  } = await client.query<{ id: string }>(
    `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id,
                                  publication_name, status, sync_status)
     VALUES ($1, 'beehiiv', $2, $3, $3, 'active', 'synced') RETURNING id`,
    [userId, encryption.encrypt('bench-key'), `bench${size}`],
  );
  // Real ciphertexts of real addresses (a thousand of them, reused: a list route never decrypts,
  // only the row width matters), so rows are as wide as a sync writes them.
  const emails = Array.from({ length: CIPHERTEXTS }, (_, i) => `reader-${i}@example.com`);
  const ciphertexts = emails.map((email) => encryption.encrypt(email));
  const masked = emails.map(maskEmail);
  for (let start = 0; start < size; start += SEED_CHUNK) {
    await client.query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                email_masked, status, first_name, last_name, subscribed_at)
       SELECT $1, 'ext-' || g, ($2::text[])[1 + g % ${CIPHERTEXTS}],
              md5(g::text) || md5((g + 1)::text), ($3::text[])[1 + g % ${CIPHERTEXTS}],
              (ARRAY['active', 'active', 'active', 'unsubscribed', 'active', 'bounced'])[1 + g % 6],
              'First' || g, 'Last' || g, now() - interval '1 day'
         FROM generate_series($4::int, $5::int) AS g`,
      [connection.id, ciphertexts, masked, start, Math.min(size, start + SEED_CHUNK) - 1],
    );
  }
  return connection.id;
}

/** `n` ids spread over the connection's list, to start cursor walks from. */
async function startingIds(client: Client, connectionId: string, n: number): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT id FROM subscribers WHERE esp_connection_id = $1 ORDER BY random() LIMIT $2`,
    [connectionId, n],
  );
  return rows.map((row) => row.id);
}

function summarise(
  route: Measured['route'],
  size: number | null,
  result: autocannon.Result,
): Measured {
  return {
    route,
    size,
    reqPerSec: result['2xx'] / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok: result['2xx'],
    failed: result.non2xx + result.errors,
  };
}

async function main(): Promise<void> {
  const small = Number(flag('small', '200000'));
  const large = Number(flag('large', '2000000'));
  const duration = Number(flag('duration', '10'));
  const connections = Number(flag('connections', '10'));
  const json = process.argv.includes('--json');
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);

  const database = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const queues = createTestQueuePrefix();
  const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
  const encryption = EncryptionService.fromSettings({
    ENCRYPTION_KEY: env.ENCRYPTION_KEY,
    HMAC_KEY: env.HMAC_KEY,
  });
  const client = new Client({ connectionString: database.url });
  await client.connect();
  let api: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    const {
      rows: [user],
    } = await client.query<{ id: string }>(
      `INSERT INTO users (email) VALUES ('bench@example.com') RETURNING id`,
    );
    const token = randomBytes(32).toString('base64url');
    await client.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at)
       VALUES ($1, $2, now() + interval '1 day')`,
      [user.id, createHash('sha256').update(token).digest('hex')],
    );
    const sizes = [small, large];
    const lists = new Map<number, string>();
    for (const size of sizes) {
      const started = Date.now();
      lists.set(size, await seed(client, encryption, user.id, size));
      log(
        `seeded ${size.toLocaleString('en-US')} subscribers in ${(Date.now() - started) / 1000} s`,
      );
    }
    await client.query('VACUUM ANALYZE subscribers');

    const port = await freePort();
    api = await startService({
      entry: API_ENTRY,
      env: { ...env, PORT: String(port), LOG_LEVEL: 'warn' },
      readyUrl: `http://127.0.0.1:${port}/health`,
      nodeArgs: cpuProfileArgs(),
    });
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${token}` };
    const run = (options: Partial<autocannon.Options> & { url: string }, seconds = duration) =>
      autocannon({ connections, duration: seconds, ...options });

    // Each connection of autocannon walks from its own random row, follows nextCursor and starts
    // over from the beginning at the end of the list. A wrong answer fails the bench.
    const cursorWalk = (connectionId: string, starts: string[]): autocannon.Options['requests'] => {
      const path = `/esp-connections/${connectionId}/subscribers?limit=${LIMIT}`;
      return [
        {
          method: 'GET',
          headers,
          setupRequest: (request, context) => {
            const state = context as { cursor?: string | null };
            if (state.cursor === undefined) {
              state.cursor = cursorAfter(starts[Math.floor(Math.random() * starts.length)]);
            }
            return { ...request, path: state.cursor ? `${path}&cursor=${state.cursor}` : path };
          },
          onResponse: (status, body, context) => {
            if (status !== 200) return;
            const page = JSON.parse(body) as { nextCursor: string | null; data: unknown[] };
            (context as { cursor?: string | null }).cursor = page.nextCursor;
          },
        },
      ];
    };
    const shallowPages = (connectionId: string): autocannon.Options['requests'] => [
      {
        method: 'GET',
        headers,
        setupRequest: (request) => ({
          ...request,
          path:
            `/esp-connections/${connectionId}/subscribers?limit=${LIMIT}` +
            `&page=${1 + Math.floor(Math.random() * 20)}`,
        }),
      },
    ];

    const results: Measured[] = [];
    // Warm the api (JIT, pools) before anything is measured.
    await run({ url: `${base}/health` }, 2);
    results.push(summarise('health', null, await run({ url: `${base}/health` })));
    for (const size of sizes) {
      const connectionId = lists.get(size)!;
      const starts = await startingIds(client, connectionId, 1_000);
      const url = `${base}/esp-connections/${connectionId}/subscribers`;
      await run({ url, requests: cursorWalk(connectionId, starts) }, 2);
      results.push(
        summarise('cursor', size, await run({ url, requests: cursorWalk(connectionId, starts) })),
      );
      results.push(
        summarise('page', size, await run({ url, requests: shallowPages(connectionId) })),
      );
      results.push(
        await rawKeyset(database.url, connectionId, starts, duration, connections, size),
      );
    }
    // The baseline once more at the end: the machine is shared, its load drifts during a run.
    const healthAgain = summarise('health', null, await run({ url: `${base}/health` }));
    results.push(healthAgain);

    const health =
      results.filter((r) => r.route === 'health').reduce((sum, r) => sum + r.reqPerSec, 0) / 2;
    const of = (route: Measured['route'], size: number) =>
      results.find((r) => r.route === route && r.size === size)!;

    log('');
    log(
      `API benchmark: limit=${LIMIT}, ${connections} connections, ${duration} s per route, ` +
        `${small.toLocaleString('en-US')} vs ${large.toLocaleString('en-US')} subscribers`,
    );
    log('route    list size   req/s     p50 ms  p99 ms  ok        failed');
    for (const r of results) {
      log(
        [
          r.route.padEnd(7),
          (r.size === null ? '-' : String(r.size)).padStart(10),
          r.reqPerSec.toFixed(0).padStart(8),
          (r.p50Ms === null ? '-' : String(r.p50Ms)).padStart(7),
          (r.p99Ms === null ? '-' : String(r.p99Ms)).padStart(7),
          String(r.ok).padStart(9),
          String(r.failed).padStart(7),
        ].join('  '),
      );
    }
    const ratios = {
      health: Math.round(health),
      cursorOverHealth: sizes.map((size) => of('cursor', size).reqPerSec / health),
      pageOverHealth: sizes.map((size) => of('page', size).reqPerSec / health),
      cursorOverSql: sizes.map((size) => of('cursor', size).reqPerSec / of('sql', size).reqPerSec),
      largeOverSmall: {
        cursor: of('cursor', large).reqPerSec / of('cursor', small).reqPerSec,
        page: of('page', large).reqPerSec / of('page', small).reqPerSec,
        sql: of('sql', large).reqPerSec / of('sql', small).reqPerSec,
      },
    };
    const two = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ');
    log('');
    log(`health req/s (mean of the runs before and after): ${ratios.health}`);
    log(`cursor/health at ${small} / ${large}: ${two(ratios.cursorOverHealth)}   (target ≥ 0.3)`);
    log(`page/health   at ${small} / ${large}: ${two(ratios.pageOverHealth)}`);
    log(`cursor/sql    at ${small} / ${large}: ${two(ratios.cursorOverSql)}`);
    log(
      `large/small (${large}/${small}): cursor ${ratios.largeOverSmall.cursor.toFixed(2)}, ` +
        `page ${ratios.largeOverSmall.page.toFixed(2)}, sql ${ratios.largeOverSmall.sql.toFixed(2)}` +
        '   (target: cursor ≥ 0.67, within 1.5×)',
    );
    const failed = results.reduce((sum, r) => sum + r.failed, 0);
    if (json) process.stdout.write(`${JSON.stringify({ small, large, results, ratios })}\n`);
    if (failed > 0) throw new Error(`${failed} requests failed (non-2xx or connection errors)`);
  } finally {
    await api?.stop('SIGTERM');
    await client.end();
    await database.drop();
    await queues.cleanup();
  }
}

/**
 * The raw baseline: `connections` plain `pg` clients sending the list's keyset SELECT (the same
 * columns, order and limit as the route, by connection and `id >`), each walking from its own
 * random start, for `seconds`.
 */
async function rawKeyset(
  url: string,
  connectionId: string,
  starts: string[],
  seconds: number,
  connections: number,
  size: number,
): Promise<Measured> {
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  const deadline = Date.now() + seconds * 1000;
  let queries = 0;
  const started = process.hrtime.bigint();
  try {
    await Promise.all(
      clients.map(async (c) => {
        let after: string | null = starts[Math.floor(Math.random() * starts.length)];
        while (Date.now() < deadline) {
          const columns = `SELECT id, esp_connection_id, email_masked, first_name, last_name,
                                  status, subscribed_at, unsubscribed_at FROM subscribers`;
          const result: { rows: { id: string }[] } = await c.query<{ id: string }>(
            after
              ? {
                  name: 'keyset-after',
                  text: `${columns} WHERE esp_connection_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
                  values: [connectionId, after, LIMIT + 1],
                }
              : {
                  name: 'keyset-first',
                  text: `${columns} WHERE esp_connection_id = $1 ORDER BY id LIMIT $2`,
                  values: [connectionId, LIMIT + 1],
                },
          );
          queries++;
          const rows = result.rows;
          after = rows.length > LIMIT ? rows[LIMIT - 1].id : null;
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    route: 'sql',
    size,
    reqPerSec: queries / elapsed,
    p50Ms: null,
    p99Ms: null,
    ok: queries,
    failed: 0,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
