import {
  CATEGORY_COUNT,
  MAX_OTHER_STATUSES,
  OTHER_STATE_BASE,
  PREMIUM_BIT,
  STATE_CODES,
  SubscriberState,
} from './subscriber-generator';

// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { ceil, floor, max } = Math;

/** Bit mask over the 16 subscriber categories (state code | premium bit). */
export type CategoryMask = number;
export const ALL_CATEGORIES: CategoryMask = (1 << CATEGORY_COUNT) - 1;

export const BLOCK_SIZE = 1024;

/**
 * Counts of present subscribers per category in blocks of 1024 consecutive indices. It lets a
 * status-filtered query skip blocks with no match and find the k-th match by walking block
 * counts instead of subscribers: O(size / 1024) integers of memory, O(blocks + 1024) per lookup.
 */
export class CategoryBlockIndex {
  private counts: Int32Array;
  private readonly totals = new Array<number>(CATEGORY_COUNT).fill(0);

  constructor(length: number, categoryOf: (index: number) => number | undefined) {
    this.counts = new Int32Array(max(1, ceil(length / BLOCK_SIZE)) * CATEGORY_COUNT);
    for (let index = 0; index < length; index++) {
      const category = categoryOf(index);
      if (category !== undefined) this.add(index, category);
    }
  }

  add(index: number, category: number): void {
    this.bump(index, category, 1);
  }

  remove(index: number, category: number): void {
    this.bump(index, category, -1);
  }

  move(index: number, from: number, to: number): void {
    this.bump(index, from, -1);
    this.bump(index, to, 1);
  }

  /** Present subscribers matching `mask` in block `block`. */
  blockCount(block: number, mask: CategoryMask): number {
    const base = block * CATEGORY_COUNT;
    if (base >= this.counts.length) return 0;
    let sum = 0;
    for (let category = 0; category < CATEGORY_COUNT; category++) {
      if (mask & (1 << category)) sum += this.counts[base + category];
    }
    return sum;
  }

  get blockCapacity(): number {
    return this.counts.length / CATEGORY_COUNT;
  }

  total(mask: CategoryMask): number {
    let sum = 0;
    for (let category = 0; category < CATEGORY_COUNT; category++) {
      if (mask & (1 << category)) sum += this.totals[category];
    }
    return sum;
  }

  private bump(index: number, category: number, delta: number): void {
    const slot = floor(index / BLOCK_SIZE) * CATEGORY_COUNT + category;
    if (slot >= this.counts.length) {
      const grown = new Int32Array(max(this.counts.length * 2, slot + CATEGORY_COUNT));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[slot] += delta;
    this.totals[category] += delta;
  }
}

/** The mask matching subscribers in any of `states` ('other': any status outside our model). */
export function stateMask(states: readonly SubscriberState[]): CategoryMask {
  let mask = 0;
  STATE_CODES.forEach((state, code) => {
    if (states.includes(state)) mask |= codeMask(code);
  });
  return mask;
}

/** The mask matching the vendor's `n`-th (0-based) status outside our model, free or premium. */
export function otherStatusMask(n: number): CategoryMask {
  if (!Number.isInteger(n) || n < 0 || n >= MAX_OTHER_STATUSES) {
    throw new RangeError(`no other status #${n}`);
  }
  return codeMask(OTHER_STATE_BASE + n);
}

function codeMask(code: number): CategoryMask {
  return (1 << code) | (1 << (code | PREMIUM_BIT));
}

/** Free-tier categories: every state code without the premium bit. */
export const FREE_TIER_MASK: CategoryMask = (1 << PREMIUM_BIT) - 1;
export const PREMIUM_TIER_MASK: CategoryMask = ALL_CATEGORIES & ~FREE_TIER_MASK;
