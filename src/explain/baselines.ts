/**
 * Sets of baselines (references) for the methods that average over several: DeepSHAP
 * (deeplift.ts) and GradientSHAP (gradient_shap.ts). A set is a named fill, seeded uniform noise
 * images, or the caller's images; it is checked before any GPU work and uploaded once per group.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { randomUniform } from '../ops/random.js';
import { imageList, type ImageBatch } from './batch.js';
import { checkImage, positiveInteger, type ExplainContext, type ImageInput } from './context.js';
import { BASELINE_STREAM } from './integrated_gradients.js';

/**
 * 'black' / 'white': one image at the low / high end of the input range; 'uniform': `baselineCount`
 * images of uniform noise over the input range (seeded; the first is Integrated Gradients'
 * 'uniform' baseline of the same seed); or images: one, an array, or a stack [B, H, W, C].
 */
export type BaselineSet = 'black' | 'white' | 'uniform' | ImageInput | ImageBatch;
const NAMED = ['black', 'white', 'uniform'];

export interface BaselineSetOptions {
  baselines?: BaselineSet;
  /** Images of the 'uniform' set. Default 16. */
  baselineCount?: number;
}

export interface CheckedBaselines {
  count: number;
  /** The set as one [B, H, W, C] tensor; `owned` when made here (the caller disposes it then). */
  make(rt: Runtime): { tensor: Tensor; owned: boolean };
}

/** Checks a baseline set (names, shapes, values, count) before any GPU work. */
export function checkBaselineSet(ctx: ExplainContext, options: BaselineSetOptions, fallback: BaselineSet, seed: number): CheckedBaselines {
  const baselines = options.baselines ?? fallback;
  const shape = ctx.model.inputShape;
  const [low, high] = ctx.inputRange;
  if (options.baselineCount !== undefined && baselines !== 'uniform') throw new OptionError(`baselineCount sets the size of the 'uniform' baseline set only; the baselines given are ${typeof baselines === 'string' ? `'${baselines}'` : 'images'}`);
  if (typeof baselines === 'string') {
    if (!NAMED.includes(baselines)) throw new OptionError(`Unknown baselines '${baselines}' (use ${NAMED.join(', ')}, an image, or a list or stack of images)`);
    if (baselines === 'uniform') {
      const count = positiveInteger(options.baselineCount ?? 16, 'baselineCount', 1 << 12);
      return { count, make: (rt) => ({ tensor: randomUniform(rt, [count, ...shape], low, high, { seed, stream: BASELINE_STREAM }), owned: true }) };
    }
    return {
      count: 1,
      make: (rt) => {
        const tensor = rt.empty([1, ...shape], `baseline.${baselines}`);
        rt.fill(tensor, baselines === 'black' ? low : high);
        return { tensor, owned: true };
      },
    };
  }
  if (Array.isArray(baselines)) (baselines as ImageBatch).forEach((image, i) => checkImage(ctx, image, `baseline ${i}`));
  else {
    const stack = (baselines as ImageInput).shape;
    const count = stack.length === shape.length + 1 ? stack[0] : 1;
    checkImage(ctx, baselines as ImageInput, count > 1 ? 'baseline stack' : 'baseline image', count);
  }
  const list = imageList(ctx, baselines);
  return { count: list.count, make: (rt) => list.take(rt, 0, list.count) };
}
