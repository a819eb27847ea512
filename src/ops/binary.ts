/**
 * Binary elementwise ops of two tensors with NumPy/TensorFlow broadcasting (shaders/binary.wgsl):
 * add, sub, mul, div, maximum, minimum, optionally times a constant `scale` (a Keras Average's
 * 1 / n). Both shapes have the same rank (at most 4); on every axis their sizes are equal or one
 * of them is 1. Backward: each input's gradient is the elementwise gradient summed over the axes
 * it was broadcast along; maximum/minimum send the gradient to the first input on ties (TF).
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { sumToChannels } from './reduce.js';
import { formatShape } from './shapes.js';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';

/** The shader's OP constant for each op. */
const OP_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5 };
const WORKGROUP_SIZE = 64;
const MAX_RANK = 4;
/** Terms one invocation of a gradient reduction sums; longer reductions are split (and column-summed). */
const REDUCTION_CHUNK = 256;

/** Whether the op's gradient reads the inputs' values (the layer must keep them). */
export function binaryNeedsInputs(op: BinaryOp): boolean {
  return op !== 'add' && op !== 'sub';
}

/** The broadcast result shape, or a ShapeError naming both shapes. */
export function broadcastShape(a: Shape, b: Shape, what: string): Shape {
  if (a.length !== b.length || a.length > MAX_RANK) {
    throw new ShapeError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} must have one rank of at most ${MAX_RANK} (batch first; reshape the smaller one to [N, 1, 1, C] first)`);
  }
  return a.map((d, i) => {
    const e = b[i];
    if (d !== e && d !== 1 && e !== 1) {
      throw new ShapeError(`${what}: shapes ${formatShape(a)} and ${formatShape(b)} do not broadcast (axis ${i}: ${d} vs ${e}; sizes must be equal or one of them 1)`);
    }
    return Math.max(d, e);
  });
}

/** A shape padded with leading 1s to rank 4. */
function padded(shape: Shape): [number, number, number, number] {
  return [...new Array<number>(MAX_RANK - shape.length).fill(1), ...shape] as [number, number, number, number];
}

/** Element strides of `shape` over the output's coordinates: 0 where it is broadcast. */
function broadcastStrides(shape: Shape, out: Shape): number[] {
  const dims = padded(shape);
  const outDims = padded(out);
  const strides = [0, 0, 0, 0];
  let stride = 1;
  for (let axis = MAX_RANK - 1; axis >= 0; axis--) {
    strides[axis] = dims[axis] === outDims[axis] ? stride : 0;
    stride *= dims[axis];
  }
  return strides;
}

/** Output elements one gradient element of an input of `shape` sums: the product of its broadcast axes' sizes. */
function reducedCount(shape: Shape, out: Shape): number {
  return out.reduce((count, d, axis) => (shape[axis] === d ? count : count * d), 1);
}

function params(a: Shape, b: Shape, out: Shape, gradShape: Shape, scale: number) {
  const reduced = reducedCount(gradShape, out);
  return {
    out_shape: padded(out), a_strides: broadcastStrides(a, out), b_strides: broadcastStrides(b, out), grad_shape: padded(gradShape), scale,
    reduced, chunk: Math.min(reduced, REDUCTION_CHUNK),
  };
}

/** scale * op(a, b), broadcast. */
export function binary(rt: Runtime, op: BinaryOp, a: Tensor, b: Tensor, scale = 1): Tensor {
  const shape = broadcastShape(a.shape, b.shape, op);
  const output = rt.empty(shape, `${op}.output`);
  const same = formatShape(a.shape) === formatShape(b.shape);
  rt.dispatch({ shader: 'binary', entry: same ? 'forward_same' : 'forward_broadcast', constants: { WORKGROUP_SIZE, OP: OP_CODES[op] } }, {
    bindings: { a, b, output },
    uniforms: params(a.shape, b.shape, shape, shape, scale),
    workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
  return output;
}

export interface BinaryGradients {
  a?: Tensor;
  b?: Tensor;
}

/**
 * Gradients of scale * op(a, b) for upstream `dy`, for the inputs `want` asks for. `inputs` are
 * the forward's inputs (their values are read only by mul, div, maximum and minimum; add and sub
 * need only their shapes).
 */
export function binaryBackward(
  rt: Runtime,
  op: BinaryOp,
  dy: Tensor,
  inputs: { a: Tensor | Shape; b: Tensor | Shape },
  want: { a: boolean; b: boolean },
  scale = 1,
): BinaryGradients {
  const shapeOf = (t: Tensor | Shape): Shape => ('shape' in t ? t.shape : t);
  const [aShape, bShape] = [shapeOf(inputs.a), shapeOf(inputs.b)];
  const out = broadcastShape(aShape, bShape, `${op}Backward`);
  if (formatShape(dy.shape) !== formatShape(out)) {
    throw new ShapeError(`${op}Backward: the output gradient must have shape ${formatShape(out)}, got ${formatShape(dy.shape)}`);
  }
  const needsValues = binaryNeedsInputs(op);
  if (needsValues && (!('shape' in inputs.a) || !('shape' in inputs.b))) {
    throw new ShapeError(`${op}Backward needs the values of both inputs, not only their shapes`);
  }
  const result: BinaryGradients = {};
  for (const [which, shape] of [['a', aShape], ['b', bShape]] as const) {
    if (!want[which]) continue;
    const uniforms = params(aShape, bShape, out, shape, op === 'sub' && which === 'b' ? -scale : scale);
    if (!needsValues && uniforms.scale === 1 && uniforms.reduced === 1) {
      const grad = rt.empty(shape, `${op}.grad_${which}`);
      rt.copy(dy, grad); // d(a + b)/da = 1: no kernel
      result[which] = grad;
      continue;
    }
    // one invocation per gradient element and chunk of its reduction; several chunks leave partial sums
    const chunks = Math.ceil(uniforms.reduced / uniforms.chunk);
    const size = shape.reduce((p, q) => p * q, 1);
    const grad = rt.empty(chunks === 1 ? shape : [chunks, size], `${op}.grad_${which}`);
    const workgroups = rt.grid(grad.size, WORKGROUP_SIZE);
    if (needsValues) {
      const constants = { WORKGROUP_SIZE, OP: OP_CODES[op], WRT: which === 'a' ? 0 : 1 };
      rt.dispatch({ shader: 'binary', entry: 'gradient', constants }, { bindings: { a: inputs.a as Tensor, b: inputs.b as Tensor, dy, grad }, uniforms, workgroups });
    } else {
      rt.dispatch({ shader: 'binary', entry: 'gradient_linear', constants: { WORKGROUP_SIZE } }, { bindings: { dy, grad }, uniforms, workgroups });
    }
    if (chunks === 1) {
      result[which] = grad;
    } else {
      result[which] = sumToChannels(rt, grad).reshapeMove(shape);
      grad.dispose();
    }
  }
  return result;
}
