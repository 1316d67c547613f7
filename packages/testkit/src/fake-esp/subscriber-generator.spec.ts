import { STATE_CODE_MASK, STATE_CODES, SubscriberGenerator } from './subscriber-generator';

describe('SubscriberGenerator', () => {
  it('derives the same subscriber from the same seed, list id and index', () => {
    const a = new SubscriberGenerator('pub_1', 7, 1000, false);
    const b = new SubscriberGenerator('pub_1', 7, 1000, false);
    for (const index of [0, 1, 499, 999]) {
      expect(b.identity(index)).toEqual(a.identity(index));
      expect(b.uuid(index)).toBe(a.uuid(index));
      expect(b.baseCategory(index)).toBe(a.baseCategory(index));
      expect(b.createdAt(index)).toBe(a.createdAt(index));
    }
  });

  it('derives different subscribers for another seed or another list', () => {
    const base = new SubscriberGenerator('pub_1', 7, 1000, false);
    const otherSeed = new SubscriberGenerator('pub_1', 8, 1000, false);
    const otherList = new SubscriberGenerator('pub_2', 7, 1000, false);
    const uuids = (g: SubscriberGenerator): string[] => [0, 1, 2, 3].map((i) => g.uuid(i));
    expect(uuids(otherSeed)).not.toEqual(uuids(base));
    expect(uuids(otherList)).not.toEqual(uuids(base));
  });

  it('gives every subscriber a unique lower-case email and a unique v4-shaped uuid', () => {
    const generator = new SubscriberGenerator('list', 1, 50_000, false);
    const emails = new Set<string>();
    const uuids = new Set<string>();
    let notLowerCase = 0;
    for (let index = 0; index < 50_000; index++) {
      const { email } = generator.identity(index);
      if (email !== email.toLowerCase()) notLowerCase++;
      emails.add(email);
      uuids.add(generator.uuid(index));
    }
    expect(notLowerCase).toBe(0);
    expect(emails.size).toBe(50_000);
    expect(uuids.size).toBe(50_000);
    expect(generator.identity(42).email).toMatch(/^[a-z]+\.[a-z]+\.42@example\.test$/);
    expect(generator.uuid(42)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('reads the index back from a generated email', () => {
    const generator = new SubscriberGenerator('list', 1, 100, false);
    expect(SubscriberGenerator.indexOfEmail(generator.identity(73).email)).toBe(73);
    expect(SubscriberGenerator.indexOfEmail('someone@elsewhere.test')).toBeUndefined();
  });

  it('creates subscribers in strictly increasing order of created time', () => {
    for (const size of [1, 10, 100_000, 5_000_000]) {
      const generator = new SubscriberGenerator('list', 3, size, false);
      let outOfOrder = 0;
      for (let index = 1; index < Math.min(size, 10_000); index++) {
        if (generator.createdAt(index) <= generator.createdAt(index - 1)) outOfOrder++;
      }
      expect(outOfOrder).toBe(0);
      expect(Number.isInteger(generator.createdAt(size - 1))).toBe(true);
    }
  });

  it('makes ~90% active, ~7% unsubscribed and ~3% bounced, with complaints for Kit only', () => {
    const tally = (complaints: boolean): Record<string, number> => {
      const generator = new SubscriberGenerator('list', 5, 100_000, complaints);
      const counts: Record<string, number> = {};
      for (let index = 0; index < 100_000; index++) {
        const state = STATE_CODES[generator.baseCategory(index) & STATE_CODE_MASK];
        counts[state] = (counts[state] ?? 0) + 1;
      }
      return counts;
    };
    const plain = tally(false);
    expect(plain.active / 100_000).toBeCloseTo(0.9, 1);
    expect(plain.unsubscribed / 100_000).toBeCloseTo(0.07, 1);
    expect(plain.bounced / 100_000).toBeCloseTo(0.03, 1);
    expect(plain.complained).toBeUndefined();
    const kit = tally(true);
    expect(kit.complained).toBeGreaterThan(500);
    expect((kit.unsubscribed + kit.complained) / 100_000).toBeCloseTo(0.07, 1);
  });

  it('gives every Nth subscriber the next of the vendor statuses outside our model, in turn', () => {
    const plain = new SubscriberGenerator('list', 5, 100, false);
    const mixed = new SubscriberGenerator('list', 5, 100, false, { every: 10, kinds: 3 });
    const code = (g: SubscriberGenerator, index: number): number =>
      g.baseCategory(index) & STATE_CODE_MASK;
    const others = [...Array(100).keys()].filter((i) => STATE_CODES[code(mixed, i)] === 'other');
    expect(others).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    expect(others.map((i) => code(mixed, i) - 4)).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    // Everyone else, and every tier, is exactly as without the option.
    for (let index = 0; index < 100; index++) {
      if (!others.includes(index))
        expect(mixed.baseCategory(index)).toBe(plain.baseCategory(index));
      expect(mixed.baseCategory(index) & ~STATE_CODE_MASK).toBe(
        plain.baseCategory(index) & ~STATE_CODE_MASK,
      );
    }
    expect(mixed.baseCategory(109)).toBe(0); // added later: active and free
    expect(() => new SubscriberGenerator('list', 5, 100, false, { every: 10, kinds: 0 })).toThrow(
      RangeError,
    );
  });

  it('starts added subscribers (index >= size) active and free', () => {
    const generator = new SubscriberGenerator('list', 1, 10, false);
    expect(generator.baseCategory(10)).toBe(0);
    expect(generator.baseCategory(11)).toBe(0);
  });
});
