import { hashIndex, hashText, unitHash } from './fast-hash';

// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { floor, max } = Math;

/**
 * Our status of a subscriber. 'complained' exists for Kit only and counts as unsubscribed;
 * 'other' is a vendor status our model does not sync (which one: `FakeSubscriberRecord.otherStatus`).
 */
export type SubscriberState = 'active' | 'unsubscribed' | 'bounced' | 'complained' | 'other';

/**
 * State codes: 0-3 are the named states, 4-7 a vendor's first to fourth status outside our
 * model. A category is `stateCode | (premium ? PREMIUM_BIT : 0)`, so 16 categories in all.
 */
export const STATE_CODES: readonly SubscriberState[] = [
  'active',
  'unsubscribed',
  'bounced',
  'complained',
  'other',
  'other',
  'other',
  'other',
];
/** The state code of a vendor's first status outside our model. */
export const OTHER_STATE_BASE = 4;
/** beehiiv has the most statuses outside our model: validating, pending, needs_attention, paused. */
export const MAX_OTHER_STATUSES = 4;
export const STATE_CODE_MASK = 7;
export const PREMIUM_BIT = 8;
export const CATEGORY_COUNT = 16;

/** Which subscribers get a vendor status outside our model; `every` 0 means none. */
export interface OtherStatusPlan {
  /** Every `every`-th generated subscriber (indices every-1, 2·every-1, ...). */
  every: number;
  /** How many such statuses the vendor has; they are handed out in turn. */
  kinds: number;
}

/** Hash lanes, one per independent trait; vendor modules use `vendorLane(n)`. */
const LANE = { uuid: 0, state: 4, tier: 5, first: 6, last: 7, jitter: 8 } as const;
export function vendorLane(n: number): number {
  return 16 + n;
}

/** Generated lists start here and spread their created timestamps up to the anchor. */
export const TIMELINE_START = Date.UTC(2019, 0, 1) / 1000;
export const TIMELINE_ANCHOR = Date.UTC(2025, 0, 1) / 1000;

const FIRST_NAMES = (
  'Ada Alan Amara Anna Aria Ben Bianca Carlos Chen Chloe Dana David Elena Emil Eva ' +
  'Farah Felix Grace Hana Hugo Ines Ivan Jade James Joao Kai Keiko Lars Leila Liam ' +
  'Lina Luca Maya Mateo Mei Nadia Nia Noah Olga Omar Priya Quinn Rafael Rosa Sam ' +
  'Sara Tariq Tomas Uma Victor Wen Yara Yusuf Zoe'
).split(' ');
const LAST_NAMES = (
  'Abara Andersen Bauer Becker Costa Cruz Dubois Eriksen Fischer Garcia Haddad ' +
  'Hansen Ito Jansen Kim Kowalski Lee Lopez Mbeki Meyer Moreau Nakamura Novak ' +
  'Okafor Olsen Patel Perez Quist Rossi Santos Schmidt Silva Singh Smith Tanaka ' +
  'Torres Usman Varga Wagner Weber Xu Yilmaz Young Zhang'
).split(' ');

export interface SubscriberIdentity {
  email: string;
  firstName: string;
  lastName: string;
}

/**
 * Derives subscriber i of a list from a hash of (seed, list id, i): nothing is stored, so a list
 * of millions costs no memory. Indices at or above `size` are subscribers added later; their
 * identity is derived the same way, their state starts active and their tier free.
 */
export class SubscriberGenerator {
  readonly salt: number;
  private readonly step: number;

  constructor(
    readonly listId: string,
    readonly seed: number,
    readonly size: number,
    private readonly withComplaints: boolean,
    private readonly others: OtherStatusPlan = { every: 0, kinds: 0 },
  ) {
    if (others.every > 0 && !(others.kinds >= 1 && others.kinds <= MAX_OTHER_STATUSES)) {
      throw new RangeError(`other statuses: kinds must be from 1 to ${MAX_OTHER_STATUSES}`);
    }
    this.salt = hashText(`${seed}:${listId}`);
    this.step = max(1, floor((TIMELINE_ANCHOR - TIMELINE_START) / max(size, 1)));
  }

  /** The seed a list gets when its spec names none. */
  static defaultSeed(listId: string): number {
    return hashText(`seed:${listId}`);
  }

  /**
   * ~90% active, ~7% unsubscribed (Kit: ~1% of those complained), ~3% bounced; ~5% premium.
   * With other statuses planned, every Nth subscriber instead has the vendor's next status
   * outside our model, in turn (the first such status, the second, ..., then the first again).
   */
  baseCategory(index: number): number {
    if (index >= this.size) return 0;
    const premium = unitHash(this.salt, index, LANE.tier) < 0.05 ? PREMIUM_BIT : 0;
    const { every, kinds } = this.others;
    if (every > 0 && (index + 1) % every === 0) {
      return (OTHER_STATE_BASE + (((index + 1) / every - 1) % kinds)) | premium;
    }
    const roll = unitHash(this.salt, index, LANE.state);
    let state: number;
    if (roll < 0.9) state = 0;
    else if (roll < 0.96) state = 1;
    else if (roll < 0.97) state = this.withComplaints ? 3 : 1;
    else state = 2;
    return state | premium;
  }

  identity(index: number): SubscriberIdentity {
    const first = FIRST_NAMES[hashIndex(this.salt, index, LANE.first) % FIRST_NAMES.length];
    const last = LAST_NAMES[hashIndex(this.salt, index, LANE.last) % LAST_NAMES.length];
    return {
      email: `${first}.${last}.${index}@example.test`.toLowerCase(),
      firstName: first,
      lastName: last,
    };
  }

  /** The index an email was generated for, when it has our shape (the identity must still match). */
  static indexOfEmail(email: string): number | undefined {
    const match = /\.(\d{1,15})@example\.test$/.exec(email.toLowerCase());
    return match ? Number(match[1]) : undefined;
  }

  /** A version-4-shaped UUID; its first 32 bits are a bijection of the index, so it is unique. */
  uuid(index: number): string {
    const a = hex8(hashIndex(this.salt, index, LANE.uuid));
    const b = hex8(hashIndex(this.salt, index, LANE.uuid + 1));
    const c = hashIndex(this.salt, index, LANE.uuid + 2);
    const d = hex8(hashIndex(this.salt, index, LANE.uuid + 3));
    const variant = (((c >>> 28) & 0x3) | 0x8).toString(16);
    const cHex = hex8(c);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${cHex.slice(1, 4)}-${cHex.slice(4)}${d}`;
  }

  /** Unix seconds, strictly increasing with the index over the generated range. */
  createdAt(index: number): number {
    const jitter = floor(unitHash(this.salt, index, LANE.jitter) * this.step);
    return TIMELINE_START + index * this.step + jitter;
  }

  /** A float in [0, 1) for a vendor-specific trait of subscriber `index`. */
  unit(index: number, lane: number): number {
    return unitHash(this.salt, index, lane);
  }

  /** A uint32 for a vendor-specific trait of subscriber `index`. */
  bits(index: number, lane: number): number {
    return hashIndex(this.salt, index, lane);
  }
}

const BYTE_HEX = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

function hex8(value: number): string {
  return (
    BYTE_HEX[value >>> 24] +
    BYTE_HEX[(value >>> 16) & 0xff] +
    BYTE_HEX[(value >>> 8) & 0xff] +
    BYTE_HEX[value & 0xff]
  );
}
