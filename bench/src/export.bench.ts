/**
 * Exports a connection's subscribers through the running api (apps/api/dist/main.js, a child
 * process of its own) at two list sizes, and measures the same rows read by a raw baseline:
 *
 *   raw  one `COPY (SELECT …) TO STDOUT` of the export's columns in its order (pg-copy-streams),
 *        decrypting each address and joining a naive CSV line (no quoting, no HTTP): the least
 *        any exporter has to do;
 *   api  GET /esp-connections/:id/subscribers/export?format=… downloaded over HTTP.
 *
 * Each api export runs in a freshly started api, so its peak RSS (VmHWM) belongs to that export
 * alone. Prints rows/s and peak RSS for both, api/raw throughput, and the api's peak RSS at the
 * large size over the small one: an export that streams stays ≈ 1.0 whatever the row count.
 *
 *   npm run bench -- export                                     csv, 200,000 vs 1,000,000 rows
 *   npm run bench -- export --format all --small 20000 --large 200000
 *
 * Needs Postgres and Redis (scripts/services.sh) and the api built (the npm script builds it).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { EncryptionService, maskEmail, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
} from '@subscribernest/testkit';
import { Client } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { cpuProfileArgs, flag, mb, rssOf } from './bench-args';
import { report } from './bench-report';

const FORMATS = ['csv', 'json', 'xlsx'] as const;
type Format = (typeof FORMATS)[number];
const API_ENTRY = join(__dirname, '../../apps/api/dist/main.js');
const STATUSES = ['active', 'active', 'active', 'unsubscribed', 'active', 'bounced'];

interface RawResult {
  rows: number;
  seconds: number;
  maxRssMb: number;
}

interface ApiResult {
  rows: number;
  bytes: number;
  seconds: number;
  idleRssMb: number;
  peakRssMb: number;
}

// ---------------------------------------------------------------------------------------------
// Child: the raw baseline.

async function rawPhase(): Promise<void> {
  const client = new Client({ connectionString: flag('database-url', '') });
  await client.connect();
  const encryption = EncryptionService.fromSettings({
    ENCRYPTION_KEY: flag('encryption-key', ''),
    HMAC_KEY: flag('hmac-key', ''),
  });
  const connectionId = flag('connection', '');
  let rows = 0;
  let bytes = 0;
  let rest = '';
  const started = process.hrtime.bigint();
  // The export's own query and order, as COPY's text rows: the address first, decrypted, then
  // the other columns joined as they come (tabs to commas; no quoting, no NULL handling).
  const copy = client.query(
    copyTo(
      `COPY (SELECT email_encrypted, first_name, last_name, status, subscribed_at,
                    unsubscribed_at, external_id
               FROM subscribers WHERE esp_connection_id = '${connectionId}' ORDER BY id)
       TO STDOUT`,
    ),
  );
  for await (const chunk of copy as AsyncIterable<Buffer>) {
    const lines = (rest + chunk.toString('utf8')).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const tab = line.indexOf('\t');
      const csv = `${encryption.decrypt(line.slice(0, tab))},${line.slice(tab + 1).replaceAll('\t', ',')}`;
      bytes += csv.length + 2;
      rows++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.end();
  const output: RawResult = {
    rows,
    seconds,
    maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
  };
  process.stdout.write(`${JSON.stringify({ ...output, bytes })}\n`);
}

function runRaw(args: string[]): Promise<RawResult> {
  const child = spawn(process.execPath, [__filename, '--phase', 'raw', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) =>
      resolve(JSON.parse(line) as RawResult),
    );
    child.once('exit', (code) => code !== 0 && reject(new Error(`raw phase exited with ${code}`)));
  });
}

// ---------------------------------------------------------------------------------------------
// Parent: seed, then raw and api per size and format.

async function seed(
  client: Client,
  encryption: EncryptionService,
  userId: string,
  name: string,
  size: number,
): Promise<string> {
  const {
    rows: [connection],
  } = await client.query<{ id: string }>(
    `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id,
                                  publication_name, status, sync_status)
     VALUES ($1, 'beehiiv', $2, $3, $3, 'active', 'synced') RETURNING id`,
    [userId, encryption.encrypt('bench-key'), name],
  );
  for (let start = 0; start < size; start += 5_000) {
    const n = Array.from({ length: Math.min(5_000, size - start) }, (_, i) => start + i);
    const emails = n.map((i) => `${name}-reader-${i}@example.com`);
    await client.query(
      `INSERT INTO subscribers (esp_connection_id, external_id, email_encrypted, email_hmac,
                                email_masked, status, first_name, last_name, subscribed_at)
       SELECT $1, t.*, now() - interval '1 day'
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[]) AS t`,
      [
        connection.id,
        n.map((i) => `ext-${i}`),
        emails.map((email) => encryption.encrypt(email)),
        emails.map((email) => encryption.emailHmac(email)),
        emails.map(maskEmail),
        n.map((i) => STATUSES[i % STATUSES.length]),
        n.map((i) => `First${i}`),
        n.map((i) => `Last${i}`),
      ],
    );
  }
  await client.query('ANALYZE subscribers');
  return connection.id;
}

async function apiExport(
  env: Record<string, string>,
  token: string,
  connectionId: string,
  format: Format,
): Promise<ApiResult> {
  const port = await freePort();
  const api = await startService({
    entry: API_ENTRY,
    env: { ...env, PORT: String(port), LOG_LEVEL: 'warn' },
    nodeArgs: cpuProfileArgs(),
    readyUrl: `http://127.0.0.1:${port}/health`,
  });
  try {
    const idle = rssOf(api.pid);
    const started = process.hrtime.bigint();
    const response = await fetch(
      `http://127.0.0.1:${port}/esp-connections/${connectionId}/subscribers/export?format=${format}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (response.status !== 200 || !response.body) throw new Error(`export: ${response.status}`);
    let bytes = 0;
    let newlines = 0;
    for await (const chunk of response.body) {
      bytes += chunk.length;
      if (format === 'xlsx') continue;
      // indexOf, not a loop over the bytes: the download's reader must cost next to nothing.
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) newlines++;
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // CSV: a header line, then a line per row; JSON: `[`, a line per row, `]`; XLSX: not counted.
    const rows = format === 'csv' ? newlines - 1 : format === 'json' ? newlines - 2 : NaN;
    return { rows, bytes, seconds, idleRssMb: idle.now, peakRssMb: rssOf(api.pid).peak };
  } finally {
    await api.stop('SIGTERM');
  }
}

async function main(): Promise<void> {
  const small = Number(flag('small', '200000'));
  const large = Number(flag('large', '1000000'));
  const which = flag('format', 'csv');
  const formats: Format[] = which === 'all' ? [...FORMATS] : [which as Format];
  const database = await createTestDatabase({ prefix: 'sn_bench', setup: runMigrations });
  const queues = createTestQueuePrefix();
  const env = serviceEnv({ databaseUrl: database.url, queuePrefix: queues.prefix });
  const encryption = EncryptionService.fromSettings({
    ENCRYPTION_KEY: env.ENCRYPTION_KEY,
    HMAC_KEY: env.HMAC_KEY,
  });
  const client = new Client({ connectionString: database.url });
  await client.connect();
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
    const connections = new Map<number, string>();
    for (const size of sizes)
      connections.set(size, await seed(client, encryption, user.id, `bench${size}`, size));

    console.log(
      `Export benchmark: ${small.toLocaleString('en-US')} vs ${large.toLocaleString('en-US')} subscribers`,
    );
    const figures: Record<string, Record<number, unknown>> = {};
    console.log('format  phase  rows        seconds  rows/s     peak RSS MB  idle RSS MB  MB out');
    for (const format of formats) {
      const results = new Map<number, { raw: RawResult; api: ApiResult }>();
      for (const size of sizes) {
        const raw = await runRaw([
          '--database-url',
          database.url,
          '--encryption-key',
          env.ENCRYPTION_KEY,
          '--hmac-key',
          env.HMAC_KEY,
          '--connection',
          connections.get(size)!,
        ]);
        const api = await apiExport(env, token, connections.get(size)!, format);
        if (raw.rows !== size) throw new Error(`raw read ${raw.rows} rows, expected ${size}`);
        if (format !== 'xlsx' && api.rows !== size) {
          throw new Error(`${format} export had ${api.rows} rows, expected ${size}`);
        }
        results.set(size, { raw, api });
        for (const [phase, r] of [
          ['raw', raw],
          ['api', api],
        ] as const) {
          const peak = 'peakRssMb' in r ? r.peakRssMb : r.maxRssMb;
          console.log(
            [
              format.padEnd(6),
              phase.padEnd(5),
              String(size).padStart(10),
              r.seconds.toFixed(2).padStart(8),
              String(Math.round(size / r.seconds)).padStart(9),
              String(peak).padStart(12),
              ('idleRssMb' in r ? String(r.idleRssMb) : '-').padStart(11),
              ('bytes' in r ? String(mb(r.bytes)) : '-').padStart(7),
            ].join('  '),
          );
        }
      }
      const s = results.get(small)!;
      const l = results.get(large)!;
      figures[format] = Object.fromEntries(results);
      console.log(
        `${format}: api/raw throughput ${(large / l.api.seconds / (large / l.raw.seconds)).toFixed(2)} ` +
          `at ${large}; api peak RSS ${large}/${small} ${(l.api.peakRssMb / s.api.peakRssMb).toFixed(2)} ` +
          `(${s.api.peakRssMb} → ${l.api.peakRssMb} MB; flat ≈ 1), growth over idle ` +
          `${(s.api.peakRssMb - s.api.idleRssMb).toFixed(1)} → ${(l.api.peakRssMb - l.api.idleRssMb).toFixed(1)} MB; ` +
          `raw peak RSS ${large}/${small} ${(l.raw.maxRssMb / s.raw.maxRssMb).toFixed(2)}`,
      );
    }
    report({ bench: 'export', small, large, formats: figures });
  } finally {
    await client.end();
    await database.drop();
    await queues.cleanup();
  }
}

const entry = process.argv.includes('--phase') ? rawPhase : main;
entry().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
