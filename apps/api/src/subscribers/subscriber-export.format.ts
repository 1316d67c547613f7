import { EventEmitter } from 'node:events';
import { Duplex, PassThrough, Transform, TransformCallback } from 'node:stream';
import { SubscriberStatus } from '@subscribernest/shared';
import { stream as excelStream } from 'exceljs';

export const EXPORT_FORMATS = ['csv', 'json', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One exported subscriber, address decrypted. */
export interface ExportRow {
  email: string;
  firstName: string | null;
  lastName: string | null;
  status: SubscriberStatus;
  subscribedAt: string | null;
  unsubscribedAt: string | null;
  externalId: string;
}

/** The columns of every format, in order (CSV header, JSON keys, XLSX header row). */
export const EXPORT_COLUMNS = [
  'email',
  'firstName',
  'lastName',
  'status',
  'subscribedAt',
  'unsubscribedAt',
  'externalId',
] as const satisfies readonly (keyof ExportRow)[];

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

/**
 * `<publication>-subscribers-<yyyy-mm-dd>.<ext>`, the publication name reduced to characters
 * that are safe in a quoted Content-Disposition filename on every OS (ASCII letters, digits,
 * `.`, `_`, `-`; accents dropped, anything else a dash).
 */
export function exportFileName(publication: string, format: ExportFormat, now: Date): string {
  const slug = publication
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80)
    .replace(/[-.]+$/, '');
  return `${slug || 'export'}-subscribers-${now.toISOString().slice(0, 10)}.${format}`;
}

/** Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled;
 * a value a spreadsheet would run as a formula is prefixed with `'` first.
 */
export function csvCell(value: string | null): string {
  if (value === null || value === '') return '';
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly (string | null)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

function columnsOf(row: ExportRow): (string | null)[] {
  return EXPORT_COLUMNS.map((column) => row[column]);
}

/** Rows a formatter takes before it stops asking for more (its writable buffer). */
const ROWS_BUFFERED = 64;
/** Text a CSV/JSON formatter gathers before handing it on as one chunk. */
const CHUNK_CHARS = 16 * 1024;

/**
 * Rows in (object mode), text out, in chunks of about CHUNK_CHARS: the HTTP response gets a few
 * large writes rather than one per row. Holds back a row while its output is not read
 * (Transform's backpressure), so memory stays at a chunk or two whatever the row count.
 */
class TextFormatter extends Transform {
  private pending: string;
  private count = 0;

  constructor(
    head: string,
    private readonly line: (row: ExportRow, index: number) => string,
    private readonly tail: (rows: number) => string,
  ) {
    super({
      writableObjectMode: true,
      writableHighWaterMark: ROWS_BUFFERED,
      readableHighWaterMark: CHUNK_CHARS,
    });
    this.pending = head;
  }

  override _transform(row: ExportRow, _encoding: BufferEncoding, callback: TransformCallback) {
    this.pending += this.line(row, this.count++);
    if (this.pending.length >= CHUNK_CHARS) {
      this.push(this.pending);
      this.pending = '';
    }
    callback();
  }

  override _flush(callback: TransformCallback) {
    this.push(this.pending + this.tail(this.count));
    this.pending = '';
    callback();
  }
}

/** U+FEFF, written first, as UTF-8 bytes EF BB BF: what tells Excel the file is UTF-8. */
const UTF8_BOM = '\uFEFF';

function csvFormatter(bom: boolean): Transform {
  return new TextFormatter(
    (bom ? UTF8_BOM : '') + csvLine(EXPORT_COLUMNS),
    (row) => csvLine(columnsOf(row)),
    () => '',
  );
}

/** A JSON array, one row per line: `[\n{…},\n{…}\n]\n`, or `[]\n` when empty. */
function jsonFormatter(): Transform {
  return new TextFormatter(
    '[',
    (row, index) => `${index === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`,
    (rows) => (rows === 0 ? ']\n' : '\n]\n'),
  );
}

/** A writable stream as Node's or readable-stream's (archiver's) shows whether it is full. */
type BackedUp = EventEmitter & {
  writableNeedDrain?: boolean;
  destroyed?: boolean;
  _writableState?: { needDrain?: boolean };
};

/**
 * XLSX through exceljs' streaming WorkbookWriter (no shared strings, no styles: nothing is kept
 * per row). Rows in (object mode), zip bytes out. exceljs has no backpressure of its own: the
 * workbook writes into `zipped`, whose bytes are handed on only as fast as they are read
 * (`zipped` pauses otherwise), and a row is taken only once nothing between the sheet and
 * `zipped` is backed up (see `backlog`) — so a slow reader stops the rows, and through them the
 * cursor.
 */
class XlsxFormatter extends Duplex {
  private readonly zipped = new PassThrough();
  private readonly workbook: InstanceType<typeof excelStream.xlsx.WorkbookWriter>;
  private readonly sheet: ReturnType<XlsxFormatter['workbook']['addWorksheet']>;

  constructor() {
    super({ writableObjectMode: true, writableHighWaterMark: ROWS_BUFFERED });
    this.workbook = new excelStream.xlsx.WorkbookWriter({
      stream: this.zipped,
      useStyles: false,
      useSharedStrings: false,
    });
    this.sheet = this.workbook.addWorksheet('Subscribers');
    this.sheet.columns = EXPORT_COLUMNS.map((column) => ({ header: column, key: column }));
    this.zipped.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) this.zipped.pause();
    });
    this.zipped.once('end', () => this.push(null));
    this.zipped.once('error', (error) => this.destroy(error));
  }

  override _read() {
    this.zipped.resume();
  }

  override _write(row: ExportRow, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    try {
      this.sheet.addRow(columnsOf(row)).commit();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.afterRoom(callback);
  }

  override _final(callback: (error?: Error) => void) {
    try {
      this.sheet.commit();
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.workbook.commit().then(
      () => callback(),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    this.zipped.destroy();
    callback(error);
  }

  /**
   * The stream exceljs' output is backed up in, if any. exceljs writes a sheet's XML into its
   * own buffer (a StreamBuf), which hands it on to the zip entry's stream without waiting; from
   * there on (deflate, archiver, `zipped`) every pipe waits for the next one. So a slow reader
   * shows first as `zipped` needing a drain, then as the entry's stream needing one. (The
   * StreamBuf's `pipes` is exceljs internals: without it, `zipped` alone is watched, and the
   * formatter spec notices that rows are no longer held back.)
   */
  private backlog(): EventEmitter | undefined {
    if (this.zipped.writableNeedDrain) return this.zipped;
    const pipes = (this.sheet as unknown as { stream?: { pipes?: unknown } }).stream?.pipes;
    if (!Array.isArray(pipes)) return undefined;
    // archiver's streams come from the readable-stream package: no `writableNeedDrain` there.
    return (pipes as BackedUp[]).find(
      (pipe) => pipe.writableNeedDrain ?? pipe._writableState?.needDrain,
    );
  }

  /** Calls back once nothing between the sheet and `zipped` is backed up (or is gone). */
  private afterRoom(callback: () => void) {
    const stream: BackedUp | undefined = this.backlog();
    if (!stream || stream.destroyed || this.destroyed) {
      callback();
      return;
    }
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      this.off('close', done);
      this.afterRoom(callback);
    };
    stream.on('drain', done);
    stream.on('close', done);
    this.on('close', done);
  }
}

/**
 * The stage that turns export rows (written in object mode) into the bytes of `format`, at the
 * pace its output is read. Meant for `pipeline(rows, exportFormatter(format), response)`.
 * `bom`: a CSV that starts with a UTF-8 byte order mark (for Excel).
 */
export function exportFormatter(format: ExportFormat, options: { bom?: boolean } = {}): Duplex {
  switch (format) {
    case 'csv':
      return csvFormatter(options.bom === true);
    case 'json':
      return jsonFormatter();
    case 'xlsx':
      return new XlsxFormatter();
  }
}
