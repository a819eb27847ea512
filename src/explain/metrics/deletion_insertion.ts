/**
 * Deletion and insertion (Petsiuk, Das, Saenko 2018, Sec. 4.1): a faithful map names the pixels
 * the model needs first. Deletion replaces the most important pixels by a substitute (default
 * black) step by step and records the target's probability, which should fall fast (low AUC is
 * good); insertion starts from a substitute (default blurred) and puts the pixels back in the same
 * order, where the probability should rise fast (high AUC is good). The ranking is made on the CPU
 * from the map (ties by pixel index), the perturbed copies on the GPU, run as inference batches in
 * chunks of about TARGET_MS (schedule.ts); one read of the curve.
 */
import { OptionError, ShapeError } from '../../errors.js';
import type { Tensor } from '../../gpu/tensor.js';
import { gaussianBlur } from '../../ops/blur.js';
import type { Attribution } from '../attribution.js';
import { checkFiniteResult, positiveInteger, type ExplainContext, type ImageInput } from '../context.js';
import { throwIfAborted, type RunOptions } from '../progress.js';
import { Schedule } from '../schedule.js';
import type { Score, Target } from '../score.js';
import { chunkSize, prepareImage, singleTarget, targetTensor } from '../single_image.js';

export type CurveMode = 'deletion' | 'insertion';

export interface PerturbationCurveOptions extends RunOptions {
  /** Class whose score is followed. Default: the map's own target, else 'top'. */
  target?: Target;
  /** Default 'probability' (the paper's). */
  score?: Score;
  /** Steps from no pixel to all pixels (the curve has steps + 1 points). Default 32. */
  steps?: number;
  /** What taken pixels become (deletion) or start as (insertion). Default: 'black' for deletion, 'blur' for insertion (the paper's). */
  substitute?: 'black' | 'blur';
  /** Sigma of the 'blur' substitute in pixels. Default 5% of the larger image side. */
  blurSigma?: number;
}

export interface PerturbationCurve {
  mode: CurveMode;
  target: number;
  /** Fraction of the pixels taken at each point, k / steps. */
  fractions: Float64Array;
  /** The target's score at each point. */
  scores: Float32Array;
  /** Area under the curve over fractions in [0, 1] (trapezoid rule). */
  auc: number;
  milliseconds: number;
}

/** A per-pixel map [H, W], or an Attribution whose channels are summed. */
export type MapInput = Pick<Attribution, 'values' | 'shape'> & { target?: number };

const WORKGROUP_SIZE = 64;

/** rank[p] = place of pixel p when sorted by value, highest first (ties: lower index first). */
export function pixelRanks(map: ArrayLike<number>): Float32Array {
  const order = Array.from({ length: map.length }, (_, p) => p).sort((a, b) => map[b] - map[a] || a - b);
  const rank = new Float32Array(map.length);
  order.forEach((p, place) => (rank[p] = place));
  return rank;
}

/** The map summed over its channels per pixel [H * W], checked against the model's input size (ShapeError) and for non-finite values. */
export function pixelMap(ctx: ExplainContext, map: MapInput): Float64Array {
  const [height, width] = ctx.model.inputShape;
  const shape = map?.shape;
  if (!Array.isArray(shape) || shape[0] !== height || shape[1] !== width || !(map.values?.length === height * width * (shape[2] ?? 1))) {
    throw new ShapeError(`The map must be an attribution of the model's input size [${height}, ${width}, C] with its values; got shape ${JSON.stringify(shape)}`);
  }
  const channels = shape[2] ?? 1;
  const pixels = new Float64Array(height * width);
  for (let i = 0; i < map.values.length; i++) {
    const v = map.values[i];
    if (!Number.isFinite(v)) throw new OptionError(`The map holds a non-finite value at element ${i}: it cannot order the pixels`);
    pixels[Math.floor(i / channels)] += v;
  }
  return pixels;
}

export async function perturbationCurve(ctx: ExplainContext, image: ImageInput, map: MapInput, mode: CurveMode, options: PerturbationCurveOptions = {}): Promise<PerturbationCurve> {
  const started = performance.now();
  const { rt, model } = ctx;
  if (mode !== 'deletion' && mode !== 'insertion') throw new OptionError(`mode must be 'deletion' or 'insertion', got '${String(mode)}'`);
  const [height, width, channels] = model.inputShape;
  const pixels = height * width;
  const steps = positiveInteger(options.steps ?? 32, 'steps', Math.min(pixels, Math.floor(0xffffffff / pixels)));
  const substitute = options.substitute ?? (mode === 'deletion' ? 'black' : 'blur');
  if (substitute !== 'black' && substitute !== 'blur') throw new OptionError(`substitute must be 'black' or 'blur', got '${String(substitute)}'`);
  const sigma = options.blurSigma ?? 0.05 * Math.max(height, width);
  if (!(typeof sigma === 'number' && sigma > 0 && Number.isFinite(sigma))) throw new OptionError(`blurSigma must be a finite number of pixels > 0, got ${String(sigma)}`);
  const { score, request } = singleTarget(ctx, options.score ?? 'probability', options.target ?? map?.target, mode);
  const node = score.node;
  const rank = pixelRanks(pixelMap(ctx, map));
  throwIfAborted(options.signal);
  const classes = score.channels;
  const scorePositions = score.positions;
  const params = (start: number, count: number) => ({ pixels, channels, steps, score_positions: scorePositions, classes, start, count });
  const points = steps + 1;

  const input = prepareImage(ctx, image, mode);
  const owned: Tensor[] = [];
  try {
    const targets = targetTensor(ctx, input.tensor, score, request);
    owned.push(targets);
    let other: Tensor;
    if (substitute === 'blur') {
      other = gaussianBlur(rt, input.tensor, sigma);
    } else {
      other = rt.empty(input.tensor.shape, 'curve.black');
      rt.fill(other, ctx.inputRange[0]);
    }
    const ranks = rt.upload([pixels], rank, 'curve.rank');
    const curve = rt.empty([points + 1], 'curve.scores');
    owned.push(other, ranks, curve);
    const kernel = (entry: string) => ({ shader: 'perturbation_curve', entry, constants: { WORKGROUP_SIZE, INSERTION: mode === 'insertion' ? 1 : 0 } });
    const schedule = new Schedule(rt, options, points, ctx.pace ?? (ctx.pace = new Map()), `curve:${model.spec.source}`, model.flops(1));
    await schedule.run(points, chunkSize(ctx, points), (start, count) => {
      const copies = rt.empty([count, height, width, channels], 'curve.copies');
      rt.dispatch(kernel('perturb'), { bindings: { image: input.tensor, substitute: other, rank: ranks, copies }, uniforms: params(start, count), workgroups: rt.grid(copies.size, WORKGROUP_SIZE) });
      const batch = model.forward(copies, { keep: [node] });
      rt.dispatch(kernel('gather_scores'), { bindings: { scores: batch.value(node), targets, curve }, uniforms: params(start, count), workgroups: rt.grid(count, WORKGROUP_SIZE) });
      batch.dispose();
      copies.dispose();
    });
    // [curve steps + 1 | target]
    rt.copy(targets, curve, 1, 0, points);
    const packed = await rt.read(curve);
    checkFiniteResult(packed, `${mode} curve`);
    const scores = packed.slice(0, points);
    let auc = 0;
    for (let k = 0; k < steps; k++) auc += (scores[k] + scores[k + 1]) / (2 * steps);
    return { mode, target: packed[points], fractions: Float64Array.from({ length: points }, (_, k) => k / steps), scores, auc, milliseconds: performance.now() - started };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
