import {
  ALL_CATEGORIES,
  BLOCK_SIZE,
  CategoryBlockIndex,
  CategoryMask,
  stateMask,
} from './category-block-index';
import { hashIndex, seededRandom } from './fast-hash';
import { FakeListSpec, FakeMutation, FakeSubscriberIdentity } from './fake-esp-types';
import { RemovedIndices } from './removed-indices';
import {
  OTHER_STATE_BASE,
  PREMIUM_BIT,
  STATE_CODE_MASK,
  STATE_CODES,
  SubscriberGenerator,
  SubscriberState,
  TIMELINE_ANCHOR,
  TIMELINE_START,
} from './subscriber-generator';

// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { floor, max, min } = Math;
const { isInteger } = Number;

/** One subscriber as it is now: generated identity plus the list's mutations. */
export interface FakeSubscriberRecord {
  index: number;
  state: SubscriberState;
  /** For state 'other': which of the vendor's statuses outside our model (0-based); else null. */
  otherStatus: number | null;
  premium: boolean;
  email: string;
  firstName: string;
  lastName: string;
  /** Unix seconds. */
  createdAt: number;
  /** Unix seconds of the last status change (createdAt when it never changed). */
  changedAt: number;
  /** A `change` mutation gave the subscriber a new first name. */
  renamed: boolean;
}

/** Indices each change touched. */
export interface FakeListChanges {
  added: number[];
  changed: number[];
  unsubscribed: number[];
  bounced: number[];
  removed: number[];
}

interface StateOverride {
  category: number;
  changedAt: number;
  /** Set by a `change` mutation: the subscriber's new first name. */
  firstName?: string;
}

interface AddedBatch {
  start: number;
  createdAt: number;
  /** Seconds between two subscribers of the batch (0: all created in the same second). */
  spacing: number;
}

const DAY_SECONDS = 86_400;
const ACTIVE_MASK = stateMask(['active']);

/**
 * A subscriber list of any size in flat memory. Subscribers are indices 0 .. indexLimit-1, in
 * created order: the generated ones first, then the ones `mutate` added. The state is the size
 * plus small structures of mutations: removed indices, status overrides and added batches.
 * Every query is O(page) or O(blocks): nothing scans the list from its start.
 */
export class FakeList {
  readonly id: string;
  private readonly oddIdentities: Record<number, Partial<FakeSubscriberIdentity>>;
  readonly name: string;
  readonly generator: SubscriberGenerator;
  private length: number;
  private readonly removed = new RemovedIndices();
  private readonly overrides = new Map<number, StateOverride>();
  private readonly batches: AddedBatch[] = [];
  private blocks?: CategoryBlockIndex;
  private clock = TIMELINE_ANCHOR;
  private lastCreated: number;
  private mutations = 0;
  private readonly now?: () => number;
  private changedCache?: { key: string; indices: number[] };

  /**
   * @param options.complaints whether some unsubscribes are 'complained' (Kit)
   * @param options.otherStatuses how many statuses outside our model the vendor has (1-4)
   * @param options.clock the server's clock (ms): mutations happen now, as at the vendor, so a
   *   client's change filter (Mailchimp since_last_changed, Kit updated_after) on the vendor's
   *   Date header finds them. Without one, each round of mutations is a synthetic day later.
   */
  constructor(
    spec: FakeListSpec,
    options: { complaints: boolean; otherStatuses?: number; clock?: () => number },
  ) {
    if (!Number.isSafeInteger(spec.size) || spec.size < 0) {
      throw new RangeError(`list ${spec.id}: size must be a non-negative integer`);
    }
    const otherEvery = spec.otherStatusEvery ?? 0;
    if (!Number.isSafeInteger(otherEvery) || otherEvery < 0) {
      throw new RangeError(`list ${spec.id}: otherStatusEvery must be a positive integer`);
    }
    this.id = spec.id;
    this.name = spec.name;
    this.now = options.clock;
    this.oddIdentities = spec.oddIdentities ?? {};
    this.length = spec.size;
    const seed = spec.seed ?? SubscriberGenerator.defaultSeed(spec.id);
    this.generator = new SubscriberGenerator(spec.id, seed, spec.size, options.complaints, {
      every: otherEvery,
      kinds: options.otherStatuses ?? 0,
    });
    this.lastCreated = spec.size > 0 ? this.generator.createdAt(spec.size - 1) : TIMELINE_START;
  }

  /** One past the highest index ever allocated (removed ones included). */
  get indexLimit(): number {
    return this.length;
  }

  has(index: number): boolean {
    return isInteger(index) && index >= 0 && index < this.length && !this.removed.has(index);
  }

  category(index: number): number {
    return this.overrides.get(index)?.category ?? this.generator.baseCategory(index);
  }

  matches(index: number, mask: CategoryMask): boolean {
    return this.has(index) && (mask & (1 << this.category(index))) !== 0;
  }

  record(index: number): FakeSubscriberRecord {
    const category = this.category(index);
    const stateCode = category & STATE_CODE_MASK;
    const override = this.overrides.get(index);
    const identity = {
      ...this.generator.identity(index),
      ...this.oddIdentities[index],
      ...(override?.firstName !== undefined ? { firstName: override.firstName } : {}),
    };
    const createdAt = this.createdAt(index);
    return {
      index,
      state: STATE_CODES[stateCode],
      otherStatus: stateCode >= OTHER_STATE_BASE ? stateCode - OTHER_STATE_BASE : null,
      premium: (category & PREMIUM_BIT) !== 0,
      ...identity,
      createdAt,
      changedAt: override?.changedAt ?? createdAt,
      renamed: override?.firstName !== undefined,
    };
  }

  /** Present subscribers matching `mask`, in O(1) unfiltered, O(16) filtered. */
  count(mask: CategoryMask = ALL_CATEGORIES): number {
    if ((mask & ALL_CATEGORIES) === ALL_CATEGORIES) return this.length - this.removed.size;
    return this.blockIndex().total(mask);
  }

  /** The index of the k-th (0-based, ascending) present subscriber matching `mask`. */
  nth(k: number, mask: CategoryMask = ALL_CATEGORIES): number | undefined {
    if (!isInteger(k) || k < 0 || k >= this.count(mask)) return undefined;
    if ((mask & ALL_CATEGORIES) === ALL_CATEGORIES) return this.removed.nthSurvivor(k);
    const blocks = this.blockIndex();
    let before = 0;
    for (let block = 0; block * BLOCK_SIZE < this.length; block++) {
      const inBlock = blocks.blockCount(block, mask);
      if (before + inBlock > k) {
        const end = min(this.length, (block + 1) * BLOCK_SIZE);
        for (let index = block * BLOCK_SIZE; index < end; index++) {
          if (this.matches(index, mask) && before++ === k) return index;
        }
      }
      before += inBlock;
    }
    return undefined;
  }

  /** The first present subscriber matching `mask` at or after `from`, walking in `direction`. */
  next(from: number, direction: 1 | -1, mask: CategoryMask = ALL_CATEGORIES): number | undefined {
    let index = direction > 0 ? max(0, from) : min(this.length - 1, from);
    if ((mask & ALL_CATEGORIES) === ALL_CATEGORIES) {
      for (; index >= 0 && index < this.length; index += direction) {
        if (!this.removed.has(index)) return index;
      }
      return undefined;
    }
    if ((mask & ALL_CATEGORIES) === 0) return undefined;
    const blocks = this.blockIndex();
    let checkBlock = true;
    while (index >= 0 && index < this.length) {
      if (checkBlock) {
        const block = floor(index / BLOCK_SIZE);
        if (blocks.blockCount(block, mask) === 0) {
          index = direction > 0 ? (block + 1) * BLOCK_SIZE : block * BLOCK_SIZE - 1;
          continue;
        }
        checkBlock = false;
      }
      if (this.matches(index, mask)) return index;
      index += direction;
      checkBlock = index % BLOCK_SIZE === (direction > 0 ? 0 : BLOCK_SIZE - 1);
    }
    return undefined;
  }

  /** Up to `limit` present subscribers matching `mask`, starting at `from`, in `direction`. */
  collect(from: number, direction: 1 | -1, mask: CategoryMask, limit: number): number[] {
    const found: number[] = [];
    let index = from;
    while (found.length < limit) {
      const hit = this.next(index, direction, mask);
      if (hit === undefined) break;
      found.push(hit);
      index = hit + direction;
    }
    return found;
  }

  /** Every present subscriber, ascending, lazily. */
  *indices(): IterableIterator<number> {
    for (let index = this.next(0, 1); index !== undefined; index = this.next(index + 1, 1)) {
      yield index;
    }
  }

  /** The present subscriber with this email (case-insensitive), in O(1). */
  indexOfEmail(email: string): number | undefined {
    const index = SubscriberGenerator.indexOfEmail(email);
    if (index === undefined || !this.has(index)) return undefined;
    return this.generator.identity(index).email === email.toLowerCase() ? index : undefined;
  }

  /**
   * Applies one round of changes between two syncs. Which subscribers change is a deterministic
   * function of the list and how many rounds came before. Unsubscribes and bounces pick active
   * subscribers; removals pick any; a subscriber is touched at most once per round; added ones
   * come last, with later created timestamps (and higher indices) than everyone before them.
   */
  mutate(change: FakeMutation): FakeListChanges {
    const amounts = {
      add: amount(change.add, 'add'),
      change: amount(change.change, 'change'),
      unsubscribe: amount(change.unsubscribe, 'unsubscribe'),
      bounce: amount(change.bounce, 'bounce'),
      remove: amount(change.remove, 'remove'),
    };
    this.mutations++;
    this.changedCache = undefined;
    this.clock = this.now
      ? max(floor(this.now() / 1000), this.lastCreated + 1)
      : max(this.clock + DAY_SECONDS, this.lastCreated + 1);
    const random = seededRandom(hashIndex(this.generator.salt, this.mutations, 0x5eed));
    const taken = new Set<number>();
    const changed = this.pick(amounts.change, ALL_CATEGORIES, random, taken);
    const unsubscribed = this.pick(amounts.unsubscribe, ACTIVE_MASK, random, taken);
    const bounced = this.pick(amounts.bounce, ACTIVE_MASK, random, taken);
    const removed = this.pick(amounts.remove, ALL_CATEGORIES, random, taken);

    for (const index of changed) {
      const first = this.record(index).firstName;
      this.overrides.set(index, {
        category: this.category(index),
        changedAt: this.clock,
        firstName: `${first.replace(/ \(\d+\)$/, '')} (${this.mutations})`,
      });
    }
    for (const index of unsubscribed) this.setState(index, 1);
    for (const index of bounced) this.setState(index, 2);
    for (const index of removed) {
      this.blocks?.remove(index, this.category(index));
      this.overrides.delete(index);
    }
    this.removed.addAll(removed);

    const added: number[] = [];
    if (amounts.add > 0) {
      const start = this.length;
      // On a real clock a batch is added now, all in one second; synthetic time spaces them.
      const spacing = this.now ? 0 : 1;
      this.batches.push({ start, createdAt: this.clock, spacing });
      for (let offset = 0; offset < amounts.add; offset++) {
        added.push(start + offset);
        this.blocks?.add(start + offset, 0);
      }
      this.length += amounts.add;
      this.lastCreated = this.clock + (amounts.add - 1) * spacing;
    }
    return { added, changed, unsubscribed, bounced, removed };
  }

  /**
   * Present subscribers matching `mask` created or changed at or after `fromSeconds`, ascending:
   * what a vendor's change filter answers. Created times never decrease with the index, so the
   * created ones are a tail of the list; the changed ones before it are the status overrides. Kept
   * until the next mutation, so paging through one filter costs one build.
   */
  changedSince(fromSeconds: number, mask: CategoryMask = ALL_CATEGORIES): number[] {
    const key = `${fromSeconds}:${mask}`;
    if (this.changedCache?.key === key) return this.changedCache.indices;
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.createdAt(mid) >= fromSeconds) hi = mid;
      else lo = mid + 1;
    }
    const tail = lo;
    const indices: number[] = [];
    for (const [index, override] of this.overrides) {
      if (index < tail && override.changedAt >= fromSeconds && this.matches(index, mask)) {
        indices.push(index);
      }
    }
    indices.sort((a, b) => a - b);
    for (let index = this.next(tail, 1, mask); index !== undefined;) {
      indices.push(index);
      index = this.next(index + 1, 1, mask);
    }
    this.changedCache = { key, indices };
    return indices;
  }

  private createdAt(index: number): number {
    if (index < this.generator.size) return this.generator.createdAt(index);
    let lo = 0;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.batches[mid].start <= index) lo = mid;
      else hi = mid - 1;
    }
    const batch = this.batches[lo];
    return batch.createdAt + (index - batch.start) * batch.spacing;
  }

  private setState(index: number, stateCode: number): void {
    const from = this.category(index);
    const to = (from & PREMIUM_BIT) | stateCode;
    this.overrides.set(index, {
      ...this.overrides.get(index),
      category: to,
      changedAt: this.clock,
    });
    this.blocks?.move(index, from, to);
  }

  private pick(
    wanted: number,
    mask: CategoryMask,
    random: () => number,
    taken: Set<number>,
  ): number[] {
    const picked: number[] = [];
    const total = this.count();
    if (wanted === 0 || total === 0) return picked;
    const accept = (index: number): void => {
      if (taken.has(index) || (mask & (1 << this.category(index))) === 0) return;
      taken.add(index);
      picked.push(index);
    };
    // Random probes find candidates in O(log removed) each on any realistic list ...
    for (let attempt = 0; attempt < wanted * 20 + 100 && picked.length < wanted; attempt++) {
      accept(this.removed.nthSurvivor(floor(random() * total)));
    }
    // ... and a walk over the list finishes the job when candidates are scarce.
    for (const index of this.indices()) {
      if (picked.length >= wanted) break;
      accept(index);
    }
    return picked;
  }

  /** Built on the first status-filtered query, then kept up to date by every mutation. */
  private blockIndex(): CategoryBlockIndex {
    this.blocks ??= new CategoryBlockIndex(this.length, (index) =>
      this.removed.has(index) ? undefined : this.category(index),
    );
    return this.blocks;
  }
}

function amount(value: number | undefined, name: string): number {
  const n = value ?? 0;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`mutate: ${name} must be a non-negative integer`);
  }
  return n;
}
