import { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Workbook } from 'exceljs';
import { Response } from 'supertest';
import { TestUser } from './support/fake-esp-api';
import {
  insertConnection,
  insertSubscribers,
  manySubscribers,
  SubscriberSpec,
} from './support/subscriber-factory';
import { startTestApi, TestApi } from './support/test-api';

const COLUMNS = [
  'email',
  'firstName',
  'lastName',
  'status',
  'subscribedAt',
  'unsubscribedAt',
  'externalId',
] as const;

type Exported = Record<(typeof COLUMNS)[number], string | null>;

/** RFC 4180 CSV, as a spreadsheet reads it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch !== '"') cell += ch;
      else if (text[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** A supertest parser that keeps the body as bytes. */
const binary = ((response: IncomingMessage, done: (error: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  response.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.on('end', () => done(null, Buffer.concat(chunks)));
}) as unknown as (response: Response, done: (error: Error | null, body: unknown) => void) => void;

async function openXlsx(body: unknown): Promise<Workbook> {
  const workbook = new Workbook();
  // exceljs types its Buffer against older @types/node generics.
  await workbook.xlsx.load(body as Parameters<Workbook['xlsx']['load']>[0]);
  return workbook;
}

const TRICKY: SubscriberSpec[] = [
  { email: 'formula@example.com', firstName: '=HYPERLINK("http://evil","x")', lastName: '+1234' },
  { email: 'quotes@example.com', firstName: 'Line\r\nBreak', lastName: 'O"Brien, Jr.' },
  { email: 'minus@example.com', firstName: '-5', lastName: '@SUM(A1)' },
  { email: 'unicode@example.com', firstName: 'Zoë 🚀', lastName: null },
  { email: '=cmd@example.com', firstName: null, lastName: 'Tab\tInside', externalId: '-ext' },
  // What COPY's text format escapes or means: backslashes, a literal \N (not a NULL), \.
  { email: 'back\\slash@example.com', firstName: 'C:\\new\\table\\', lastName: '\\N' },
  { email: 'dot@example.com', firstName: '\\.', lastName: 'not\\ta tab' },
];

/**
 * What each format holds. Streaming itself (memory, a client that leaves, a failure mid-way) is
 * in subscriber-export-streaming.e2e-spec.ts.
 */
describe('subscriber export (real app, Postgres, Redis)', () => {
  let api: TestApi;
  let alice: TestUser;
  let connectionId: string;
  let emptyId: string;
  let expected: Exported[];
  const today = () => new Date().toISOString().slice(0, 10);
  const SIZE = 5_000;

  beforeAll(async () => {
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
    alice = await TestUser.signIn(api, 'alice@example.com', []);
    connectionId = await insertConnection(api, alice.id, {
      publicationName: 'Weekly News / Ünïcode "Quoted"; rm -rf',
    });
    emptyId = await insertConnection(api, alice.id, {
      publicationName: null,
      publicationId: 'pub_empty',
    });
    const specs = [
      ...manySubscribers(SIZE - TRICKY.length, 'export'),
      ...TRICKY.map((spec, n) => ({
        externalId: `tricky-${n}`,
        ...spec,
      })),
    ];
    const ids = await insertSubscribers(api, connectionId, specs);
    const byId = new Map(ids.map((id, index) => [id, specs[index]]));
    expected = [...ids].sort().map((id) => {
      const spec = byId.get(id)!;
      return {
        email: spec.email,
        firstName: spec.firstName ?? null,
        lastName: spec.lastName ?? null,
        status: spec.status ?? 'active',
        subscribedAt: spec.subscribedAt?.toISOString() ?? null,
        unsubscribedAt: spec.unsubscribedAt?.toISOString() ?? null,
        externalId: spec.externalId!,
      };
    });
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await api?.close();
  });

  const exportOf = (id: string, format: string) =>
    alice.get(`/esp-connections/${id}/subscribers/export?format=${format}`);

  function expectAttachment(response: Response, name: string, contentType: string): void {
    expect(response.headers['content-type']).toBe(contentType);
    expect(response.headers['content-disposition']).toBe(`attachment; filename="${name}"`);
    expect(response.headers['cache-control']).toBe('no-store');
  }

  it('exports CSV: every row, quoted and escaped, formulas defused', async () => {
    const response = await exportOf(connectionId, 'csv').expect(200);
    expectAttachment(
      response,
      `Weekly-News-Unicode-Quoted-rm-rf-subscribers-${today()}.csv`,
      'text/csv; charset=utf-8',
    );
    const [header, ...rows] = parseCsv(response.text);
    expect(header).toEqual([...COLUMNS]);
    const defuse = (value: string | null) =>
      value === null ? '' : /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    expect(rows).toEqual(expected.map((row) => COLUMNS.map((column) => defuse(row[column]))));
    const formula = rows.find((row) => row[6] === 'tricky-0')!;
    expect(formula.slice(1, 3)).toEqual([`'=HYPERLINK("http://evil","x")`, "'+1234"]);
    expect(response.text).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
  });

  it('starts a CSV with a UTF-8 byte order mark for Excel only when asked (bom=true)', async () => {
    const withBom = await alice
      .get(`/esp-connections/${connectionId}/subscribers/export?format=csv&bom=true`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    const plain = await alice
      .get(`/esp-connections/${connectionId}/subscribers/export?bom=false`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    const bytes = withBom.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).equals(plain.body as Buffer)).toBe(true);
    expect((plain.body as Buffer)[0]).toBe(COLUMNS[0].charCodeAt(0));
  });

  it('exports JSON: a streamed array of the rows, values untouched', async () => {
    const response = await exportOf(connectionId, 'json').expect(200);
    expectAttachment(
      response,
      `Weekly-News-Unicode-Quoted-rm-rf-subscribers-${today()}.json`,
      'application/json; charset=utf-8',
    );
    expect(response.body).toEqual(expected);
  });

  it('exports XLSX that opens with the header and every row', async () => {
    const response = await exportOf(connectionId, 'xlsx').buffer(true).parse(binary).expect(200);
    expectAttachment(
      response,
      `Weekly-News-Unicode-Quoted-rm-rf-subscribers-${today()}.xlsx`,
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
    const workbook = await openXlsx(response.body);
    const sheet = workbook.getWorksheet('Subscribers')!;
    const values: (string | null)[][] = [];
    sheet.eachRow({ includeEmpty: true }, (row) => {
      values.push(
        COLUMNS.map((_, index) => {
          const cell = row.getCell(index + 1);
          return cell.value === null || cell.value === undefined ? null : cell.text;
        }),
      );
    });
    expect(values[0]).toEqual([...COLUMNS]);
    // XML (and so XLSX) stores a line break as LF: a CR LF inside a value comes back as LF.
    const asXml = (value: string | null) => value?.replace(/\r\n/g, '\n') ?? null;
    expect(values.slice(1)).toEqual(
      expected.map((row) => COLUMNS.map((column) => asXml(row[column]))),
    );
  });

  it('defaults to CSV and exports an empty list as its header only', async () => {
    const csv = await alice.get(`/esp-connections/${emptyId}/subscribers/export`).expect(200);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="pub_empty-subscribers-${today()}.csv"`,
    );
    expect(csv.text).toBe(`${COLUMNS.join(',')}\r\n`);
    expect((await exportOf(emptyId, 'json').expect(200)).body).toEqual([]);
    const xlsx = await exportOf(emptyId, 'xlsx').buffer(true).parse(binary).expect(200);
    const workbook = await openXlsx(xlsx.body);
    expect(workbook.getWorksheet('Subscribers')!.rowCount).toBe(1);
  });

  it('answers 400 for a bad format, bom or id and 404 for an unknown connection', async () => {
    const bad = await exportOf(connectionId, 'pdf').expect(400);
    expect(bad.body).toMatchObject({
      fields: { format: ['format must be one of: csv, json, xlsx'] },
    });
    expect(bad.headers['content-disposition']).toBeUndefined();
    await alice
      .get(`/esp-connections/${connectionId}/subscribers/export?format=csv&x=1`)
      .expect(400);
    await alice.get('/esp-connections/42/subscribers/export').expect(400);
    const badBom = await alice
      .get(`/esp-connections/${connectionId}/subscribers/export?bom=yes`)
      .expect(400);
    expect(badBom.body).toMatchObject({ fields: { bom: ['bom must be true or false'] } });
    const bomJson = await exportOf(connectionId, 'json&bom=true').expect(400);
    expect(bomJson.body.message).toBe('bom=true applies to format=csv only');
    await exportOf(randomUUID(), 'csv').expect(404);
  });
});
