/**
 * The features of the perturbation methods (LIME, KernelSHAP): a segmentation of the image into
 * K segments labelled 0..K-1. SLIC superpixels computed on the GPU (the default), a grid of
 * rectangles, or the caller's own label map. Options are checked before any GPU work.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { checkSlicOptions, enforceConnectivity, slic } from '../ops/slic.js';
import type { ExplainContext } from './context.js';

export interface SegmentationOptions {
  /**
   * 'slic' (default): SLIC superpixels; { grid: [rows, columns] }: equal rectangles; or an
   * Int32Array [H * W] label map of the caller's (its distinct values, sorted, become 0..K-1).
   */
  segmentation?: 'slic' | { grid: [number, number] } | Int32Array;
  /** SLIC: approximate number of superpixels. Default 50. */
  segments?: number;
  /** SLIC: compactness m, with colours rescaled so that the input range spans 100 (CIELAB's L range). Default 10. */
  compactness?: number;
  /** SLIC: assignment iterations. Default 10 (the paper finds 10 enough for most images). */
  iterations?: number;
}

export interface Segmentation {
  method: 'slic' | 'grid' | 'user';
  /** [H * W] segment of each pixel, 0..segments-1, row-major. */
  labels: Int32Array;
  segments: number;
}

type Plan =
  | { method: 'slic'; segments: number; compactness: number; iterations: number }
  | { method: 'grid' | 'user'; segmentation: Segmentation };

/** Checks the options (no GPU work) and resolves what can be resolved on the CPU. */
export function planSegmentation(height: number, width: number, options: SegmentationOptions): Plan {
  const choice = options.segmentation ?? 'slic';
  if (choice === 'slic') {
    const slicOptions = { segments: options.segments ?? 50, compactness: options.compactness ?? 10, iterations: options.iterations ?? 10 };
    checkSlicOptions(slicOptions, height, width);
    return { method: 'slic', ...slicOptions };
  }
  if (choice instanceof Int32Array) return { method: 'user', segmentation: userSegmentation(choice, height, width) };
  if (choice !== null && typeof choice === 'object' && Array.isArray((choice as { grid?: unknown }).grid)) {
    return { method: 'grid', segmentation: gridSegmentation(height, width, choice.grid) };
  }
  throw new OptionError(`segmentation must be 'slic', { grid: [rows, columns] } or an Int32Array label map of ${height * width} pixels, got ${JSON.stringify(choice)}`);
}

function gridSegmentation(height: number, width: number, grid: readonly number[]): Segmentation {
  const [rows, columns] = grid;
  if (grid.length !== 2 || !Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1 || rows > height || columns > width) {
    throw new OptionError(`grid must be [rows, columns] with integers in 1..${height} and 1..${width}, got [${grid.join(', ')}]`);
  }
  const labels = new Int32Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) labels[y * width + x] = Math.floor((y * rows) / height) * columns + Math.floor((x * columns) / width);
  }
  return { method: 'grid', labels, segments: rows * columns };
}

function userSegmentation(map: Int32Array, height: number, width: number): Segmentation {
  if (map.length !== height * width) throw new ShapeError(`The segmentation has ${map.length} labels but the image has ${height} x ${width} = ${height * width} pixels`);
  const values = [...new Set(map)].sort((a, b) => a - b);
  if (values.length > 1 << 24) throw new OptionError(`The segmentation has ${values.length} segments; at most 2^24 are supported`);
  const index = new Map(values.map((v, i) => [v, i]));
  return { method: 'user', labels: Int32Array.from(map, (v) => index.get(v)!), segments: values.length };
}

/** The segmentation itself; SLIC reads its label map back once and enforces connectivity on the CPU. */
export async function segmentImage(ctx: ExplainContext, image: Tensor, plan: Plan): Promise<Segmentation> {
  if (plan.method !== 'slic') return plan.segmentation;
  const [, height, width] = image.shape;
  const [low, high] = ctx.inputRange;
  const { labels, centers } = slic(ctx.rt, image, { ...plan, colorScale: 100 / (high - low) });
  try {
    const raw = await ctx.rt.read(labels);
    // the paper's threshold: components under a quarter of the mean superpixel size join a neighbour
    const connected = enforceConnectivity(raw, height, width, Math.floor((height * width) / centers / 4));
    return { method: 'slic', ...connected };
  } finally {
    labels.dispose();
  }
}
