import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Workbook } from 'exceljs';
import { rowXml, xmlText, XlsxStream } from './xlsx-stream';

type Values = (string | null)[];

function xlsxOf(rows: Values[], header: string[] = ['a', 'b', 'c']): Promise<Buffer> {
  return buffer(
    // In batches of 7, as an export hands them on.
    Readable.from(
      Array.from({ length: Math.ceil(rows.length / 7) }, (_, i) => rows.slice(i * 7, i * 7 + 7)),
    ).pipe(
      new XlsxStream<Values>({
        sheetName: 'Sheet "one"',
        header,
        cells: (row) => row,
        batchesBuffered: 1,
      }),
    ),
  );
}

/** The workbook as another library reads it back: each row's cell values, A to C. */
async function readBack(file: Buffer): Promise<{ name: string; rows: unknown[][] }> {
  const workbook = new Workbook();
  // exceljs types its Buffer against older @types/node generics.
  await workbook.xlsx.load(file as unknown as Parameters<Workbook['xlsx']['load']>[0]);
  const sheet = workbook.worksheets[0];
  const rows: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    rows.push([1, 2, 3].map((column) => row.getCell(column).value));
  });
  return { name: sheet.name, rows };
}

describe('XlsxStream', () => {
  it('writes a workbook another reader opens: the header row, then a row per value list', async () => {
    const file = await xlsxOf([
      ['x@example.com', 'Ann', null],
      ['y@example.com', null, 'Lee'],
    ]);
    expect(file.subarray(0, 2).toString()).toBe('PK');
    expect(await readBack(file)).toEqual({
      name: 'Sheet "one"',
      rows: [
        ['a', 'b', 'c'],
        ['x@example.com', 'Ann', null],
        ['y@example.com', null, 'Lee'],
      ],
    });
  });

  it('keeps text as text: markup, formulas, spaces, emoji; drops what XML cannot hold', async () => {
    const file = await xlsxOf([
      ['<b>&amp;</b> "quoted"', '=1+1', '  padded  '],
      ['bell\u0007 and nul\u0000', 'ünï 📬', 'two\nlines'],
    ]);
    expect((await readBack(file)).rows.slice(1)).toEqual([
      ['<b>&amp;</b> "quoted"', '=1+1', '  padded  '],
      ['bell and nul', 'ünï 📬', 'two\nlines'],
    ]);
  });

  it('writes only the header when there is no row', async () => {
    expect((await readBack(await xlsxOf([]))).rows).toEqual([['a', 'b', 'c']]);
  });

  it('streams many rows into one sheet, compressed', async () => {
    const rows = Array.from({ length: 20_000 }, (_, n): Values => [
      `r${n}@example.com`,
      `${n}`,
      null,
    ]);
    const file = await xlsxOf(rows);
    const { rows: read } = await readBack(file);
    expect(read).toHaveLength(20_001);
    expect(read[20_000]).toEqual(['r19999@example.com', '19999', null]);
    const xmlBytes = rows.reduce((sum, [email, n], i) => sum + rowXml(i + 2, [email, n]).length, 0);
    expect(file.length).toBeLessThan(xmlBytes / 4);
  });

  it('fails the stream when a row cannot be turned into cells', async () => {
    const stream = new XlsxStream<Values>({
      sheetName: 's',
      header: ['a'],
      cells: () => {
        throw new Error('bad row');
      },
      batchesBuffered: 1,
    });
    await expect(buffer(Readable.from([[['x']]]).pipe(stream))).rejects.toThrow('bad row');
  });
});

describe('rowXml', () => {
  it('writes a cell per non-empty value, each an inline string with its reference', () => {
    expect(rowXml(7, ['a', null, '', ' b'])).toBe(
      '<row r="7"><c r="A7" t="inlineStr"><is><t>a</t></is></c>' +
        '<c r="D7" t="inlineStr"><is><t xml:space="preserve"> b</t></is></c></row>',
    );
  });
});

describe('xmlText', () => {
  it('escapes markup and drops characters XML 1.0 cannot carry', () => {
    expect(xmlText('plain')).toBe('plain');
    expect(xmlText('a<b>&"c"')).toBe('a&lt;b&gt;&amp;&quot;c&quot;');
    expect(xmlText('tab\there\r\nnul\u0000\u001f\uffff')).toBe('tab\there\r\nnul');
  });
});
