import {
  ALL_CATEGORIES,
  BLOCK_SIZE,
  FREE_TIER_MASK,
  otherStatusMask,
  PREMIUM_TIER_MASK,
  stateMask,
} from './category-block-index';
import { FakeList } from './fake-list';
import { STATE_CODE_MASK } from './subscriber-generator';

const ACTIVE = stateMask(['active']);
const BOUNCED = stateMask(['bounced']);
const OTHER = stateMask(['other']);
const MASKS = [
  ALL_CATEGORIES,
  ACTIVE,
  BOUNCED,
  ACTIVE & PREMIUM_TIER_MASK,
  OTHER,
  otherStatusMask(1),
  otherStatusMask(3) & FREE_TIER_MASK,
  ALL_CATEGORIES & ~OTHER,
  0,
];

/** The slow, obviously right answer: walk every index. */
function bruteForce(list: FakeList, mask: number): number[] {
  const found: number[] = [];
  for (let index = 0; index < list.indexLimit; index++) {
    if (list.matches(index, mask)) found.push(index);
  }
  return found;
}

function expectIndexesAgree(list: FakeList): void {
  for (const mask of MASKS) {
    const expected = bruteForce(list, mask);
    expect(list.count(mask)).toBe(expected.length);
    for (const k of [0, 1, 17, Math.floor(expected.length / 2), expected.length - 1]) {
      if (k >= 0 && k < expected.length) expect(list.nth(k, mask)).toBe(expected[k]);
    }
    expect(list.nth(expected.length, mask)).toBeUndefined();
    expect(list.collect(0, 1, mask, expected.length + 5)).toEqual(expected);
    expect(list.collect(list.indexLimit - 1, -1, mask, 50)).toEqual(expected.slice(-50).reverse());
    const from = BLOCK_SIZE + 3;
    expect(list.next(from, 1, mask)).toBe(expected.find((i) => i >= from));
  }
}

describe('FakeList', () => {
  it('answers counts, ranks and walks like a brute-force scan, before and after mutations', () => {
    const list = new FakeList(
      { id: 'l', name: 'L', size: 5 * BLOCK_SIZE + 7 },
      { complaints: true },
    );
    expectIndexesAgree(list);
    list.mutate({ unsubscribe: 40, bounce: 30, remove: 200, add: 25 });
    expectIndexesAgree(list);
    list.mutate({ remove: 1500, add: BLOCK_SIZE + 1 });
    expectIndexesAgree(list);
  });

  it('does the same with statuses outside our model, which mutations leave alone', () => {
    const list = new FakeList(
      { id: 'l', name: 'L', size: 5 * BLOCK_SIZE + 7, otherStatusEvery: 6 },
      { complaints: false, otherStatuses: 4 },
    );
    expect(list.count(OTHER)).toBe(Math.floor((5 * BLOCK_SIZE + 7) / 6));
    expect(list.record(5)).toMatchObject({ state: 'other', otherStatus: 0 });
    expect(list.record(11)).toMatchObject({ state: 'other', otherStatus: 1 });
    expect(list.record(4).otherStatus).toBeNull();
    expectIndexesAgree(list);
    const changes = list.mutate({ unsubscribe: 300, bounce: 200, remove: 100, add: 50 });
    for (const index of [...changes.unsubscribed, ...changes.bounced]) {
      expect((index + 1) % 6).not.toBe(0);
    }
    for (const index of changes.added) expect(list.record(index).state).toBe('active');
    expectIndexesAgree(list);
  });

  it('rejects an otherStatusEvery that is not a whole number', () => {
    for (const otherStatusEvery of [-1, 1.5, Number.NaN]) {
      expect(
        () =>
          new FakeList(
            { id: 'l', name: 'L', size: 10, otherStatusEvery },
            { complaints: false, otherStatuses: 1 },
          ),
      ).toThrow(RangeError);
    }
  });

  it('chooses the same subscribers for the same mutations of the same list', () => {
    const make = (): FakeList =>
      new FakeList({ id: 'l', name: 'L', size: 10_000 }, { complaints: false });
    const a = make();
    const b = make();
    expect(b.mutate({ unsubscribe: 5, bounce: 5, remove: 5, add: 5 })).toEqual(
      a.mutate({ unsubscribe: 5, bounce: 5, remove: 5, add: 5 }),
    );
    expect(b.mutate({ remove: 3 })).toEqual(a.mutate({ remove: 3 }));
  });

  it('unsubscribes and bounces active subscribers, removes any, and appends added ones', () => {
    const list = new FakeList({ id: 'l', name: 'L', size: 1000 }, { complaints: false });
    const before = list.count();
    const activeBefore = list.count(ACTIVE);
    const changes = list.mutate({ add: 10, unsubscribe: 7, bounce: 3, remove: 4 });
    expect(changes.added).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009]);
    expect(new Set([...changes.unsubscribed, ...changes.bounced, ...changes.removed]).size).toBe(
      14,
    );
    for (const index of changes.unsubscribed) expect(list.record(index).state).toBe('unsubscribed');
    for (const index of changes.bounced) expect(list.record(index).state).toBe('bounced');
    for (const index of changes.removed) expect(list.has(index)).toBe(false);
    expect(list.count()).toBe(before + 10 - 4);
    const removedActive = changes.removed.filter(
      (i) => i < 1000 && (list.generator.baseCategory(i) & STATE_CODE_MASK) === 0,
    );
    expect(list.count(ACTIVE)).toBe(activeBefore + 10 - 7 - 3 - removedActive.length);
    const newest = list.record(1009);
    expect(newest.createdAt).toBeGreaterThan(list.record(999).createdAt);
    expect(list.record(1000).createdAt).toBeLessThan(newest.createdAt);
  });

  it('touches only as many subscribers as exist', () => {
    const list = new FakeList({ id: 'l', name: 'L', size: 3 }, { complaints: false });
    const changes = list.mutate({ remove: 10 });
    expect(changes.removed.sort()).toEqual([0, 1, 2]);
    expect(list.count()).toBe(0);
    expect(list.mutate({ unsubscribe: 1 }).unsubscribed).toEqual([]);
  });

  it('finds a subscriber by email, case-insensitively, unless removed', () => {
    const list = new FakeList({ id: 'l', name: 'L', size: 100 }, { complaints: false });
    const email = list.record(42).email;
    expect(list.indexOfEmail(email.toUpperCase())).toBe(42);
    expect(list.indexOfEmail(email.replace('.42@', '.43@'))).toBeUndefined();
  });

  it('answers deep, filtered queries on a list of millions without materialising it', () => {
    const list = new FakeList({ id: 'big', name: 'Big', size: 3_000_000 }, { complaints: false });
    const last = list.nth(list.count(BOUNCED) - 1, BOUNCED);
    expect(last).toBeDefined();
    expect(list.record(last!).state).toBe('bounced');
    expect(list.next(2_999_999, -1, BOUNCED)).toBe(last);
    expect(list.nth(2_999_999)).toBe(2_999_999);
    list.mutate({ remove: 1000 });
    expect(list.count()).toBe(2_999_000);
  });
});
