import { AddressInfo, connect, Socket } from 'node:net';
import { EncryptionService } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { PinoLogger } from 'nestjs-pino';
import { Pool } from 'pg';
import request, { Response } from 'supertest';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ExportDatabase } from '../src/subscribers/export-database';
import { ExportSlots } from '../src/subscribers/export-slots';
import { EXPORT_RETRY_AFTER_SECONDS } from '../src/subscribers/subscriber-export.controller';
import { TestUser } from './support/fake-esp-api';
import { insertConnection, insertSubscribers, manySubscribers } from './support/subscriber-factory';
import { startTestApi, TestApi } from './support/test-api';

/**
 * Rows of each list a test stalls: about 20 MB of JSON, several times what loopback socket
 * buffers hold (a few MB), so a client that reads nothing really stalls its download.
 */
const BULK = 100_000;
const MAIN_POOL = 3;
const EXPORT_POOL = 3;
const PER_USER = 2;
/**
 * The idle time of the replica that shows the cut-off. The first api's is far longer than the
 * suite, so its downloads stay stalled for as long as the checks made meanwhile take, however
 * slow the machine.
 */
const SHORT_IDLE_MS = 1_500;

const ABORTED = 'Subscriber export aborted: the client stopped reading';

/**
 * A chunked HTTP body decoded: its data, and whether it arrived whole (the final, empty chunk
 * came: what tells any HTTP client that a download is complete).
 */
function dechunk(raw: string): { data: string; complete: boolean } {
  let data = '';
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return { data, complete: false };
    const size = parseInt(raw.slice(at, lineEnd), 16);
    if (Number.isNaN(size)) return { data, complete: false };
    if (size === 0) return { data, complete: raw.startsWith('\r\n', lineEnd + 2) };
    const chunk = raw.slice(lineEnd + 2, lineEnd + 2 + size);
    data += chunk;
    if (chunk.length < size) return { data, complete: false };
    at = lineEnd + 2 + size + 2;
  }
}

/** A download over a raw socket that reads the response head, then nothing more until told. */
interface StalledDownload {
  /** 0 when the server closed the connection before answering anything. */
  status: number;
  socket: Socket;
  /** Whether the connection has closed (whatever the client has read of it). */
  closed(): boolean;
  /** Reads about `bytes` more (or to the end), then stops reading again. */
  readSome(bytes: number): Promise<void>;
  /** Reads on, to whatever end the server gave the transfer: the body after the head. */
  readRest(): Promise<{ data: string; complete: boolean }>;
}

/** One running api: where it listens, and its export pool and slots. */
interface Served {
  api: TestApi;
  port: number;
  exportPool: Pool;
  slots: ExportSlots;
}

async function serve(api: TestApi): Promise<Served> {
  await api.app.listen(0, '127.0.0.1');
  return {
    api,
    port: (api.app.getHttpServer().address() as AddressInfo).port,
    exportPool: (api.app.get(ExportDatabase).dataSource.driver as PostgresDriver).master as Pool,
    slots: api.app.get(ExportSlots),
  };
}

describe('export fairness: own pool, per-user and overall limits, idle cut-off (real app, Postgres, Redis)', () => {
  let main: Served;
  let quick: Served;
  let mainPool: Pool;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let aliceBulk: string;
  let aliceSmall: string;
  let aliceBroken: string;
  let bobBulk: string;
  let carolSmall: string;
  const sockets: Socket[] = [];

  /** `count` rows in one INSERT … SELECT generate_series, addresses taken from `ciphertexts`. */
  async function insertBulk(connectionId: string, count: number, ciphertexts: string[]) {
    await main.api.dataSource.query(
      `INSERT INTO subscribers
         (esp_connection_id, external_id, email_encrypted, email_hmac, email_masked, status,
          first_name, last_name, subscribed_at)
       SELECT $1, 'bulk-ext-' || n, ($2::text[])[n % cardinality($2::text[]) + 1], md5(n::text),
              'b***@example.com', 'active', 'First' || n, 'Last' || n,
              timestamptz '2024-01-01T00:00:00Z' + n * interval '1 minute'
         FROM generate_series(0, $3::int - 1) AS n`,
      [connectionId, ciphertexts, count],
    );
  }

  beforeAll(async () => {
    const api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
      env: {
        DATABASE_POOL_SIZE: String(MAIN_POOL),
        EXPORT_MAX_CONCURRENT: String(EXPORT_POOL),
        EXPORT_MAX_PER_USER: String(PER_USER),
        EXPORT_IDLE_TIMEOUT_MS: '600000',
      },
    });
    main = await serve(api);
    mainPool = (api.dataSource.driver as PostgresDriver).master as Pool;
    quick = await serve(
      await startTestApi({
        replicaOf: api,
        authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
        env: { EXPORT_IDLE_TIMEOUT_MS: String(SHORT_IDLE_MS) },
      }),
    );

    alice = await TestUser.signIn(api, 'alice@example.com', []);
    bob = await TestUser.signIn(api, 'bob@example.com', []);
    carol = await TestUser.signIn(api, 'carol@example.com', []);
    const ciphertexts = Array.from({ length: 16 }, (_, k) =>
      api.encryption.encrypt(`bulk-${k}@example.com`),
    );
    aliceBulk = await insertConnection(api, alice.id, { publicationName: 'Alice bulk' });
    await insertBulk(aliceBulk, BULK, ciphertexts);
    bobBulk = await insertConnection(api, bob.id, { publicationName: 'Bob bulk' });
    await insertBulk(bobBulk, BULK, ciphertexts);
    aliceSmall = await insertConnection(api, alice.id, { publicationName: 'Alice small' });
    await insertSubscribers(api, aliceSmall, manySubscribers(50, 'alice'));
    carolSmall = await insertConnection(api, carol.id, { publicationName: 'Carol small' });
    await insertSubscribers(api, carolSmall, manySubscribers(30, 'carol'));

    // A list whose only row the keys cannot open: its export fails at once.
    const foreign = EncryptionService.fromSettings({
      ENCRYPTION_KEY: `${api.encryption.currentKeyId}:${Buffer.alloc(32, 7).toString('base64')}`,
      HMAC_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    aliceBroken = await insertConnection(api, alice.id, { publicationName: 'Alice broken' });
    await insertBulk(aliceBroken, 1, [foreign.encrypt('unreadable@example.com')]);
    await api.dataSource.query('ANALYZE subscribers');
  }, 120_000);

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await quick?.api.close();
    await main?.api.close();
  });

  const exportPath = (id: string, format = 'json') =>
    `/esp-connections/${id}/subscribers/export?format=${format}`;

  /** An authenticated GET to `served` (supertest, body read whole). */
  const get = (served: Served, user: TestUser, path: string) =>
    request(served.api.app.getHttpServer()).get(path).set('authorization', `Bearer ${user.token}`);

  /** Starts a download of `path` as `user` that stops reading once the response head is in. */
  function stalledDownload(served: Served, user: TestUser, path: string): Promise<StalledDownload> {
    return new Promise((resolve, reject) => {
      const socket = connect(served.port, '127.0.0.1');
      sockets.push(socket);
      const chunks: Buffer[] = [];
      let isClosed = false;
      let onClosed: (() => void) | undefined;
      /** What readSome still waits for, and whom to tell once it came. */
      let wanted = 0;
      let onWanted: (() => void) | undefined;
      const body = () => {
        const whole = Buffer.concat(chunks).toString('utf8');
        return whole.includes('\r\n\r\n')
          ? dechunk(whole.slice(whole.indexOf('\r\n\r\n') + 4))
          : { data: '', complete: false };
      };
      const download = (status: number): StalledDownload => ({
        status,
        socket,
        closed: () => isClosed,
        readSome: (bytes) =>
          new Promise((done) => {
            if (isClosed) return done();
            wanted = bytes;
            onWanted = done;
            socket.resume();
          }),
        readRest: () =>
          new Promise((done) => {
            if (isClosed) done(body());
            else onClosed = () => done(body());
            socket.resume();
          }),
      });
      // A reset connection, once read up to: the client's view of a broken-off download.
      socket.on('error', () => undefined);
      socket.on('close', () => {
        isClosed = true;
        onClosed?.();
        onWanted?.();
        if (chunks.length === 0) resolve(download(0));
      });
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (chunks.length > 1) {
          wanted -= chunk.length;
          if (onWanted && wanted <= 0) {
            socket.pause();
            onWanted();
            onWanted = undefined;
          }
          return;
        }
        // The first chunk holds the head (and maybe some body): stop reading right there.
        socket.pause();
        const head = chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) reject(new Error('response head split across chunks'));
        resolve(download(Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1])));
      });
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${served.port}\r\n` +
          `Authorization: Bearer ${user.token}\r\nConnection: close\r\n\r\n`,
      );
    });
  }

  /** Export queries open in Postgres (both apps share the database), by pool. */
  async function exportQueriesByPool(): Promise<Record<string, number>> {
    const rows = await main.api.dataSource.query<{ application_name: string; count: number }[]>(
      `SELECT application_name, count(*)::int AS count FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND state <> 'idle' AND query LIKE '/* subscribers.export */%'
        GROUP BY application_name`,
    );
    return Object.fromEntries(rows.map((row) => [row.application_name, row.count]));
  }
  const exportQueries = async () =>
    Object.values(await exportQueriesByPool()).reduce((sum, count) => sum + count, 0);

  const expectRefused = (response: Response, message: RegExp) => {
    expect(response.status).toBe(429);
    expect(response.headers['retry-after']).toBe(String(EXPORT_RETRY_AFTER_SECONDS));
    expect(response.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(message) as string,
    });
  };

  /** Everything back: no export query in Postgres, no slot taken, every export connection idle. */
  async function expectAllExportsReleased(): Promise<void> {
    for (const served of [main, quick]) {
      await waitFor(async () => (await exportQueries()) === 0 && served.slots.running === 0, {
        timeoutMs: 20_000,
        intervalMs: 50,
        description: 'no export query left and every export slot free',
      });
      await waitFor(() => served.exportPool.idleCount === served.exportPool.totalCount, {
        timeoutMs: 10_000,
        intervalMs: 50,
        description: 'every export pool connection to be idle',
      });
    }
  }

  /** A download that did not arrive whole: no final chunk, and cut before its last row. */
  const expectBrokenOff = (body: { data: string; complete: boolean }) => {
    expect(body.complete).toBe(false);
    expect(body.data).not.toContain(`bulk-ext-${BULK - 1}`);
    expect(() => JSON.parse(body.data) as unknown).toThrow();
  };

  describe('downloads stalled by clients that read nothing', () => {
    let stalled: StalledDownload[] = [];

    it('leave every other route served, and answer 429 with Retry-After past the limits', async () => {
      // Alice starts as many downloads as she may, and reads none of them.
      stalled = [
        await stalledDownload(main, alice, exportPath(aliceBulk)),
        await stalledDownload(main, alice, exportPath(aliceBulk)),
      ];
      expect(stalled.map((download) => download.status)).toEqual([200, 200]);

      // Every further one of hers is refused at once, naming her limit — a burst of them too.
      const burst = await Promise.all(
        Array.from({ length: 10 }, () => get(main, alice, exportPath(aliceSmall))),
      );
      for (const response of burst) expectRefused(response, /already have 2 export\(s\) running/);

      // Bob may still start one: that fills the export pool (3)...
      stalled.push(await stalledDownload(main, bob, exportPath(bobBulk)));
      expect(stalled[2].status).toBe(200);
      // ...so Carol's export is refused for the server's limit, not hers.
      expectRefused(
        await get(main, carol, exportPath(carolSmall)),
        /server is running as many exports/,
      );

      // The stalled downloads' COPYs run on export pool connections only...
      const byPool = await exportQueriesByPool();
      expect(Object.keys(byPool)).toEqual([expect.stringMatching(/:exports$/)]);
      expect(Object.values(byPool)).toEqual([3]);

      // ...so with a main pool of 3 connections, four times as many requests at once, from
      // another user and the health check, all answer 200.
      const others = await Promise.all(
        Array.from({ length: 4 * MAIN_POOL }, (_, n) => {
          if (n % 3 === 0) return request(main.api.app.getHttpServer()).get('/health');
          if (n % 3 === 1) return get(main, carol, '/auth/me');
          return get(main, carol, `/esp-connections/${carolSmall}/subscribers?limit=10`);
        }),
      );
      expect(others.map((response) => response.status)).toEqual(others.map(() => 200));
      expect(mainPool.waitingCount).toBe(0);

      // They were stalled all along: all three COPYs still running, three slots taken.
      expect(await exportQueries()).toBe(3);
      expect(main.slots.running).toBe(3);
    });

    it('give their slots and connections back when their clients leave', async () => {
      for (const download of stalled) download.socket.destroy();
      await expectAllExportsReleased();
      for (const user of [alice, carol]) {
        const id = user === alice ? aliceSmall : carolSmall;
        expect((await get(main, user, exportPath(id))).status).toBe(200);
      }
    });
  });

  describe(`a download whose client reads nothing for EXPORT_IDLE_TIMEOUT_MS (${SHORT_IDLE_MS} ms)`, () => {
    it('is cut off, frees its connection and slot, and is logged with ids only', async () => {
      const warn = jest.spyOn(PinoLogger.prototype, 'warn');
      const stalled = [
        await stalledDownload(quick, alice, exportPath(aliceBulk)),
        await stalledDownload(quick, alice, exportPath(aliceBulk)),
      ];
      expect(stalled.map((download) => download.status)).toEqual([200, 200]);
      expectRefused(await get(quick, alice, exportPath(aliceSmall)), /already have 2/);

      await expectAllExportsReleased();
      const aborted = warn.mock.calls.filter(([, message]) => message === ABORTED);
      expect(aborted.map(([summary]) => summary)).toEqual(
        stalled.map(() => ({
          audit: 'subscribers.export',
          userId: alice.id,
          espConnectionId: aliceBulk,
          format: 'json',
          rows: expect.any(Number) as number,
          ms: expect.any(Number) as number,
          idleTimeoutMs: SHORT_IDLE_MS,
        })),
      );
      for (const [summary] of aborted) {
        // Not before its client had taken nothing for the idle time.
        expect((summary as { ms: number }).ms).toBeGreaterThanOrEqual(SHORT_IDLE_MS);
        expect((summary as { rows: number }).rows).toBeLessThan(BULK);
      }
      expect(JSON.stringify(warn.mock.calls)).not.toContain('@example.com');

      // Each client, reading on, finds its transfer broken off: never a file that looks whole.
      for (const download of stalled) {
        const body = await download.readRest();
        expect(body.data.length).toBeGreaterThan(0);
        expectBrokenOff(body);
      }
    });

    it('then lets the user export again, as many as her limit', async () => {
      const downloads = await Promise.all([
        get(quick, alice, exportPath(aliceSmall, 'csv')),
        get(quick, alice, exportPath(aliceSmall, 'csv')),
      ]);
      for (const response of downloads) {
        expect(response.status).toBe(200);
        // The header and all 50 rows.
        expect(response.text.trim().split('\r\n')).toHaveLength(51);
      }
      await expectAllExportsReleased();
    });

    it('never cuts a client that keeps reading, however long the download takes', async () => {
      const warn = jest.spyOn(PinoLogger.prototype, 'warn');
      const download = await stalledDownload(quick, alice, exportPath(aliceBulk));
      expect(download.status).toBe(200);
      // Reads 2 MB at a time, pausing for a third of the idle time in between (a slow mobile
      // client), until the download ends: ten pauses or so, together far longer than the idle
      // time, each with the download stalled on the client.
      let pauses = 0;
      while (!download.closed()) {
        await download.readSome(2 * 1024 * 1024);
        await new Promise((resolve) => setTimeout(resolve, SHORT_IDLE_MS / 3));
        pauses++;
      }
      expect(pauses).toBeGreaterThanOrEqual(5);
      expect(warn.mock.calls.filter(([, message]) => message === ABORTED)).toEqual([]);
      const { data, complete } = await download.readRest();
      expect(complete).toBe(true);
      expect(JSON.parse(data)).toHaveLength(BULK);
      await expectAllExportsReleased();
    });
  });

  it('frees the slot of a download that fails', async () => {
    const error = jest.spyOn(PinoLogger.prototype, 'error');
    // More failures in a row than her limit: each slot came back.
    for (let round = 0; round < PER_USER + 1; round++) {
      const download = await stalledDownload(main, alice, exportPath(aliceBroken));
      expect(download.status).not.toBe(429);
      expectBrokenOff(await download.readRest());
      await expectAllExportsReleased();
    }
    expect(
      error.mock.calls.filter(([, message]) => message === 'Subscriber export failed'),
    ).toHaveLength(PER_USER + 1);
    expect((await get(main, alice, exportPath(aliceSmall))).status).toBe(200);
  });
});
