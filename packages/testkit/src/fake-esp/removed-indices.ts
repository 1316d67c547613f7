/**
 * The indices removed from a list: a sorted array for rank arithmetic plus a set for lookups.
 * Memory is proportional to the number of removals, never to the list's size.
 */
export class RemovedIndices {
  private sorted: number[] = [];
  private readonly members = new Set<number>();

  get size(): number {
    return this.sorted.length;
  }

  has(index: number): boolean {
    return this.members.has(index);
  }

  /** Adds a batch in O(removed + batch log batch): one merge, not one insertion per index. */
  addAll(indices: readonly number[]): void {
    const fresh = [...new Set(indices)].filter((i) => !this.members.has(i)).sort((a, b) => a - b);
    if (fresh.length === 0) return;
    const merged: number[] = [];
    let a = 0;
    let b = 0;
    while (a < this.sorted.length || b < fresh.length) {
      if (b >= fresh.length || (a < this.sorted.length && this.sorted[a] < fresh[b])) {
        merged.push(this.sorted[a++]);
      } else {
        merged.push(fresh[b++]);
      }
    }
    this.sorted = merged;
    for (const index of fresh) this.members.add(index);
  }

  /**
   * The index of the k-th (0-based) index that is not removed, in O(log removed). With removed
   * indices R sorted, R[j] - j of them lie below the k-th survivor exactly when R[j] - j <= k, and
   * R[j] - j never decreases, so a binary search counts them.
   */
  nthSurvivor(k: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] - mid <= k) lo = mid + 1;
      else hi = mid;
    }
    return k + lo;
  }
}
