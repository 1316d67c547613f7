import { Duplex, PassThrough } from 'node:stream';
import { ZipFile } from 'yazl';

/**
 * A one-sheet XLSX workbook written as its rows arrive: batches of rows in (arrays, object
 * mode), zip bytes out.
 *
 * The sheet's XML is written here, as text (every cell an inline string: no shared-strings
 * table, no styles, so nothing is kept per row), and streamed into the zip entry of
 * `xl/worksheets/sheet1.xml` by yazl, which deflates it with Node's zlib — on libuv's thread
 * pool, beside the main thread building the next rows' XML. The other parts of the package are
 * the four fixed files a workbook needs at least (content types, the package and workbook
 * relationships, the workbook).
 *
 * Backpressure runs end to end through plain Node streams: the zip's output is handed on only
 * as fast as this stream is read (it is paused otherwise), yazl's pipes from the sheet's entry
 * to that output wait in turn, and a batch is taken only once the sheet's entry has room — so a
 * slow reader stops the rows, and through them whatever produces them (an export's cursor).
 */
export class XlsxStream<Row> extends Duplex {
  private readonly zip = new ZipFile();
  private readonly sheet = new PassThrough({ highWaterMark: SHEET_CHUNK_CHARS });
  private pending: string;
  private rowNumber = 1;

  constructor(
    private readonly options: {
      sheetName: string;
      header: readonly string[];
      cells: (row: Row) => readonly (string | null)[];
      batchesBuffered: number;
    },
  ) {
    super({ writableObjectMode: true, writableHighWaterMark: options.batchesBuffered });
    const parts = packageParts(options.sheetName);
    for (const [path, xml] of parts) this.zip.addBuffer(Buffer.from(xml), path, ZIP_ENTRY);
    this.zip.addReadStream(this.sheet, SHEET_PATH, ZIP_ENTRY);
    this.zip.end();
    const output = this.zip.outputStream as PassThrough;
    output.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) output.pause();
    });
    output.once('end', () => this.push(null));
    output.once('error', (error) => this.destroy(error));
    this.zip.once('error', (error: Error) => this.destroy(error));
    this.sheet.once('error', (error) => this.destroy(error));
    this.pending = SHEET_HEAD + rowXml(1, options.header);
  }

  override _read(): void {
    (this.zip.outputStream as PassThrough).resume();
  }

  override _write(rows: Row[], _encoding: BufferEncoding, callback: (error?: Error) => void): void {
    try {
      for (const row of rows) this.pending += rowXml(++this.rowNumber, this.options.cells(row));
    } catch (error) {
      callback(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.pending.length < SHEET_CHUNK_CHARS) {
      callback();
      return;
    }
    const room = this.sheet.write(this.pending);
    this.pending = '';
    if (room) callback();
    else this.afterDrain(callback);
  }

  override _final(callback: (error?: Error) => void): void {
    // The readable side ends when the zip's output does (its central directory written).
    this.sheet.end(this.pending + SHEET_TAIL);
    this.pending = '';
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.sheet.destroy();
    (this.zip.outputStream as PassThrough).destroy();
    callback(error);
  }

  /** Calls back once the sheet's entry has drained, or this stream is gone. */
  private afterDrain(callback: () => void): void {
    const done = () => {
      this.sheet.off('drain', done);
      this.off('close', done);
      callback();
    };
    this.sheet.on('drain', done);
    this.on('close', done);
  }
}

/**
 * Sheet XML gathered before it is written into the zip entry: the entry gets a few large
 * writes (each one zlib call on the thread pool) rather than one per row.
 */
const SHEET_CHUNK_CHARS = 64 * 1024;

/**
 * Deflate level 1: on subscriber lists it compresses about as well as the default level 6
 * (the XML repeats itself), at a fraction of the CPU.
 */
const ZIP_ENTRY = { compressionLevel: 1 };

const SHEET_PATH = 'xl/worksheets/sheet1.xml';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PACKAGE_REL_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';

const SHEET_HEAD = `${XML_DECLARATION}<worksheet xmlns="${MAIN_NS}"><sheetData>`;
const SHEET_TAIL = '</sheetData></worksheet>';

/** The fixed parts of a one-sheet workbook, by path in the zip. */
function packageParts(sheetName: string): [string, string][] {
  return [
    [
      '[Content_Types].xml',
      `${XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
        `<Override PartName="/${SHEET_PATH}" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
        '</Types>',
    ],
    [
      '_rels/.rels',
      `${XML_DECLARATION}<Relationships xmlns="${PACKAGE_REL_NS}">` +
        `<Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/>` +
        '</Relationships>',
    ],
    [
      'xl/workbook.xml',
      `${XML_DECLARATION}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}"><sheets>` +
        `<sheet name="${xmlText(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    ],
    [
      'xl/_rels/workbook.xml.rels',
      `${XML_DECLARATION}<Relationships xmlns="${PACKAGE_REL_NS}">` +
        `<Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>` +
        '</Relationships>',
    ],
  ];
}

/** Column letters of the first 26 columns (a row here has a handful). */
const COLUMNS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** One `<row>`: a cell per non-empty value, each an inline string (never a formula). */
export function rowXml(rowNumber: number, values: readonly (string | null)[]): string {
  if (values.length > COLUMNS.length) throw new Error('an XLSX row here has at most 26 columns');
  let xml = `<row r="${rowNumber}">`;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === '') continue;
    const preserve = /^\s|\s$/.test(value) ? ' xml:space="preserve"' : '';
    xml += `<c r="${COLUMNS[i]}${rowNumber}" t="inlineStr"><is><t${preserve}>${xmlText(value)}</t></is></c>`;
  }
  return `${xml}</row>`;
}

/**
 * Characters that need an entity in XML text or an attribute, and those XML 1.0 cannot hold at
 * all.
 */
// Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[&<>"\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex
const ESCAPED = /[&<>"\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/**
 * `value` as XML text (or an attribute's value): `& < > "` as entities; control characters XML 1.0 does not allow (no
 * entity can carry them either) dropped, since one of them would make the whole file
 * unreadable.
 */
export function xmlText(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(ESCAPED, (char) => ENTITIES[char] ?? '');
}
