import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as delay } from 'node:timers/promises';
import {
  csvCell,
  csvLine,
  EXPORT_COLUMNS,
  exportFileName,
  ExportFormat,
  exportFormatter,
  ExportRow,
  jsonRow,
} from './subscriber-export.format';

const ROW: ExportRow = {
  email: 'a@b.co',
  firstName: 'Ann, "A"',
  lastName: null,
  status: 'active',
  subscribedAt: '2024-01-01T00:00:00.000Z',
  unsubscribedAt: null,
  externalId: 'x1',
};

describe('csvCell', () => {
  it('quotes only what needs it and doubles quotes', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });

  it('defuses values a spreadsheet would run as a formula', () => {
    for (const value of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) {
      expect(csvCell(value).replace(/^"/, '')).toMatch(/^'/);
    }
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('a=b')).toBe('a=b');
  });

  it('ends lines with CRLF', () => {
    expect(csvLine(['a', null, 'c'])).toBe('a,,c\r\n');
  });
});

describe('jsonRow', () => {
  it('writes what JSON.stringify writes, awkward values included', () => {
    const awkward = [
      'plain',
      'say "hi"',
      'back\\slash',
      'tab\tnew\nline\u0000\u001f',
      'ünï 📬',
      'lone \ud800 surrogate \udc00',
      '\u2028\u2029',
      '',
    ];
    for (const value of awkward) {
      const row: ExportRow = { ...ROW, firstName: value, lastName: value, externalId: value };
      expect(jsonRow(row)).toBe(JSON.stringify(row));
    }
    expect(jsonRow(ROW)).toBe(JSON.stringify(ROW));
    expect(Object.keys(JSON.parse(jsonRow(ROW)))).toEqual(EXPORT_COLUMNS);
  });
});

describe('exportFileName', () => {
  const day = new Date('2025-03-04T23:59:59Z');
  it('keeps a safe ASCII slug of the publication and the UTC date', () => {
    expect(exportFileName('Weekly News', 'csv', day)).toBe(
      'Weekly-News-subscribers-2025-03-04.csv',
    );
    expect(exportFileName('Ünïcode "Quoted"\r\n/..\\evil', 'xlsx', day)).toBe(
      'Unicode-Quoted-evil-subscribers-2025-03-04.xlsx',
    );
    expect(exportFileName('"""', 'json', day)).toBe('export-subscribers-2025-03-04.json');
    expect(exportFileName('x'.repeat(300), 'csv', day)).toHaveLength(
      80 + '-subscribers-2025-03-04.csv'.length,
    );
  });
});

/** `rows` in batches of `size`, as the export's cursor hands them on. */
function batchesOf<T>(rows: T[], size = 3): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < rows.length; start += size) {
    batches.push(rows.slice(start, start + size));
  }
  return batches;
}

/** `rows` through a formatter of `format`, read whole. */
function formatted(format: ExportFormat, rows: ExportRow[]): Promise<Buffer> {
  return buffer(Readable.from(batchesOf(rows)).pipe(exportFormatter(format)));
}

describe('exportFormatter', () => {
  it('writes CSV with a header, and only the header when there is no row', async () => {
    const csv = (await formatted('csv', [ROW, ROW])).toString();
    expect(csv.split('\r\n')).toEqual([
      'email,firstName,lastName,status,subscribedAt,unsubscribedAt,externalId',
      'a@b.co,"Ann, ""A""",,active,2024-01-01T00:00:00.000Z,,x1',
      'a@b.co,"Ann, ""A""",,active,2024-01-01T00:00:00.000Z,,x1',
      '',
    ]);
    expect((await formatted('csv', [])).toString()).toBe(
      'email,firstName,lastName,status,subscribedAt,unsubscribedAt,externalId\r\n',
    );
  });

  it('writes a JSON array, empty or not', async () => {
    expect((await formatted('json', [])).toString()).toBe('[]\n');
    const json = (await formatted('json', [ROW, ROW, ROW])).toString();
    expect(json).toBe(`[\n${[ROW, ROW, ROW].map((row) => JSON.stringify(row)).join(',\n')}\n]\n`);
    expect(JSON.parse(json)).toEqual([ROW, ROW, ROW]);
  });

  it('writes an XLSX (zip) file', async () => {
    expect((await formatted('xlsx', [ROW])).subarray(0, 2).toString()).toBe('PK');
  });

  it('hands CSV on in chunks of many rows, not one write per row', async () => {
    const chunks: Buffer[] = [];
    const formatter = Readable.from(
      batchesOf(
        Array.from({ length: 2_000 }, () => ROW),
        10,
      ),
    ).pipe(exportFormatter('csv'));
    for await (const chunk of formatter) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.length).toBeLessThan(20);
    expect(Buffer.concat(chunks).toString().split('\r\n')).toHaveLength(2_002);
  });

  it.each(['csv', 'json', 'xlsx'] as const)(
    'takes no more rows (%s) while its output is not read',
    async (format) => {
      const total = 50_000;
      const batch = 100;
      let taken = 0;
      const rows = Readable.from(
        (function* () {
          for (let n = 0; n < total; n += batch) {
            taken += batch;
            yield Array.from({ length: batch }, (_, k) => ({ ...ROW, externalId: `x${n + k}` }));
          }
        })(),
      );
      const formatter = rows.pipe(exportFormatter(format));
      // Wait until it stops taking rows (zlib may still be catching up on a busy machine).
      let stalled = -1;
      for (let tries = 0; tries < 25 && taken !== stalled; tries++) {
        stalled = taken;
        await delay(200);
      }
      expect(taken).toBe(stalled);
      // (XLSX holds a few thousand rows in its chunk and zlib's buffers; unbounded, it takes all.)
      expect(stalled).toBeLessThan(total / 5);
      const body = await buffer(formatter);
      expect(taken).toBe(total);
      expect(body.length).toBeGreaterThan(0);
    },
  );
});
