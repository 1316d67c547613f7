import { FakeAccountSpec, FakeEspType } from './fake-esp-types';
import { FakeList } from './fake-list';
import { OTHER_STATUSES } from './vendor-statuses';

const WINDOW_MS = 60_000;

/** One ESP account: its key, its lists, and the request bookkeeping rate limits need. */
export class FakeAccount {
  readonly esp: FakeEspType;
  readonly apiKey: string;
  readonly lists: FakeList[];
  readonly beehiivPagination: 'top-level' | 'nested';
  /** Requests currently being answered (Mailchimp refuses the 11th). */
  inFlight = 0;
  private windowStart = 0;
  private windowCount = 0;

  constructor(spec: FakeAccountSpec) {
    this.esp = spec.esp;
    this.apiKey = spec.apiKey;
    this.beehiivPagination = spec.beehiivPagination ?? 'top-level';
    this.lists = spec.lists.map(
      (list) =>
        new FakeList(list, {
          complaints: spec.esp === 'kit',
          otherStatuses: OTHER_STATUSES[spec.esp].length,
        }),
    );
  }

  /** Mailchimp: the data centre, the key's suffix after its last '-'. */
  get dataCenter(): string {
    return this.apiKey.slice(this.apiKey.lastIndexOf('-') + 1);
  }

  list(id: string): FakeList | undefined {
    return this.lists.find((list) => list.id === id);
  }

  /** Counts a request in the current fixed one-minute window. */
  countRequest(nowMs: number): { used: number; resetEpochSeconds: number } {
    const windowStart = nowMs - (nowMs % WINDOW_MS);
    if (windowStart !== this.windowStart) {
      this.windowStart = windowStart;
      this.windowCount = 0;
    }
    this.windowCount++;
    return { used: this.windowCount, resetEpochSeconds: (windowStart + WINDOW_MS) / 1000 };
  }
}
