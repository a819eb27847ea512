/**
 * Known answers for the faithfulness metrics on linearSegmentsModel (tests/explain/linear_segments.ts):
 * its logits are linear in the pixels, logit_t = sum_{p,c} W[cell(p) C + c, t] x_pc / |cell| + b_t,
 * so the input gradient is the true attribution for small perturbations (infidelity 0) and
 * gradient x (input - baseline) the true one for removals to a constant baseline (MuFidelity 1).
 */
import type { ModelSpec } from '../../../src/model/spec.js';

type Grid = { height: number; width: number; channels: number; rows: number; columns: number };

/** d logit_target / d x as [H * W * C] in float64. */
export function linearGradient(spec: ModelSpec, o: Grid, target: number): Float64Array {
  const dense = spec.layers.find((l) => l.name === 'logits') as Extract<ModelSpec['layers'][number], { kind: 'dense' }>;
  const classes = dense.weights.shape[1];
  const cellPixels = (o.height / o.rows) * (o.width / o.columns);
  const gradient = new Float64Array(o.height * o.width * o.channels);
  for (let y = 0; y < o.height; y++) {
    for (let x = 0; x < o.width; x++) {
      const cell = Math.floor((y * o.rows) / o.height) * o.columns + Math.floor((x * o.columns) / o.width);
      for (let c = 0; c < o.channels; c++) gradient[(y * o.width + x) * o.channels + c] = dense.weights.data[(cell * o.channels + c) * classes + target] / cellPixels;
    }
  }
  return gradient;
}

/** The same values in a random order (Fisher-Yates): an attribution with the truth's magnitudes and none of its placement. */
export function shuffled(values: ArrayLike<number>, random: () => number): Float32Array {
  const out = Float32Array.from(values);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
