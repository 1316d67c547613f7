import { EspSubscriber } from '../esp/esp-client';
import {
  cleanText,
  isStorableEmail,
  sanitizeSubscriber,
  SUBSCRIBER_TEXT_LIMITS,
  truncateText,
} from './subscriber-sanitizer';

const subscriber = (overrides: Partial<EspSubscriber> = {}): EspSubscriber => ({
  externalId: 'sub_1',
  email: 'jane+news@example.com',
  status: 'active',
  firstName: 'Jane',
  lastName: "O'Hara",
  subscribedAt: new Date('2026-01-02T03:04:05Z'),
  unsubscribedAt: null,
  metadata: { tier: 'free' },
  ...overrides,
});

const codePoints = (text: string) => [...text].length;

describe('truncateText', () => {
  it('leaves text within the limit alone', () => {
    expect(truncateText('Jane', 255)).toBe('Jane');
    expect(truncateText('é'.repeat(255), 255)).toBe('é'.repeat(255));
  });

  it('cuts at the limit counted in code points, as Postgres counts varchar(255)', () => {
    const cut = truncateText('a'.repeat(300), 255);
    expect(cut).toBe('a'.repeat(255));
    // 200 emoji are 400 UTF-16 units but 200 characters: nothing to cut.
    expect(truncateText('😀'.repeat(200), 255)).toBe('😀'.repeat(200));
  });

  it('never splits a surrogate pair', () => {
    const cut = truncateText('a' + '😀'.repeat(300), 255);
    expect(codePoints(cut)).toBe(255);
    expect(cut.endsWith('😀')).toBe(true);
    expect(/[\uD800-\uDBFF]$/.test(cut)).toBe(false);
  });

  it('never separates a letter from its combining marks, or an emoji from its modifiers', () => {
    // "e" + combining acute: two code points, one grapheme. 254 letters fit, the 255th pair not.
    const combining = 'x'.repeat(254) + 'e\u0301' + 'tail';
    expect(truncateText(combining, 255)).toBe('x'.repeat(254));
    // A family emoji is seven code points joined by ZWJ: kept whole or dropped whole.
    const family = '👨‍👩‍👧‍👦';
    const cut = truncateText('y'.repeat(250) + family, 255);
    expect(cut).toBe('y'.repeat(250));
    expect(truncateText('y'.repeat(248) + family, 255)).toBe('y'.repeat(248) + family);
  });
});

describe('cleanText', () => {
  it('drops NUL and other control characters but keeps tabs and line breaks', () => {
    expect(cleanText('Ja\u0000ne\u0007 \u001b[31mred\u009b')).toBe('Jane [31mred');
    expect(cleanText('line one\nline two\r\n\tindented')).toBe('line one\nline two\r\n\tindented');
  });

  it('replaces a lone surrogate and keeps a real pair', () => {
    expect(cleanText('a\uD800b\uDC00c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
});

describe('isStorableEmail', () => {
  it.each(['jane@example.com', 'jane+tag@example.com', "o'hara@example.ie", 'ünï@exämple.de'])(
    'accepts %s',
    (email) => expect(isStorableEmail(email)).toBe(true),
  );

  it.each([
    '',
    'no-at-sign',
    '@example.com',
    'jane@',
    'ja ne@example.com',
    'jane@exa\u0000mple.com',
    'jane@example.com\n',
    'jane@one@two',
    `${'a'.repeat(310)}@example.com`,
  ])('refuses %j', (email) => expect(isStorableEmail(email)).toBe(false));
});

describe('sanitizeSubscriber', () => {
  it('passes an ordinary subscriber through unchanged', () => {
    expect(sanitizeSubscriber(subscriber())).toEqual({ stored: true, subscriber: subscriber() });
  });

  it('cuts an over-long name to its column, and cleans it, instead of failing the page', () => {
    const result = sanitizeSubscriber(
      subscriber({ firstName: 'N'.repeat(1_000), lastName: 'Last\u0000name' }),
    );
    expect(result).toMatchObject({ stored: true });
    if (!result.stored) return;
    expect(codePoints(result.subscriber.firstName ?? '')).toBe(SUBSCRIBER_TEXT_LIMITS.name);
    expect(result.subscriber.lastName).toBe('Lastname');
  });

  it('trims the address, empties impossible dates and cleans metadata strings and keys', () => {
    const result = sanitizeSubscriber(
      subscriber({
        email: '  jane@example.com ',
        subscribedAt: new Date('not a date'),
        metadata: { 'bad\u0000key': ['x\u0000', { deep: 'y\uD800' }], n: 1 },
      }),
    );
    expect(result).toEqual({
      stored: true,
      subscriber: subscriber({
        email: 'jane@example.com',
        subscribedAt: null,
        metadata: { badkey: ['x', { deep: 'y\uFFFD' }], n: 1 },
      }),
    });
  });

  it('keeps metadata that needs no cleaning as it came, emoji and line breaks included', () => {
    const metadata = { tags: ['vip', '🎉'], note: 'line\nbreak', nested: { café: 'ok' }, n: 2 };
    const result = sanitizeSubscriber(subscriber({ metadata }));
    expect(result.stored && result.subscriber.metadata).toBe(metadata);
  });

  it('cleans a key or value deep in metadata without touching its clean siblings', () => {
    const clean = { keep: ['a', 'b'] };
    const result = sanitizeSubscriber(
      subscriber({ metadata: { clean, list: [{ deep: ['ok', 'bad\u0007'] }] } }),
    );
    expect(result.stored && result.subscriber.metadata).toEqual({
      clean,
      list: [{ deep: ['ok', 'bad'] }],
    });
  });

  describe('given the metadata as JSON text (the sync made it for the content hash)', () => {
    const withText = (metadata: Record<string, unknown>) =>
      sanitizeSubscriber(subscriber({ metadata }), JSON.stringify(metadata));
    const without = (metadata: Record<string, unknown>) =>
      sanitizeSubscriber(subscriber({ metadata }));
    // Every character of the first 256, the surrogates' edges, and text JSON escapes with a
    // backslash that only looks like a control character's escape.
    const characters = [
      ...Array.from({ length: 256 }, (_, code) => String.fromCharCode(code)),
      '\uD800',
      '\uDBFF',
      '\uDC00',
      '\uDFFF',
      '\uD83C\uDF89',
      '\\b',
      '\\f',
      '\\u0000',
      '\\ud800',
    ];

    it.each(characters.map((c) => [JSON.stringify(c), c]))(
      'cleans %s exactly as without the text, in a key or a nested value',
      (_, c) => {
        const metadata = { [`k${c}`]: 1, nested: { list: ['ok', `v${c}`] } };
        expect(withText(metadata)).toEqual(without(metadata));
      },
    );

    it('returns clean metadata itself, without walking it', () => {
      const metadata = { tags: ['vip', '🎉'], note: 'line\nbreak\ttab\r', path: 'C:\\x' };
      const result = withText(metadata);
      expect(result.stored && result.subscriber.metadata).toBe(metadata);
    });

    it('agrees with the walk on random metadata', () => {
      let seed = 7;
      const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
      const pool = ['a', 'é', '\n', '\u0000', '\u0085', '\uD800', '\uDC00', '\\', 'b', 'u', '🎉'];
      const text = () =>
        Array.from(
          { length: Math.floor(random() * 6) },
          () => pool[Math.floor(random() * pool.length)],
        ).join('');
      for (let i = 0; i < 2_000; i++) {
        const metadata = { [text()]: text(), deep: [{ [text()]: [text(), 3, null] }] };
        expect(withText(metadata)).toEqual(without(metadata));
      }
    });
  });

  it('skips a subscriber whose address cannot be stored, keeping its id for the seen set', () => {
    expect(sanitizeSubscriber(subscriber({ email: 'not an address' }))).toEqual({
      stored: false,
      reason: 'malformed-email',
      externalId: 'sub_1',
    });
  });

  it('skips a subscriber whose id could not find it again', () => {
    for (const externalId of ['', 'x'.repeat(256), 'id\u0000']) {
      expect(sanitizeSubscriber(subscriber({ externalId }))).toEqual({
        stored: false,
        reason: 'invalid-external-id',
        externalId: null,
      });
    }
  });
});
