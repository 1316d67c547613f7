import { Readable } from 'node:stream';
import { CopyTextRows, copyTextField } from './subscriber-export-copy';

/** What `chunks` (COPY text, cut where they are cut) parse to, one array per batch. */
async function parse(chunks: Buffer[]): Promise<(string | null)[][][]> {
  const batches: (string | null)[][][] = [];
  const rows = Readable.from(chunks, { objectMode: false }).pipe(
    new CopyTextRows((fields) => fields),
  );
  for await (const batch of rows) batches.push(batch as (string | null)[][]);
  return batches;
}

describe('copyTextField', () => {
  it('reads \\N as NULL and an empty field as the empty string', () => {
    expect(copyTextField('\\N')).toBeNull();
    expect(copyTextField('')).toBe('');
  });

  it('undoes every escape COPY writes, and leaves other text as it is', () => {
    expect(copyTextField('plain Zoë 🚀')).toBe('plain Zoë 🚀');
    expect(copyTextField('a\\tb\\nc\\rd\\\\e')).toBe('a\tb\nc\rd\\e');
    expect(copyTextField('\\b\\f\\v')).toBe('\b\f\v');
    // A literal backslash-N, and backslash-dot, as COPY writes them.
    expect(copyTextField('\\\\N')).toBe('\\N');
    expect(copyTextField('\\\\.')).toBe('\\.');
  });
});

describe('CopyTextRows', () => {
  it('splits rows on newlines and fields on tabs', async () => {
    const text = 'a\tb\t\\N\nc\t\td\n';
    expect(await parse([Buffer.from(text)])).toEqual([
      [
        ['a', 'b', null],
        ['c', '', 'd'],
      ],
    ]);
  });

  it('keeps a row cut between chunks, even inside a UTF-8 character, for the next chunk', async () => {
    const bytes = Buffer.from('zoë\t🚀\nsecond\trow\n', 'utf8');
    const rocket = bytes.indexOf(Buffer.from('🚀'));
    const cuts = [
      bytes.subarray(0, rocket + 2),
      bytes.subarray(rocket + 2, rocket + 7),
      bytes.subarray(rocket + 7),
    ];
    const rows = (await parse(cuts)).flat();
    expect(rows).toEqual([
      ['zoë', '🚀'],
      ['second', 'row'],
    ]);
  });

  it('hands on a batch per chunk, not a stream hop per row', async () => {
    const chunk = Buffer.from(Array.from({ length: 500 }, (_, n) => `row-${n}\tx\n`).join(''));
    const batches = await parse([chunk, chunk]);
    expect(batches.map((batch) => batch.length)).toEqual([500, 500]);
  });

  it('fails when the output ends inside a row', async () => {
    await expect(parse([Buffer.from('whole\trow\ncut\tof')])).rejects.toThrow(
      'COPY output ended inside a row',
    );
  });
});
