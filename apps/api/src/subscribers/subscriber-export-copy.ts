import { Transform, TransformCallback } from 'node:stream';
import type { Pool, PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { DataSource } from 'typeorm';

/** What COPY's text format writes after a backslash, and the character it stands for. */
const COPY_ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/**
 * One field of a `COPY … TO STDOUT` text row: `\N` is NULL; a backslash escapes the character
 * after it (`\\`, and `\n`, `\t`… for the control characters COPY writes that way). Most fields
 * hold no backslash and are returned as they are.
 */
export function copyTextField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/gs, (_, next: string) => COPY_ESCAPES[next] ?? next);
}

const NEWLINE = 0x0a;

/**
 * COPY text in (Buffers, cut anywhere, even inside a UTF-8 character), rows out: one array of
 * `toRow(fields)` per chunk (object mode). A row always ends at a raw newline, since COPY
 * escapes the newlines of values, so a chunk is decoded up to its last newline and the rest is
 * kept for the next one.
 */
export class CopyTextRows<Row> extends Transform {
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly toRow: (fields: (string | null)[]) => Row) {
    // One batch of rows buffered for the reader; the next chunk is parsed when it is taken.
    super({ readableObjectMode: true, readableHighWaterMark: 1 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.rest = Buffer.concat([this.rest, chunk]);
      callback();
      return;
    }
    const head = chunk.subarray(0, last);
    const whole = this.rest.length > 0 ? Buffer.concat([this.rest, head]) : head;
    this.rest = Buffer.from(chunk.subarray(last + 1));
    const rows = whole
      .toString('utf8')
      .split('\n')
      .map((line) => this.toRow(line.split('\t').map(copyTextField)));
    callback(null, rows);
  }

  override _flush(callback: TransformCallback) {
    callback(this.rest.length > 0 ? new Error('COPY output ended inside a row') : null);
  }
}

/**
 * Runs `statement` (a `COPY (…) TO STDOUT`) on a connection of its own from `dataSource`'s pool
 * (for exports, their own small pool: ExportDatabase) and returns its rows, parsed by `toRow`, as
 * an object stream of batches (one per chunk Postgres sent). Postgres writes COPY's rows as fast
 * as the socket takes them, with no round trip per batch as a cursor's FETCH has, and it is held
 * back by TCP: this reads the socket only as fast as its own reader takes batches (pg-copy-streams
 * pauses it), so a slow client slows the query and nothing buffers the list.
 *
 * The connection goes back to the pool once the stream closes. After the last row it is reused.
 * Cut short (a client that left, an error, a lost connection) it is discarded instead and its
 * socket destroyed: Postgres, blocked writing rows no one will read, gets a reset and ends the
 * COPY (a cancel request would wait for the blocked write to finish first). COPY's statement runs in one
 * snapshot from its first row to its last.
 */
export async function openCopyRows<Row>(
  dataSource: DataSource,
  statement: string,
  toRow: (fields: (string | null)[]) => Row,
): Promise<CopyTextRows<Row>> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const client: PoolClient = await pool.connect();
  const copy = client.query(copyTo(statement));
  const rows = new CopyTextRows(toRow);
  let copied = false;
  copy.once('end', () => {
    copied = true;
  });
  // pg errors the COPY stream itself when its connection goes (even after this stream is done
  // with it), so it always has a listener.
  copy.on('error', (error: Error) => rows.destroy(error));
  copy.pipe(rows);
  rows.once('close', () => {
    copy.unpipe(rows);
    // Once COPY is done, pg has the connection back at a query boundary, whatever the reader did.
    if (copied) {
      client.release();
      return;
    }
    // Dropped from the pool: pg ends a client whose query is still running by destroying its
    // socket, which is what stops Postgres (see above).
    client.release(new Error('export COPY cut short'));
  });
  return rows;
}
