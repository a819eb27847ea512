/**
 * Seeded permutations for shuffling training data: Fisher-Yates driven by mulberry32, a small
 * 32-bit generator that is plenty for ordering examples (not for noise: that is Philox on the GPU).
 */
import { mulberry32 } from '../explain/random.js';

// the generator lives below train (explain uses it too); re-exported for train's own users
export { mulberry32 };

/** 0..n-1 in an order fixed by `seed`. */
export function seededPermutation(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
