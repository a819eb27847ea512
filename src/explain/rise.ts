/**
 * RISE (Petsiuk, Das, Saenko 2018): N random smooth masks (an s x s grid of cells kept with
 * probability p, resized bilinearly and cropped at a random shift, their Sec. 3.2), the image
 * multiplied by each, and saliency S = sum_i f(I * M_i) M_i / (N p) (their eq. 6, a Monte Carlo
 * estimate of E[f(I * M) | M(pixel) = 1]). Masks come from the Philox generator and are made on
 * the GPU with their masked copies, run as inference batches split only at the device's limits;
 * only the final map is read back.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { randomUniform } from '../ops/random.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, positiveInteger, seedOption, type ExplainContext, type ImageInput } from './context.js';
import { chunks, throwIfAborted, type RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';
import { chunkSize, prepareImage, singleTarget, targetTensor } from './single_image.js';

export interface RiseOptions extends TargetOptions, RunOptions {
  /** Random masks N. Default 4000 (the paper's for ImageNet models). */
  masks?: number;
  /** Grid cells per axis s. Default 7 (the paper's). */
  gridSize?: number;
  /** Probability p that a cell is kept. Default 0.5 (the paper's). */
  probability?: number;
  seed?: number;
}

export interface RiseAttribution extends Attribution {
  masks: number;
  gridSize: number;
  probability: number;
}

/** Random stream of RISE's grids and shifts. */
export const RISE_STREAM = 5;
const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'rise', entry, constants: { WORKGROUP_SIZE } });

export interface RiseGeometry {
  height: number;
  width: number;
  gridSize: number;
  /** Cell size ceil(H / s), ceil(W / s) and the resized grid (s + 1) * cell, as the authors' code. */
  cell: [number, number];
  up: [number, number];
}

export function riseGeometry(height: number, width: number, gridSize: number): RiseGeometry {
  positiveInteger(gridSize, 'gridSize', Math.min(height, width));
  const cell: [number, number] = [Math.ceil(height / gridSize), Math.ceil(width / gridSize)];
  return { height, width, gridSize, cell, up: [(gridSize + 1) * cell[0], (gridSize + 1) * cell[1]] };
}

/** Uniforms [N, s * s + 2] in [0, 1): each mask's cells, then its vertical and horizontal shift. */
export function riseNoise(rt: Runtime, masks: number, gridSize: number, seed: number): Tensor {
  return randomUniform(rt, [masks, gridSize * gridSize + 2], 0, 1, { seed, stream: RISE_STREAM });
}

function params(g: RiseGeometry, probability: number, start: number, count: number, total: number, channels = 1, scorePositions = 1, classes = 1) {
  return {
    height: g.height, width: g.width, channels,
    grid: g.gridSize, cell_h: g.cell[0], cell_w: g.cell[1], up_h: g.up[0], up_w: g.up[1],
    probability, score_positions: scorePositions, classes, start, count, total,
  };
}

/** Masks start .. start + count - 1 as [count, H, W]. */
export function riseMasks(rt: Runtime, noise: Tensor, g: RiseGeometry, probability: number, start: number, count: number): Tensor {
  const masks = rt.empty([count, g.height, g.width], 'rise.masks');
  rt.dispatch(kernel('make_masks'), { bindings: { noise, masks }, uniforms: params(g, probability, start, count, noise.shape[0]), workgroups: rt.grid(masks.size, WORKGROUP_SIZE) });
  return masks;
}

export async function rise(ctx: ExplainContext, image: ImageInput, options: RiseOptions = {}): Promise<RiseAttribution> {
  const started = performance.now();
  const { rt, model } = ctx;
  const [height, width, channels] = model.inputShape;
  const total = positiveInteger(options.masks ?? 4000, 'masks', 1 << 20);
  const gridSize = options.gridSize ?? 7;
  const geometry = riseGeometry(height, width, gridSize);
  const probability = options.probability ?? 0.5;
  if (typeof probability !== 'number' || !(probability > 0 && probability <= 1)) throw new OptionError(`probability must be a number in (0, 1], got ${String(probability)}`);
  const seed = seedOption(options.seed, 0);
  // the paper's f is the class probability; 'logit' is allowed as for every method
  const { score, request } = singleTarget(ctx, options.score ?? 'probability', options.target, 'RISE');
  const node = score.node;
  throwIfAborted(options.signal);
  const classes = score.channels;
  const scorePositions = score.positions;
  const pixels = height * width;
  const uniforms = (start: number, count: number) => params(geometry, Math.fround(probability), start, count, total, channels, scorePositions, classes);

  const input = prepareImage(ctx, image, 'RISE');
  const owned: Tensor[] = [];
  try {
    const targets = targetTensor(ctx, input.tensor, score, request);
    const noise = riseNoise(rt, total, gridSize, seed);
    const sum = rt.empty([pixels], 'rise.sum');
    rt.fill(sum, 0);
    owned.push(targets, noise, sum);
    for (const { start, count } of chunks(total, chunkSize(ctx, total))) {
      throwIfAborted(options.signal);
      const masks = riseMasks(rt, noise, geometry, Math.fround(probability), start, count);
      const copies = rt.empty([count, height, width, channels], 'rise.copies');
      rt.dispatch(kernel('mask_copies'), { bindings: { image: input.tensor, masks, copies }, uniforms: uniforms(start, count), workgroups: rt.grid(copies.size, WORKGROUP_SIZE) });
      const batch = model.forward(copies, { keep: [node] });
      copies.dispose();
      rt.dispatch(kernel('accumulate'), {
        bindings: { masks, scores: batch.value(node), targets, sum },
        uniforms: uniforms(start, count),
        workgroups: rt.grid(pixels, WORKGROUP_SIZE),
      });
      batch.dispose();
      masks.dispose();
      if (start + count < total) {
        // chunked runs submit per chunk so progress is real; still no readback inside the loop
        await rt.flush();
        options.onProgress?.({ done: start + count, total, elapsed: performance.now() - started });
      }
    }
    const result = rt.empty([pixels + 1], 'rise.result');
    owned.push(result);
    rt.dispatch(kernel('finish'), { bindings: { sum, targets, result }, uniforms: uniforms(0, total), workgroups: rt.grid(pixels + 1, WORKGROUP_SIZE) });
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'RISE map');
    options.onProgress?.({ done: total, total, elapsed: performance.now() - started });
    return {
      method: 'rise',
      values: packed.slice(0, pixels),
      shape: [height, width, 1],
      target: packed[pixels],
      milliseconds: performance.now() - started,
      masks: total,
      gridSize,
      probability,
    };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
