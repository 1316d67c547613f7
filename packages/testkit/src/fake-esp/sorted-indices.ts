/**
 * Walks an ascending array of subscriber indices the way FakeList walks the whole list
 * (`next`/`collect`): what a route pages through when a change filter picked the subscribers.
 */
export class SortedIndices {
  constructor(private readonly sorted: readonly number[]) {}

  get count(): number {
    return this.sorted.length;
  }

  nth(k: number): number | undefined {
    return this.sorted[k];
  }

  /** The first index at or after `from` in `direction`. */
  next(from: number, direction: 1 | -1): number | undefined {
    let lo = 0;
    let hi = this.sorted.length;
    // First position whose index is >= from (ascending) or > from (for the descending walk).
    const bound = direction > 0 ? from : from + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < bound) lo = mid + 1;
      else hi = mid;
    }
    return direction > 0 ? this.sorted[lo] : this.sorted[lo - 1];
  }

  collect(from: number, direction: 1 | -1, limit: number): number[] {
    const found: number[] = [];
    for (let index = this.next(from, direction); index !== undefined && found.length < limit;) {
      found.push(index);
      index = this.next(index + direction, direction);
    }
    return found;
  }
}
