import { text } from 'node:stream/consumers';
import {
  csvCell,
  csvLine,
  exportFileName,
  exportStream,
  ExportRow,
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

async function* batches(...list: ExportRow[][]): AsyncGenerator<ExportRow[]> {
  for (const batch of list) yield batch;
}

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

describe('exportStream', () => {
  it('writes CSV with a header', async () => {
    const csv = await text(exportStream('csv', batches([ROW], [], [ROW])));
    expect(csv.split('\r\n')).toEqual([
      'email,firstName,lastName,status,subscribedAt,unsubscribedAt,externalId',
      'a@b.co,"Ann, ""A""",,active,2024-01-01T00:00:00.000Z,,x1',
      'a@b.co,"Ann, ""A""",,active,2024-01-01T00:00:00.000Z,,x1',
      '',
    ]);
  });

  it('writes a JSON array, empty or not', async () => {
    expect(JSON.parse(await text(exportStream('json', batches())))).toEqual([]);
    expect(JSON.parse(await text(exportStream('json', batches([], [ROW, ROW], [ROW]))))).toEqual([
      ROW,
      ROW,
      ROW,
    ]);
  });

  it('writes an XLSX (zip) file', async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of exportStream('xlsx', batches([ROW]))) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).subarray(0, 2).toString()).toBe('PK');
  });
});
