import { createHash } from 'node:crypto';

// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { imul } = Math;

/** murmur3's 32-bit finaliser: a bijection on uint32 that spreads every input bit. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A uint32 for (salt, index, lane). For a fixed salt and lane it is a bijection of the index
 * (below 2^32), so lane values never collide between two subscribers of one list.
 */
export function hashIndex(salt: number, index: number, lane: number): number {
  const spread = mix32(salt ^ imul(index, 0x9e3779b1));
  return mix32(spread ^ imul(lane + 1, 0x7feb352d));
}

/** A float in [0, 1) for (salt, index, lane). */
export function unitHash(salt: number, index: number, lane: number): number {
  return hashIndex(salt, index, lane) / 0x1_0000_0000;
}

/** The first 32 bits of sha256(text), for seeds and salts derived from ids. */
export function hashText(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** A small deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
