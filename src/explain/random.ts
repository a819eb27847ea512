/**
 * mulberry32, a small seeded 32-bit generator for choices made on the CPU: the perturbation
 * methods' masks and coalitions, PCA's and t-SNE's starts, and the training data's order
 * (src/train/shuffle.ts). Not for noise on images: that is Philox on the GPU (src/ops/random.ts).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from two uniforms (Box-Muller): PCA's starting subspace, t-SNE's initial layout. */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
