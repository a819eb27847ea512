/**
 * Seeded CPU random numbers for the methods that run on the CPU (PCA's starting subspace, t-SNE's
 * initial layout): mulberry32 (random.ts) and standard normal draws from it.
 */
export { mulberry32 } from './random.js';

/** A standard normal draw from two uniforms (Box-Muller). */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
