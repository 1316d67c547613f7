import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import QueryStream from 'pg-query-stream';
import { DataSource } from 'typeorm';

/** The part of pg-cursor this file calls (pg-query-stream types its cursor as `any`). */
interface PgCursor {
  read(rows: number, callback: (error: Error | undefined, rows: unknown[]) => void): void;
  close(callback: (error?: Error | null) => void): void;
}

/**
 * pg-query-stream's QueryStream, in batches and told when its connection breaks.
 *
 * Each chunk is one fetch of the cursor, an array of up to `batchSize` rows, and the stream
 * holds at most one while its reader is busy: the stages after it work a batch per call
 * instead of paying a stream hop per row (on a large export, that per-row cost was as much as
 * the decryption). QueryStream closes its cursor when destroyed and waits for Postgres to
 * confirm; on a connection that has gone that confirmation never comes, so this stream then
 * ends at once instead of hanging for good.
 */
class ExportCursorStream extends QueryStream {
  private connectionLost = false;
  private pendingClose: (() => void) | undefined;

  constructor(
    text: string,
    values: unknown[],
    private readonly batchSize: number,
    client: PoolClient,
  ) {
    // highWaterMark counts chunks, here batches: one buffered, the next one fetched on demand.
    super(text, values, { highWaterMark: 1 });
    const lost = () => {
      this.connectionLost = true;
      this.pendingClose?.();
    };
    client.on('error', lost);
    client.on('end', lost);
    this.once('close', () => {
      client.off('error', lost);
      client.off('end', lost);
    });
  }

  override _read(): void {
    (this.cursor as PgCursor).read(this.batchSize, (error, rows) => {
      if (error) {
        this.destroy(error);
        return;
      }
      if (rows.length > 0) this.push(rows);
      if (rows.length < this.batchSize) this.push(null);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.connectionLost) {
      callback(error);
      return;
    }
    let settled = false;
    const settle = (closeError?: Error | null) => {
      if (settled) return;
      settled = true;
      this.pendingClose = undefined;
      callback(closeError ?? error);
    };
    this.pendingClose = () => settle();
    // Closes the portal and syncs; calls back once Postgres is ready for the next query.
    (this.cursor as PgCursor).close(settle);
  }
}

/**
 * Runs `text` as a server-side cursor on a connection of its own from `dataSource`'s pool (for
 * exports, their own small pool: ExportDatabase), and returns its rows as an object stream of
 * batches (arrays of up to `batchSize` rows), each fetched only when its reader wants more
 * (a slow reader pauses the query in Postgres; nothing reads ahead). The connection goes back
 * to the pool once the cursor is closed, however the stream ends: after its last row, when
 * destroyed (a client that left), or on an error; a connection that broke is discarded by the
 * pool instead. Outside a transaction of its own, the cursor lives in Postgres' implicit
 * transaction of the statement: it sees one snapshot from its first row to its last.
 */
export async function openCursor<Row>(
  dataSource: DataSource,
  text: string,
  values: unknown[],
  batchSize: number,
): Promise<Readable & AsyncIterable<Row[]>> {
  const runner = dataSource.createQueryRunner('master');
  let client: PoolClient;
  try {
    client = (await runner.connect()) as PoolClient;
  } catch (error) {
    await runner.release();
    throw error;
  }
  const stream = new ExportCursorStream(text, values, batchSize, client);
  stream.once('close', () => void runner.release());
  client.query(stream);
  return stream;
}
