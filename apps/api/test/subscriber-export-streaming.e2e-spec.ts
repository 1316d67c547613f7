import { get, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EncryptionService } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { PinoLogger } from 'nestjs-pino';
import { Pool } from 'pg';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ExportDatabase } from '../src/subscribers/export-database';
import { exportSelect } from '../src/subscribers/subscriber.repository';
import { TestUser } from './support/fake-esp-api';
import { insertConnection } from './support/subscriber-factory';
import { startTestApi, TestApi } from './support/test-api';

// A real gc() for heap samples that hold only what is still referenced.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const heapMb = () => {
  gc();
  return Math.round((process.memoryUsage().heapUsed / 1024 / 1024) * 10) / 10;
};

const HEADER = 'email,firstName,lastName,status,subscribedAt,unsubscribedAt,externalId';
const BULK = 100_000;
/** Distinct addresses (each encrypted once) the bulk rows take in turn. */
const ADDRESSES = 64;
const bulkEmail = (n: number) => `bulk-${n % ADDRESSES}@example.com`;
/**
 * Heap an export may add, whatever its size: far below what the whole list takes (about 84 MB,
 * measured in the same run). Generous, because the client reading the download and the sockets
 * between them live in this process too, and a loaded machine lets them buffer more.
 */
const HEAP_GROWTH_LIMIT_MB = 24;

let bulkLists = 0;

/**
 * `count` subscribers of a connection in one INSERT … SELECT generate_series: row `n` has
 * external id `bulk-ext-<n>` and the address `ciphertexts[n % length]`, and an id that sorts as
 * `n` does (so a test knows which row the export reaches when).
 */
async function insertBulk(
  api: TestApi,
  connectionId: string,
  count: number,
  ciphertexts: string[],
): Promise<void> {
  const list = ++bulkLists;
  await api.dataSource.query(
    `INSERT INTO subscribers
       (id, esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
        first_name, last_name, subscribed_at)
     SELECT ('00000000-0000-4000-' || lpad(to_hex($4::int), 4, '0') || '-'
               || lpad(to_hex(n), 12, '0'))::uuid, $1,
            'bulk-ext-' || n, ($2::text[])[n % cardinality($2::text[]) + 1],
            md5(n::text), 'b***@example.com', 'active', 'First' || n, 'Last' || n,
            timestamptz '2024-01-01T00:00:00Z' + n * interval '1 minute'
       FROM generate_series(0, $3::int - 1) AS n`,
    [connectionId, ciphertexts, count, 0x8000 + list],
  );
}

interface Download {
  status: number;
  rows: number;
  /** Whether the body arrived whole (the final chunk of a chunked response). */
  complete: boolean;
  /** A transport error (the server reset the connection, ...). */
  error?: NodeJS.ErrnoException;
}

describe('subscriber export streamed from one COPY (real app, Postgres, Redis)', () => {
  let api: TestApi;
  let alice: TestUser;
  let port: number;
  let bulkId: string;
  let smallId: string;
  let pool: Pool;
  const SMALL = 100;

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
    await api.app.listen(0, '127.0.0.1');
    port = (api.app.getHttpServer().address() as AddressInfo).port;
    // Exports run on a pool of their own: the one whose connections they hold and give back.
    pool = (api.app.get(ExportDatabase).dataSource.driver as PostgresDriver).master as Pool;
    alice = await TestUser.signIn(api, 'alice@example.com', []);
    bulkId = await insertConnection(api, alice.id, { publicationName: 'Bulk' });
    const ciphertexts = Array.from({ length: ADDRESSES }, (_, k) =>
      api.encryption.encrypt(bulkEmail(k)),
    );
    await insertBulk(api, bulkId, BULK, ciphertexts);
    smallId = await insertConnection(api, alice.id, { publicationName: 'Small' });
    await insertBulk(api, smallId, SMALL, ciphertexts);
    await api.dataSource.query('ANALYZE subscribers');
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await api?.close();
  });

  const exportPath = (id: string, format = 'csv') =>
    `/esp-connections/${id}/subscribers/export?format=${format}`;

  /** Starts a download over a plain socket (nothing buffers the body on the way). */
  function request(path: string, onResponse: (response: IncomingMessage) => void) {
    return get(
      { host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${alice.token}` } },
      onResponse,
    );
  }

  /**
   * Downloads an export without keeping it, reading it as CSV lines: `onLine` sees each line
   * (header included) and the number of rows received so far.
   */
  function downloadOf(
    path: string,
    onLine: (line: string, rows: number) => void = () => undefined,
  ): Promise<Download> {
    return new Promise((resolve) => {
      let rows = -1;
      let status = 0;
      let rest = '';
      const call = request(path, (response) => {
        status = response.statusCode ?? 0;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\r\n');
          rest = lines.pop()!;
          for (const line of lines) onLine(line, ++rows);
        });
        response.on('end', () => resolve({ status, rows, complete: response.complete }));
        response.on('error', (error: NodeJS.ErrnoException) =>
          resolve({ status, rows, complete: response.complete, error }),
        );
      });
      call.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ status, rows: Math.max(rows, 0), complete: false, error }),
      );
    });
  }

  /**
   * What the bulk list takes once loaded (raw rows, addresses decrypted), measured in this run:
   * the least an export that is not streamed would need.
   */
  async function heapOfWholeList(): Promise<number> {
    const before = heapMb();
    const rows = await api.dataSource.query<{ email_encrypted: string }[]>(
      exportSelect('$1', '$2'),
      [bulkId, alice.id],
    );
    const whole = rows.map((row) => ({
      ...row,
      email: api.encryption.decrypt(row.email_encrypted),
    }));
    const taken = heapMb() - before;
    expect(whole).toHaveLength(BULK);
    return taken;
  }

  /** Export queries still running (a COPY waiting on its reader included) in the test database. */
  async function activeExportQueries(): Promise<number> {
    const [{ count }] = await api.dataSource.query<{ count: number }[]>(
      `SELECT count(*)::int AS count FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND state <> 'idle' AND query LIKE '/* subscribers.export */%'`,
    );
    return count;
  }

  /** No export query left in Postgres, and every pooled connection back and idle. */
  async function expectQueryEndedAndConnectionReleased(): Promise<void> {
    await waitFor(async () => (await activeExportQueries()) === 0 || undefined, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: 'no export query to remain active in pg_stat_activity',
    });
    await waitFor(() => pool.idleCount === pool.totalCount && pool.waitingCount === 0, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: 'every pooled connection to be idle',
    });
  }

  it(`streams ${BULK.toLocaleString('en')} rows with a heap that does not grow with the row count`, async () => {
    const baseline = heapMb();
    const samples: { rows: number; heapMb: number }[] = [];
    const sampleAt = new Set([BULK / 10, BULK / 2, BULK]);
    const wrong: string[] = [];
    const download = await downloadOf(exportPath(bulkId), (line, rows) => {
      if (rows === 0) {
        if (line !== HEADER) wrong.push(line);
        return;
      }
      const n = rows - 1;
      const cells = line.split(',');
      // Rows come in id order, which is n's order; each address decrypts to the one stored.
      if (
        cells[0] !== bulkEmail(n) ||
        cells[1] !== `First${n}` ||
        cells[6] !== `bulk-ext-${n}` ||
        cells[4] !== new Date(Date.UTC(2024, 0, 1) + n * 60_000).toISOString()
      ) {
        if (wrong.length < 5) wrong.push(line);
      }
      if (sampleAt.has(rows)) samples.push({ rows, heapMb: heapMb() });
    });

    const wholeListMb = await heapOfWholeList();
    const growth = Math.max(...samples.map((sample) => sample.heapMb)) - baseline;
    const streamed = samples[samples.length - 1].heapMb - samples[0].heapMb;
    process.stdout.write(
      `export of ${BULK} rows: heap baseline ${baseline} MB; ` +
        samples.map((s) => `${s.rows} rows → ${s.heapMb} MB`).join(', ') +
        `; growth ${growth.toFixed(1)} MB (10% → 100%: ${streamed.toFixed(1)} MB); ` +
        `the whole list loaded takes ${wholeListMb.toFixed(1)} MB\n`,
    );
    expect(download).toEqual({ status: 200, rows: BULK, complete: true });
    expect(wrong).toEqual([]);
    expect(samples.map((sample) => sample.rows)).toEqual([BULK / 10, BULK / 2, BULK]);
    // The bound means something: loading the list would exceed it by far.
    expect(wholeListMb).toBeGreaterThan(HEAP_GROWTH_LIMIT_MB * 2);
    expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT_MB);
    expect(Math.abs(streamed)).toBeLessThan(HEAP_GROWTH_LIMIT_MB);
    await expectQueryEndedAndConnectionReleased();
  });

  it.each(['csv', 'json', 'xlsx'])(
    'stops the query when the client leaves mid-way (%s) and releases its connection',
    async (format) => {
      const info = jest.spyOn(PinoLogger.prototype, 'info');
      await new Promise<void>((resolve, reject) => {
        const call = request(exportPath(bulkId, format), (response) => {
          expect(response.statusCode).toBe(200);
          response.once('data', () => {
            // The client reads no further: the export waits on it, its COPY running.
            response.pause();
            activeExportQueries().then((active) => {
              expect(active).toBe(1);
              call.destroy();
              resolve();
            }, reject);
          });
        });
        call.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET') reject(error);
        });
      });
      await expectQueryEndedAndConnectionReleased();

      // (An earlier test's export may log its end late: only this one's count.)
      const logged = (message: string) =>
        info.mock.calls.filter(
          ([summary, text]) =>
            text === message && (summary as { espConnectionId: string }).espConnectionId === bulkId,
        );
      const [[summary]] = await waitFor(() => {
        const calls = logged('Subscriber export stopped: the client disconnected');
        return calls.length > 0 && calls;
      });
      expect(summary).toMatchObject({ audit: 'subscribers.export', format });
      expect((summary as { rows: number }).rows).toBeLessThan(BULK);
      expect(logged('Subscribers exported')).toEqual([]);

      // The app keeps serving exports on the freed connection.
      expect(await downloadOf(exportPath(smallId))).toEqual({
        status: 200,
        rows: SMALL,
        complete: true,
      });
    },
  );

  it('breaks the download off when Postgres ends the export’s backend mid-way, and frees its connection', async () => {
    const error = jest.spyOn(PinoLogger.prototype, 'error');
    let terminated: Promise<number> | undefined;
    const download = await downloadOf(exportPath(bulkId), (_line, rows) => {
      if (rows !== 1) return;
      terminated = api.dataSource
        .query<{ count: number }[]>(
          `SELECT count(pg_terminate_backend(pid))::int AS count FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE '/* subscribers.export */%'`,
        )
        .then(([{ count }]) => count);
    });
    expect(await terminated).toBe(1);

    expect(download.status).toBe(200);
    expect(download.complete).toBe(false);
    expect(download.rows).toBeLessThan(BULK);
    await expectQueryEndedAndConnectionReleased();
    const [[summary]] = await waitFor(() => {
      const calls = error.mock.calls.filter(
        ([, message]) => message === 'Subscriber export failed',
      );
      return calls.length > 0 && calls;
    });
    expect(summary).toMatchObject({ audit: 'subscribers.export', espConnectionId: bulkId });
    expect((summary as { rows: number }).rows).toBeLessThan(BULK);

    // The export pool replaces the lost connection: the next download is whole.
    expect(await downloadOf(exportPath(smallId))).toEqual({
      status: 200,
      rows: SMALL,
      complete: true,
    });
  });

  describe('a row the keys cannot decrypt', () => {
    let brokenId: string;
    let firstBrokenId: string;
    const BAD_AT = 3_000;
    let foreignCiphertext: string;

    beforeAll(async () => {
      // Encrypted under a key of the same id but other bytes: its tag does not verify.
      const foreignKey = `${api.encryption.currentKeyId}:${Buffer.alloc(32, 7).toString('base64')}`;
      const foreign = EncryptionService.fromSettings({
        ENCRYPTION_KEY: foreignKey,
        HMAC_KEY: Buffer.alloc(32, 1).toString('base64'),
      });
      foreignCiphertext = foreign.encrypt('leaked-address@example.com');
      brokenId = await insertConnection(api, alice.id, { publicationName: 'Broken' });
      await insertBulk(
        api,
        brokenId,
        5_000,
        Array.from({ length: 8 }, (_, k) => api.encryption.encrypt(bulkEmail(k))),
      );
      await api.dataSource.query(
        `UPDATE subscribers SET email_encrypted = $3
          WHERE esp_connection_id = $1 AND external_id = $2`,
        [brokenId, `bulk-ext-${BAD_AT}`, foreignCiphertext],
      );
      firstBrokenId = await insertConnection(api, alice.id, { publicationName: 'First broken' });
      await insertBulk(api, firstBrokenId, 1, [foreignCiphertext]);
    });

    it.each(['csv', 'json', 'xlsx'])(
      'breaks the download off (%s, never a complete file) and logs no address or key',
      async (format) => {
        const error = jest.spyOn(PinoLogger.prototype, 'error');
        const lines: string[] = [];
        const download = await downloadOf(exportPath(brokenId, format), (line) => lines.push(line));

        expect(download.status).toBe(200);
        expect(download.complete).toBe(false);
        expect(download.error).toBeDefined();
        // What came before the bad row may have arrived; never the bad row or what follows.
        if (format === 'csv') expect(download.rows).toBeLessThanOrEqual(BAD_AT);
        const after = lines.filter((line) => Number(/bulk-ext-(\d+)/.exec(line)?.[1]) >= BAD_AT);
        expect(after).toEqual([]);
        await expectQueryEndedAndConnectionReleased();

        const failed = error.mock.calls.find(
          ([, message]) => message === 'Subscriber export failed',
        );
        expect(failed).toBeDefined();
        expect(failed![0]).toMatchObject({
          audit: 'subscribers.export',
          userId: alice.id,
          espConnectionId: brokenId,
          format,
          rows: BAD_AT,
          err: { type: 'DecryptionError' },
        });
        const logged = JSON.stringify(error.mock.calls);
        expect(logged).not.toContain('@example.com');
        expect(logged).not.toContain(foreignCiphertext);
        for (const secret of [api.env.ENCRYPTION_KEY, api.env.HMAC_KEY]) {
          expect(logged).not.toContain(secret.split(':').pop()!);
        }
      },
    );

    it.each(['csv', 'json', 'xlsx'])(
      'fails the request (%s) when the very first row cannot be decrypted',
      async (format) => {
        const download = await downloadOf(exportPath(firstBrokenId, format));
        expect(download.complete).toBe(false);
        expect(download.error).toBeDefined();
        await expectQueryEndedAndConnectionReleased();
        // The app keeps serving exports.
        expect(await downloadOf(exportPath(smallId))).toMatchObject({
          rows: SMALL,
          complete: true,
        });
      },
    );
  });
});
