/**
 * The dispatcher the data-movement ops share (pad, slice, transpose, depth/space): a tensor read
 * through a strided view, `shaders/view.wgsl`. An op describes its view axis by axis; the kernel
 * does the rest. Not an op itself: the ops validate their options and shapes before calling here.
 */
import type { KernelSpec } from '../gpu/kernel.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';

const WORKGROUP_SIZE = 64;
/** Axes the kernel's uniforms hold (two vec4 per per-axis parameter). */
export const MAX_VIEW_AXES = 8;

/** One axis of a view: output coordinate o reads input coordinate start + o * step (valid in [0, limit)) at element stride `stride`. */
export interface ViewAxis {
  size: number;
  start: number;
  step: number;
  limit: number;
  stride: number;
}

/** How a gather treats coordinates outside the input: fill value, or TF MirrorPad's two modes. */
export type ViewEdge = { fill: number } | 'reflect' | 'symmetric';

const EDGE_CODES = { reflect: 1, symmetric: 2 } as const;

/** Row-major element strides of `shape`. */
export function rowMajorStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    strides[k] = stride;
    stride *= shape[k];
  }
  return strides;
}

const isFull = (a: ViewAxis) => a.start === 0 && a.step === 1 && a.size === a.limit;

/**
 * The same view over fewer axes: an axis merges with the axis inside it when that one is taken
 * whole and the two are contiguous in the input (stride = inner stride * inner limit); its own
 * window may be offset (a slice or a constant pad of rows, of rows of pixels, ...) but not strided,
 * and under a mirror edge it must be whole too (mirroring a merged axis would reverse the inner
 * one). NHWC padding of H and W runs as [N, H, W * C]: fewer divisions per element.
 */
function mergeAxes(axes: readonly ViewAxis[], mirror: boolean): ViewAxis[] {
  const merged: ViewAxis[] = [];
  for (let k = axes.length - 1; k >= 0; k--) {
    const outer = axes[k];
    const inner = merged[0];
    const fits = inner !== undefined && isFull(inner) && outer.step === 1 && outer.stride === inner.stride * inner.limit && (!mirror || isFull(outer));
    if (fits) {
      merged[0] = { size: outer.size * inner.size, start: outer.start * inner.limit, step: 1, limit: outer.limit * inner.limit, stride: inner.stride };
    } else {
      merged.unshift(outer);
    }
  }
  return merged;
}

/** The view's per-axis parameters as the kernel's lo/hi vector pairs. */
function viewUniforms(axes: readonly ViewAxis[]): Record<string, number | number[]> {
  if (axes.length > MAX_VIEW_AXES) throw new Error(`view: ${axes.length} axes, the kernel takes at most ${MAX_VIEW_AXES}`);
  const uniforms: Record<string, number | number[]> = {};
  for (const key of ['size', 'start', 'step', 'limit', 'stride'] as const) {
    const values = Array.from({ length: MAX_VIEW_AXES }, (_, k) => (k < axes.length ? axes[k][key] : 0));
    uniforms[`${key}_lo`] = values.slice(0, 4);
    uniforms[`${key}_hi`] = values.slice(4);
  }
  return uniforms;
}

/** The pipeline's specialization to a view (view.wgsl's RANK and UNIT_STEPS). */
function specialization(axes: readonly ViewAxis[]): { RANK: number; UNIT_STEPS: number } {
  return { RANK: axes.length, UNIT_STEPS: axes.every((a) => a.step === 1) ? 1 : 0 };
}

/** output (shape `outShape`, element count = product of the view sizes) = input read through `axes`. */
export function gatherView(rt: Runtime, input: Tensor, axes: readonly ViewAxis[], outShape: Shape, edge: ViewEdge, label: string): Tensor {
  const output = rt.empty(outShape, label);
  const code = typeof edge === 'string' ? EDGE_CODES[edge] : 0;
  const merged = mergeAxes(axes, code !== 0);
  rt.dispatch({ shader: 'view', entry: 'gather', constants: { WORKGROUP_SIZE, EDGE: code, ...specialization(merged) } }, {
    bindings: { input, output },
    uniforms: { ...viewUniforms(merged), fill: typeof edge === 'string' ? 0 : edge.fill },
    workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
  return output;
}

/**
 * The gradient of an injective gather (constant edge) or of a mirror gather: dx with the input's
 * shape (the view's limits, in order) from dy (the view's sizes, row-major).
 */
export function gatherViewBackward(rt: Runtime, dy: Tensor, axes: readonly ViewAxis[], inputShape: Shape, edge: 'constant' | 'reflect' | 'symmetric', label: string): Tensor {
  const dx = rt.empty(inputShape, label);
  const merged = mergeAxes(axes, edge !== 'constant');
  const dyStrides = rowMajorStrides(merged.map((a) => a.size));
  const inverse = merged.map((a, k) => ({ ...a, stride: dyStrides[k] }));
  const spec: KernelSpec = edge === 'constant'
    ? { shader: 'view', entry: 'gather_inverse', constants: { WORKGROUP_SIZE, ...specialization(merged) } }
    : { shader: 'view', entry: 'mirror_backward', constants: { WORKGROUP_SIZE, EDGE: EDGE_CODES[edge], ...specialization(merged) } };
  rt.dispatch(spec, {
    bindings: { input: dy, output: dx },
    uniforms: { ...viewUniforms(inverse), fill: 0 },
    workgroups: rt.grid(dx.size, WORKGROUP_SIZE),
  });
  return dx;
}
