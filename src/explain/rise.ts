/**
 * RISE (Petsiuk, Das, Saenko 2018): N random smooth masks (an s x s grid of cells kept with
 * probability p, resized bilinearly and cropped at a random shift, their Sec. 3.2), the image
 * multiplied by each, and saliency S = sum_i f(I * M_i) M_i / (N p) (their eq. 6, a Monte Carlo
 * estimate of E[f(I * M) | M(pixel) = 1]). Masks come from the Philox generator and are made on
 * the GPU with their masked copies; the copies of all images and targets run as inference batches
 * (planned chunks, see batch.ts); only the final maps are read back. The masks depend on (seed,
 * mask index) only, so image i of a batch gets exactly the masks a call for image i alone draws.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { randomUniform } from '../ops/random.js';
import type { Attribution } from './attribution.js';
import { copyScores, runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import { positiveInteger, seedOption, type ExplainContext, type ImageInput } from './context.js';
import type { RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';

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

function params(g: RiseGeometry, probability: number, start: number, count: number, total: number, channels = 1, jobs = 0) {
  return {
    height: g.height, width: g.width, channels,
    grid: g.gridSize, cell_h: g.cell[0], cell_w: g.cell[1], up_h: g.up[0], up_w: g.up[1],
    probability, start, count, total, jobs,
  };
}

/** The masks of copies start .. start + count - 1 (mask (start + n) mod N) as [count, H, W]. */
export function riseMasks(rt: Runtime, noise: Tensor, g: RiseGeometry, probability: number, start: number, count: number): Tensor {
  const masks = rt.empty([count, g.height, g.width], 'rise.masks');
  rt.dispatch(kernel('make_masks'), { bindings: { noise, masks }, uniforms: params(g, probability, start, count, noise.shape[0]), workgroups: rt.grid(masks.size, WORKGROUP_SIZE) });
  return masks;
}

export async function rise<I extends ImageInput | ImageBatch, O extends RiseOptions = RiseOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, RiseAttribution, O>> {
  const { rt, model } = ctx;
  const [height, width, channels] = model.inputShape;
  const total = positiveInteger(options.masks ?? 4000, 'masks', 1 << 20);
  const gridSize = options.gridSize ?? 7;
  const geometry = riseGeometry(height, width, gridSize);
  const probability = options.probability ?? 0.5;
  if (typeof probability !== 'number' || !(probability > 0 && probability <= 1)) throw new OptionError(`probability must be a number in (0, 1], got ${String(probability)}`);
  const seed = seedOption(options.seed, 0);
  const p = Math.fround(probability);
  const pixels = height * width;
  // the paper's f is the class probability; 'logit' is allowed as for every method
  const batchOptions = { ...options, score: options.score ?? 'probability' } as BatchOptions;
  return runBatch<RiseAttribution, Explained<I, RiseAttribution, O>>(ctx, images, batchOptions, (score): BatchMethod<RiseAttribution> => {
    let noise: Tensor | undefined;
    let sum: Tensor | undefined;
    return {
      kind: 'rise',
      copiesPerJob: total,
      pass: { keep: [score.node] },
      imageFloats: 0,
      // sum, result
      jobFloats: 2 * pixels,
      // the chunk's masks and scores
      copyFloats: pixels + 1,
      groupFloats: total * (gridSize * gridSize + 2),
      begin: (group) => {
        noise = riseNoise(rt, total, gridSize, seed);
        sum = rt.empty([group.jobs, pixels], 'rise.sum');
        rt.fill(sum, 0);
      },
      chunk: (group, table, first, count) => {
        const uniforms = params(geometry, p, first, count, total, channels);
        const masks = riseMasks(rt, noise!, geometry, p, first, count);
        const copies = rt.empty([count, height, width, channels], 'rise.copies');
        rt.dispatch(kernel('mask_copies'), { bindings: { images: group.images, table, masks, copies }, uniforms, workgroups: rt.grid(copies.size, WORKGROUP_SIZE) });
        const scores = copyScores(ctx, score, copies, table, group.mask);
        const jobsInChunk = Math.floor((first + count - 1) / total) - Math.floor(first / total) + 1;
        rt.dispatch(kernel('accumulate'), { bindings: { masks, scores, sum: sum! }, uniforms, workgroups: rt.grid(jobsInChunk * pixels, WORKGROUP_SIZE) });
        scores.dispose();
        masks.dispose();
      },
      finish: (group) => {
        const result = rt.empty([group.jobs, pixels], 'rise.result');
        rt.dispatch(kernel('finish'), { bindings: { sum: sum!, result }, uniforms: params(geometry, p, 0, 0, total, channels, group.jobs), workgroups: rt.grid(result.size, WORKGROUP_SIZE) });
        return result;
      },
      results: (_, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (target, j) => ({
          method: 'rise',
          values: values.slice(j * pixels, (j + 1) * pixels),
          shape: [height, width, 1],
          target,
          milliseconds: ms,
          masks: total,
          gridSize,
          probability,
        }));
      },
      end: () => {
        noise?.dispose();
        sum?.dispose();
      },
    };
  });
}
