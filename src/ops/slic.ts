/**
 * SLIC superpixels (Achanta et al. 2012) on the GPU: grid-initialized centers, then alternating
 * assignment (each pixel against the centers of the 3x3 grid cells around it) and center update
 * (each center the mean of its pixels, one invocation per center over its own window: no float
 * atomics). Not differentiable (a segmentation), so there is no backward. The connectivity pass
 * that ends the paper's algorithm is sequential (a flood fill) and runs on the CPU over the one
 * label map read back: `enforceConnectivity`.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectRank } from './shapes.js';

const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'slic', entry, constants: { WORKGROUP_SIZE } });

export interface SlicOptions {
  /** Approximate number of superpixels (the grid has round(H / S) x round(W / S) cells, S = sqrt(HW / segments)). */
  segments: number;
  /** m of the paper: weight of spatial against colour distance (1..40 on CIELAB's 0..100 scale). */
  compactness: number;
  /** Assignment steps (with a center update between consecutive ones). */
  iterations: number;
  /** Colour differences are multiplied by this before squaring. Default 1. */
  colorScale?: number;
}

/** The center grid, the grid interval S and the spatial weight (m / S)^2 of a SLIC run on [H, W]. */
export function slicGrid(height: number, width: number, segments: number, compactness: number) {
  const interval = Math.sqrt((height * width) / segments);
  const gridY = Math.min(height, Math.max(1, Math.round(height / interval)));
  const gridX = Math.min(width, Math.max(1, Math.round(width / interval)));
  // S from the cells actually made, so that (m / S) matches their size
  const cellInterval = Math.sqrt((height * width) / (gridY * gridX));
  return { gridY, gridX, centers: gridY * gridX, interval: cellInterval, spatialWeight: (compactness / cellInterval) ** 2 };
}

export function checkSlicOptions(options: SlicOptions, height: number, width: number): void {
  const { segments, compactness, iterations, colorScale = 1 } = options;
  if (!Number.isInteger(segments) || segments < 1 || segments > height * width) throw new OptionError(`segments must be an integer in 1..${height * width} (the pixels), got ${segments}`);
  if (!(compactness >= 0) || !Number.isFinite(compactness)) throw new OptionError(`compactness must be a finite number >= 0, got ${compactness}`);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 1000) throw new OptionError(`iterations must be an integer in 1..1000, got ${iterations}`);
  if (!(colorScale > 0) || !Number.isFinite(colorScale)) throw new OptionError(`colorScale must be a finite number > 0, got ${colorScale}`);
}

/** image [1, H, W, C] -> labels [H, W]: each pixel's center index (as f32), before connectivity enforcement. */
export function slic(rt: Runtime, image: Tensor, options: SlicOptions): { labels: Tensor; centers: number } {
  expectRank(image, 4, 'slic image');
  const [batch, height, width, channels] = image.shape;
  if (batch !== 1) throw new OptionError(`slic segments one image, got a batch of ${batch}`);
  checkSlicOptions(options, height, width);
  const grid = slicGrid(height, width, options.segments, options.compactness);
  const uniforms = { height, width, channels, grid_y: grid.gridY, grid_x: grid.gridX, spatial_weight: grid.spatialWeight, color_scale: options.colorScale ?? 1 };
  const centers = rt.empty([grid.centers, 2 + channels], 'slic.centers');
  const labels = rt.empty([height, width], 'slic.labels');
  const run = (entry: string, invocations: number, bindings: Record<string, Tensor>) => rt.dispatch(kernel(entry), { bindings, uniforms, workgroups: rt.grid(invocations, WORKGROUP_SIZE) });
  run('init_centers', grid.centers, { image, centers });
  for (let i = 0; i < options.iterations; i++) {
    if (i > 0) run('update', grid.centers, { image, centers, labels });
    run('assign', height * width, { image, centers, labels });
  }
  centers.dispose();
  return { labels, centers: grid.centers };
}

/**
 * The paper's connectivity enforcement (Achanta et al. 2012, Sec. 4.2; EnforceLabelConnectivity
 * of their code): 4-connected components in scan order get consecutive new labels; a component
 * smaller than `minSize` joins the component left of or above its first pixel. Returns labels
 * 0..K-1 (contiguous, numbered in scan order of first pixel) and K.
 */
export function enforceConnectivity(labels: ArrayLike<number>, height: number, width: number, minSize: number): { labels: Int32Array; segments: number } {
  const out = new Int32Array(height * width).fill(-1);
  const stack = new Int32Array(height * width);
  const component = new Int32Array(height * width);
  let next = 0;
  for (let start = 0; start < height * width; start++) {
    if (out[start] >= 0) continue;
    const y = Math.floor(start / width);
    const x = start % width;
    // the first pixel's left or upper neighbour is labelled already (scan order)
    const adjacent = x > 0 ? out[start - 1] : y > 0 ? out[start - width] : -1;
    const old = labels[start];
    let size = 0;
    let top = 0;
    stack[top++] = start;
    out[start] = next;
    while (top > 0) {
      const p = stack[--top];
      component[size++] = p;
      const py = Math.floor(p / width);
      const px = p % width;
      const visit = (q: number) => {
        if (out[q] < 0 && labels[q] === old) {
          out[q] = next;
          stack[top++] = q;
        }
      };
      if (px > 0) visit(p - 1);
      if (px + 1 < width) visit(p + 1);
      if (py > 0) visit(p - width);
      if (py + 1 < height) visit(p + width);
    }
    if (size < minSize && adjacent >= 0) {
      for (let i = 0; i < size; i++) out[component[i]] = adjacent;
    } else {
      next++;
    }
  }
  return { labels: out, segments: next };
}
