/**
 * Occlusion (Zeiler & Fergus 2014, Sec. 4.2): slide a constant window over the image and record
 * how much the class score drops; each pixel gets the mean drop of the windows that cover it
 * (the per-pixel averaging of Captum's `Occlusion`). The occluded copies of all images and targets
 * are made on the GPU and run as inference batches (planned chunks); only the final maps are read back.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Pair } from '../model/spec.js';
import type { Attribution } from './attribution.js';
import { copyScores, runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import { positiveInteger, type ExplainContext, type ImageInput } from './context.js';
import type { RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';

export interface OcclusionOptions extends TargetOptions, RunOptions {
  /** Window size in pixels, square or [height, width]. Default: 1/8 of the shorter image side, rounded up. */
  window?: number | Pair;
  /** Step between windows, or [vertical, horizontal]. Default: half the window, at least 1. */
  stride?: number | Pair;
  /** Value written into every channel of the window. Default 0. */
  fill?: number;
}

export interface OcclusionAttribution extends Attribution {
  window: [number, number];
  stride: [number, number];
  /** Occluded copies evaluated (windows that fit in the image). */
  windows: number;
  /** The unoccluded image's score for the target (the sum, mean or max of the score spec). */
  score: number;
}

const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'occlusion', entry, constants: { WORKGROUP_SIZE } });

function pair(value: number | Pair, name: string, max: Pair): [number, number] {
  const values = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(values) || values.length !== 2) throw new OptionError(`${name} must be a number or [height, width], got ${JSON.stringify(value)}`);
  return [positiveInteger(values[0], `${name} height`, max[0]), positiveInteger(values[1], `${name} width`, max[1])];
}

/** Window, stride and window grid of an occlusion run on an [H, W] image, checked. */
export function occlusionGeometry(height: number, width: number, options: Pick<OcclusionOptions, 'window' | 'stride'>) {
  const side = Math.max(1, Math.ceil(Math.min(height, width) / 8));
  const window = pair(options.window ?? side, 'window', [height, width]);
  const stride = pair(options.stride ?? [Math.max(1, window[0] >> 1), Math.max(1, window[1] >> 1)], 'stride', [height, width]);
  const grid: [number, number] = [Math.floor((height - window[0]) / stride[0]) + 1, Math.floor((width - window[1]) / stride[1]) + 1];
  return { window, stride, grid, windows: grid[0] * grid[1] };
}

export async function occlusion<I extends ImageInput | ImageBatch, O extends OcclusionOptions = OcclusionOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, OcclusionAttribution, O>> {
  const { rt, model } = ctx;
  const [height, width, channels] = model.inputShape;
  const { window, stride, grid, windows } = occlusionGeometry(height, width, options);
  const fill = options.fill ?? 0;
  if (typeof fill !== 'number' || !Number.isFinite(fill)) throw new OptionError(`fill must be a finite number, got ${String(fill)}`);
  const pixels = height * width;
  const params = (count: number) => ({
    height, width, channels,
    window_h: window[0], window_w: window[1], stride_h: stride[0], stride_w: stride[1],
    windows_y: grid[0], windows_x: grid[1], count, fill,
  });
  return runBatch<OcclusionAttribution, Explained<I, OcclusionAttribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<OcclusionAttribution> => {
    let deltas: Tensor | undefined;
    return {
      kind: 'occlusion',
      copiesPerJob: windows,
      pass: { keep: [score.node] },
      imageFloats: 0,
      jobFloats: windows + pixels + 2,
      copyFloats: 1,
      cleanScores: true,
      begin: (group) => {
        deltas = rt.empty([group.jobs, windows], 'occlusion.deltas');
      },
      chunk: (group, table, _first, count) => {
        const copies = rt.empty([count, height, width, channels], 'occlusion.copies');
        rt.dispatch(kernel('occlude'), {
          bindings: { images: group.images, table, copies },
          uniforms: params(count),
          workgroups: rt.grid(copies.size, WORKGROUP_SIZE),
        });
        const scores = copyScores(ctx, score, copies, table, group.mask);
        rt.dispatch(kernel('score_drop'), {
          bindings: { scores, clean: group.clean!, table, deltas: deltas! },
          uniforms: params(count),
          workgroups: rt.grid(count, WORKGROUP_SIZE),
        });
        scores.dispose();
      },
      finish: (group) => {
        const result = rt.empty([group.jobs, pixels + 2], 'occlusion.result');
        rt.dispatch(kernel('occlusion_map'), {
          bindings: { clean: group.clean!, targets: group.targets, deltas: deltas!, result },
          uniforms: params(0),
          workgroups: rt.grid(result.size, WORKGROUP_SIZE),
        });
        return result;
      },
      results: (_, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (target, j) => {
          const row = values.subarray(j * (pixels + 2), (j + 1) * (pixels + 2));
          return { method: 'occlusion', values: row.slice(0, pixels), shape: [height, width, 1], target, milliseconds: ms, window, stride, windows, score: row[pixels + 1] };
        });
      },
      end: () => deltas?.dispose(),
    };
  });
}
