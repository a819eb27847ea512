/**
 * Occlusion (Zeiler & Fergus 2014, Sec. 4.2): slide a constant window over the image and record
 * how much the class score drops; each pixel gets the mean drop of the windows that cover it
 * (the per-pixel averaging of Captum's `Occlusion`). The occluded copies are made on the GPU and
 * run as inference batches, split only at the device's limits; only the final map is read back.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Pair } from '../model/spec.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, chunkSize, positiveInteger, prepareImage, type ExplainContext, type ImageInput } from './context.js';
import { chunks, throwIfAborted, type RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';
import { argmaxTargets, checkTarget, classCount, constantTargets, scoreNode } from './score.js';

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
  /** The unoccluded image's score for the target. */
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

export async function occlusion(ctx: ExplainContext, image: ImageInput, options: OcclusionOptions = {}): Promise<OcclusionAttribution> {
  const started = performance.now();
  const { rt, model } = ctx;
  const [height, width, channels] = model.inputShape;
  const { window, stride, grid, windows } = occlusionGeometry(height, width, options);
  const fill = options.fill ?? 0;
  if (typeof fill !== 'number' || !Number.isFinite(fill)) throw new OptionError(`fill must be a finite number, got ${String(fill)}`);
  const node = scoreNode(model, options.score);
  const target = options.target ?? 'top';
  checkTarget(model, node, target);
  throwIfAborted(options.signal);

  const input = prepareImage(ctx, image);
  const classes = classCount(model, node);
  const nodeShape = model.shapes(1).get(node)!;
  const scorePositions = nodeShape.reduce((a, b) => a * b, 1) / classes;
  const params = (start: number, count: number) => ({
    height, width, channels,
    window_h: window[0], window_w: window[1], stride_h: stride[0], stride_w: stride[1],
    windows_y: grid[0], windows_x: grid[1],
    score_positions: scorePositions, classes, start, count, fill,
  });

  // the clean image's scores (and its predicted class for 'top'), kept for every chunk
  const pass = model.forward(input.tensor, { keep: [node, model.logitsName] });
  const targets = target === 'top' ? argmaxTargets(rt, pass.value(model.logitsName)) : constantTargets(rt, 1, target);
  const clean = rt.empty(nodeShape, 'occlusion.clean');
  rt.copy(pass.value(node), clean);
  pass.dispose();
  const deltas = rt.empty([windows], 'occlusion.deltas');
  const owned: Tensor[] = [targets, clean, deltas];
  try {
    const chunk = chunkSize(ctx, windows);
    for (const { start, count } of chunks(windows, chunk)) {
      throwIfAborted(options.signal);
      const copies = rt.empty([count, height, width, channels], 'occlusion.copies');
      rt.dispatch(kernel('occlude'), {
        bindings: { image: input.tensor, copies },
        uniforms: params(start, count),
        workgroups: rt.grid(copies.size, WORKGROUP_SIZE),
      });
      const batch = model.forward(copies, { keep: [node] });
      rt.dispatch(kernel('score_drop'), {
        bindings: { scores: batch.value(node), clean, targets, deltas },
        uniforms: params(start, count),
        workgroups: rt.grid(count, WORKGROUP_SIZE),
      });
      batch.dispose();
      copies.dispose();
      if (start + count < windows) {
        // chunked runs submit per chunk so progress is real; still no readback inside the loop
        await rt.flush();
        options.onProgress?.({ done: start + count, total: windows, elapsed: performance.now() - started });
      }
    }
    const pixels = height * width;
    const result = rt.empty([pixels + 2], 'occlusion.result');
    owned.push(result);
    rt.dispatch(kernel('occlusion_map'), {
      bindings: { clean, targets, deltas, result },
      uniforms: params(0, windows),
      workgroups: rt.grid(pixels + 2, WORKGROUP_SIZE),
    });
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'occlusion map');
    options.onProgress?.({ done: windows, total: windows, elapsed: performance.now() - started });
    return {
      method: 'occlusion',
      values: packed.slice(0, pixels),
      shape: [height, width, 1],
      target: packed[pixels],
      milliseconds: performance.now() - started,
      window,
      stride,
      windows,
      score: packed[pixels + 1],
    };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
