import { Duplex, Transform, TransformCallback } from 'node:stream';
import { SubscriberStatus } from '@subscribernest/shared';
import { XlsxStream } from './xlsx-stream';

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
/** A value that needs either the formula guard or quoting: most need neither (one test). */
const NEEDS_CARE = /^[=+\-@\t\r]|[",\r\n]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled;
 * a value a spreadsheet would run as a formula is prefixed with `'` first.
 */
export function csvCell(value: string | null): string {
  if (value === null || value === '') return '';
  if (!NEEDS_CARE.test(value)) return value;
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly (string | null)[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

/** A row's CSV line, its cells written out in EXPORT_COLUMNS' order (no arrays per row). */
function csvRow(row: ExportRow): string {
  return (
    `${csvCell(row.email)},${csvCell(row.firstName)},${csvCell(row.lastName)},` +
    `${csvCell(row.status)},${csvCell(row.subscribedAt)},${csvCell(row.unsubscribedAt)},` +
    `${csvCell(row.externalId)}\r\n`
  );
}

function columnsOf(row: ExportRow): (string | null)[] {
  return EXPORT_COLUMNS.map((column) => row[column]);
}

/** Batches of rows a formatter takes before it stops asking for more (its writable buffer). */
const BATCHES_BUFFERED = 1;
/** Text a CSV/JSON formatter gathers before handing it on as one chunk. */
const CHUNK_CHARS = 16 * 1024;

/**
 * Batches of rows in (object mode, arrays), text out, in chunks of at least CHUNK_CHARS (a
 * batch's text at most): the HTTP response gets a few large writes rather than one per row.
 * Holds back a batch while its output is not read (Transform's backpressure), so memory stays
 * at a batch or two whatever the row count.
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
      writableHighWaterMark: BATCHES_BUFFERED,
      readableHighWaterMark: CHUNK_CHARS,
    });
    this.pending = head;
  }

  override _transform(rows: ExportRow[], _encoding: BufferEncoding, callback: TransformCallback) {
    for (const row of rows) this.pending += this.line(row, this.count++);
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
  return new TextFormatter((bom ? UTF8_BOM : '') + csvLine(EXPORT_COLUMNS), csvRow, () => '');
}

/**
 * What JSON.stringify would escape in a string: a quote, a backslash, a control character, or a
 * surrogate (a lone one is written as `\\uXXXX`; a pair, rare here, takes the same slow path).
 */
// eslint-disable-next-line no-control-regex
const JSON_NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `value` as a JSON string (or `null`): quoted as is unless something in it needs escaping. */
function jsonValue(value: string | null): string {
  if (value === null) return 'null';
  return JSON_NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * A row as `JSON.stringify(row)` writes it (keys in EXPORT_COLUMNS' order), built from its
 * strings: most need no escaping, and the generic serialiser was most of a JSON export's
 * formatting time.
 */
export function jsonRow(row: ExportRow): string {
  return (
    `{"email":${jsonValue(row.email)},"firstName":${jsonValue(row.firstName)},` +
    `"lastName":${jsonValue(row.lastName)},"status":${jsonValue(row.status)},` +
    `"subscribedAt":${jsonValue(row.subscribedAt)},` +
    `"unsubscribedAt":${jsonValue(row.unsubscribedAt)},"externalId":${jsonValue(row.externalId)}}`
  );
}

/** A JSON array, one row per line: `[\n{…},\n{…}\n]\n`, or `[]\n` when empty. */
function jsonFormatter(): Transform {
  return new TextFormatter(
    '[',
    (row, index) => `${index === 0 ? '\n' : ',\n'}${jsonRow(row)}`,
    (rows) => (rows === 0 ? ']\n' : '\n]\n'),
  );
}

/**
 * The stage that turns batches of export rows (arrays, written in object mode) into the bytes
 * of `format`, at the pace its output is read. Meant for `pipeline(rows, exportFormatter(format), response)`.
 * `bom`: a CSV that starts with a UTF-8 byte order mark (for Excel).
 */
export function exportFormatter(format: ExportFormat, options: { bom?: boolean } = {}): Duplex {
  switch (format) {
    case 'csv':
      return csvFormatter(options.bom === true);
    case 'json':
      return jsonFormatter();
    case 'xlsx':
      return new XlsxStream<ExportRow>({
        sheetName: 'Subscribers',
        header: EXPORT_COLUMNS,
        cells: columnsOf,
        batchesBuffered: BATCHES_BUFFERED,
      });
  }
}
