import { PassThrough, Readable, Writable } from 'node:stream';
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

async function* csvChunks(batches: AsyncIterable<ExportRow[]>): AsyncGenerator<string> {
  yield csvLine(EXPORT_COLUMNS);
  for await (const batch of batches) {
    yield batch.map((row) => csvLine(columnsOf(row))).join('');
  }
}

async function* jsonChunks(batches: AsyncIterable<ExportRow[]>): AsyncGenerator<string> {
  let first = true;
  yield '[';
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    const body = batch.map((row) => JSON.stringify(row)).join(',\n');
    yield first ? `\n${body}` : `,\n${body}`;
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}

/** Resolves once `stream` can take more (or is gone): the producer waits while it is full. */
function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

/**
 * XLSX through exceljs' streaming WorkbookWriter (no shared strings, no styles: nothing is kept
 * per row). exceljs has no backpressure of its own, so rows are added a batch at a time and the
 * next batch waits until the output has drained; when the output is destroyed (the client went
 * away) the loop stops, which ends the row source too.
 */
function xlsxStream(batches: AsyncIterable<ExportRow[]>): Readable {
  const out = new PassThrough();
  const workbook = new excelStream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: false,
    useSharedStrings: false,
  });
  const sheet = workbook.addWorksheet('Subscribers');
  sheet.columns = EXPORT_COLUMNS.map((column) => ({ header: column, key: column }));
  const produce = async () => {
    for await (const batch of batches) {
      if (out.destroyed) return;
      for (const row of batch) sheet.addRow(columnsOf(row)).commit();
      await drained(out);
      if (out.destroyed) return;
    }
    sheet.commit();
    await workbook.commit();
  };
  produce().catch((error: unknown) => {
    out.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return out;
}

/**
 * The export as a byte stream in `format`, pulling batches from `batches` only as fast as the
 * reader reads. Destroying the stream stops the pulling (and so the queries behind it).
 */
export function exportStream(format: ExportFormat, batches: AsyncIterable<ExportRow[]>): Readable {
  switch (format) {
    case 'csv':
      return Readable.from(csvChunks(batches), { objectMode: false });
    case 'json':
      return Readable.from(jsonChunks(batches), { objectMode: false });
    case 'xlsx':
      return xlsxStream(batches);
  }
}
