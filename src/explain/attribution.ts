/**
 * Attribution results and the display reductions users expect: per pixel and channel values,
 * reduced over channels (abs-max, abs-sum, signed sum, gradient x input) and normalised by a
 * percentile. These run on the CPU over the one final map that was read back.
 */
import { OptionError } from '../errors.js';

export type ChannelReduction = 'abs-max' | 'abs-sum' | 'sum' | 'gradient-x-input';

export interface Attribution {
  method: string;
  /** Values per pixel and channel, [H, W, C] row-major (NHWC without the batch). */
  values: Float32Array;
  shape: [number, number, number];
  /** The class (or unit) explained; for a score spec with channels, the first of them. */
  target: number;
  /** Wall time from call to result, in milliseconds. */
  milliseconds: number;
  /**
   * |sum(attribution) - (f(x) - f(baseline))| / |f(x) - f(baseline)|: Integrated Gradients'
   * completeness; DeepLIFT / DeepSHAP's summation-to-delta (f(baseline) the mean over the
   * references); GradientSHAP's completeness in expectation (the mean over the drawn baselines).
   */
  completenessError?: number;
  /** Integrated Gradients, DeepLIFT / DeepSHAP, GradientSHAP: f(x) and f(baseline) (the mean, for a set) for the target. */
  scores?: { input: number; baseline: number };
}

/**
 * A path or reference method's result with its completeness check: the sum of the attribution
 * against f(x) - f(baseline) (Sundararajan et al. 2017, axiom 'completeness'; Shrikumar et al.
 * 2017, 'summation-to-delta'), relative to |f(x) - f(baseline)|.
 */
export function withCompleteness(
  result: Pick<Attribution, 'method' | 'values' | 'shape' | 'target' | 'milliseconds'>,
  scores: { input: number; baseline: number },
): Attribution {
  const difference = scores.input - scores.baseline;
  const total = result.values.reduce((a, v) => a + v, 0);
  return { ...result, completenessError: Math.abs(total - difference) / Math.max(Math.abs(difference), 1e-12), scores };
}

/** [H, W, C] -> [H, W]. `gradient-x-input` sums gradient * input over channels and needs `input`. */
export function reduceChannels(attribution: Pick<Attribution, 'values' | 'shape'>, reduction: ChannelReduction, input?: ArrayLike<number>): Float32Array {
  const [h, w, c] = attribution.shape;
  const values = attribution.values;
  if (reduction === 'gradient-x-input' && (!input || input.length !== values.length)) {
    throw new OptionError(`'gradient-x-input' needs the input image with ${values.length} values`);
  }
  const out = new Float32Array(h * w);
  for (let p = 0; p < h * w; p++) {
    let acc = 0;
    for (let k = 0; k < c; k++) {
      const v = values[p * c + k];
      switch (reduction) {
        case 'abs-max': acc = Math.max(acc, Math.abs(v)); break;
        case 'abs-sum': acc += Math.abs(v); break;
        case 'sum': acc += v; break;
        case 'gradient-x-input': acc += v * input![p * c + k]; break;
        default: throw new OptionError(`Unknown channel reduction '${String(reduction)}' (use abs-max, abs-sum, sum or gradient-x-input)`);
      }
    }
    out[p] = acc;
  }
  return out;
}

/** The q-th percentile (0..100) of |values|, by nearest rank. */
export function absPercentile(values: ArrayLike<number>, q: number): number {
  if (!(q > 0 && q <= 100)) throw new OptionError(`percentile must be in (0, 100], got ${q}`);
  const sorted = Float32Array.from(values, Math.abs).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1))];
}

/**
 * Scales a map for display so that the q-th percentile of |value| maps to 1 and clips beyond:
 * magnitudes land in [0, 1], signed maps in [-1, 1] with zero staying zero.
 */
export function normalizeByPercentile(values: ArrayLike<number>, q = 99): Float32Array {
  const scale = absPercentile(values, q) || 1;
  return Float32Array.from(values, (v) => Math.max(-1, Math.min(1, v / scale)));
}
