/**
 * Concatenation of tensors of one rank along one axis (TF ConcatV2, Keras Concatenate; channel
 * concatenation in Inception-style branches is the common case), shaders/concat.wgsl. The inputs'
 * sizes agree on every other axis. Backward: input k's gradient is its block of dy.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** The output shape; a negative axis counts from the end (-1: channels). */
export function concatShape(shapes: Shape[], axis: number): Shape {
  if (shapes.length === 0) throw new ShapeError('concat needs at least one input');
  const rank = shapes[0].length;
  const at = normalizeAxis(axis, rank);
  const shown = shapes.map(formatShape).join(', ');
  for (const shape of shapes) {
    if (shape.length !== rank || shape.some((d, i) => i !== at && d !== shapes[0][i])) {
      throw new ShapeError(`concat along axis ${axis}: ${shown} must agree on every other axis`);
    }
  }
  return shapes[0].map((d, i) => (i === at ? shapes.reduce((sum, s) => sum + s[at], 0) : d));
}

/** `axis` in 0..rank-1 (negative counts from the end), or a ShapeError. */
export function normalizeAxis(axis: number, rank: number): number {
  const at = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(at) || at < 0 || at >= rank) throw new ShapeError(`concat axis ${axis} is out of range for rank ${rank}`);
  return at;
}

/** Row lengths and column offsets of each input (see the shader header). */
function layout(shapes: Shape[], axis: number) {
  const out = concatShape(shapes, axis);
  const at = normalizeAxis(axis, out.length);
  const outInner = product(out.slice(at));
  let offset = 0;
  const parts = shapes.map((shape) => {
    const inner = product(shape.slice(at));
    const part = { inner, offset };
    offset += inner;
    return part;
  });
  return { out, outInner, parts };
}

export function concat(rt: Runtime, inputs: Tensor[], axis: number): Tensor {
  const { out, outInner, parts } = layout(inputs.map((t) => t.shape), axis);
  const output = rt.empty(out, 'concat.output');
  inputs.forEach((input, k) => {
    rt.dispatch({ shader: 'concat', entry: 'insert', constants: { WORKGROUP_SIZE } }, {
      bindings: { input, output },
      uniforms: { inner: parts[k].inner, out_inner: outInner, offset: parts[k].offset },
      workgroups: rt.grid(input.size, WORKGROUP_SIZE),
    });
  });
  return output;
}

/** The gradient of each input whose `want` entry is true (undefined for the others). */
export function concatBackward(rt: Runtime, dy: Tensor, shapes: Shape[], axis: number, want: boolean[] = shapes.map(() => true)): (Tensor | undefined)[] {
  const { out, outInner, parts } = layout(shapes, axis);
  if (formatShape(dy.shape) !== formatShape(out)) {
    throw new ShapeError(`concatBackward: the output gradient must have shape ${formatShape(out)}, got ${formatShape(dy.shape)}`);
  }
  return shapes.map((shape, k) => {
    if (!want[k]) return undefined;
    const grad = rt.empty(shape, 'concat.grad');
    rt.dispatch({ shader: 'concat', entry: 'extract', constants: { WORKGROUP_SIZE } }, {
      bindings: { dy, grad },
      uniforms: { inner: parts[k].inner, out_inner: outInner, offset: parts[k].offset },
      workgroups: rt.grid(grad.size, WORKGROUP_SIZE),
    });
    return grad;
  });
}
