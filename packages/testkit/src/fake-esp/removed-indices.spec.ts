import { RemovedIndices } from './removed-indices';

describe('RemovedIndices', () => {
  it('maps a rank among survivors to its index, whatever was removed', () => {
    const removed = new RemovedIndices();
    removed.addAll([0, 1, 5, 6, 7, 20]);
    removed.addAll([7, 3, 30]); // duplicates are ignored
    const survivors = Array.from({ length: 40 }, (_, i) => i).filter((i) => !removed.has(i));
    expect(removed.size).toBe(8);
    survivors.forEach((index, rank) => expect(removed.nthSurvivor(rank)).toBe(index));
  });
});
