import type { BinaryOp } from '../../src/ops/binary.js';
import { refTensor, type RefTensor } from './tensor.js';

const FUNCTIONS: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  maximum: (x, y) => Math.max(x, y),
  minimum: (x, y) => Math.min(x, y),
};

/** d op / dx and d op / dy; maximum/minimum give ties to x (TF's _MaximumMinimumGrad). */
const PARTIALS: Record<BinaryOp, (x: number, y: number) => [number, number]> = {
  add: () => [1, 1],
  sub: () => [1, -1],
  mul: (x, y) => [y, x],
  div: (x, y) => [1 / y, -x / (y * y)],
  maximum: (x, y) => (x >= y ? [1, 0] : [0, 1]),
  minimum: (x, y) => (x <= y ? [1, 0] : [0, 1]),
};

/** NumPy broadcasting of equal-rank shapes. */
function broadcast(a: number[], b: number[]): number[] {
  if (a.length !== b.length) throw new Error(`reference broadcast: ranks of [${a}] and [${b}] differ`);
  return a.map((d, i) => {
    if (d !== b[i] && d !== 1 && b[i] !== 1) throw new Error(`reference broadcast: [${a}] and [${b}] do not broadcast`);
    return Math.max(d, b[i]);
  });
}

/** For each output element, the flat index it reads in an input of `shape`. */
function sourceIndex(shape: number[], out: number[]): (i: number) => number {
  return (i) => {
    let index = 0;
    let stride = 1;
    let rest = i;
    for (let axis = out.length - 1; axis >= 0; axis--) {
      const coordinate = rest % out[axis];
      rest = Math.floor(rest / out[axis]);
      if (shape[axis] !== 1) index += coordinate * stride;
      stride *= shape[axis];
    }
    return index;
  };
}

export function binaryRef(op: BinaryOp, a: RefTensor, b: RefTensor, scale = 1): RefTensor {
  const shape = broadcast(a.shape, b.shape);
  const [ia, ib] = [sourceIndex(a.shape, shape), sourceIndex(b.shape, shape)];
  const out = refTensor(shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = scale * FUNCTIONS[op](a.data[ia(i)], b.data[ib(i)]);
  return out;
}

/** Gradients of sum(dy * scale * op(a, b)) with respect to a and b: the broadcast axes summed. */
export function binaryBackwardRef(op: BinaryOp, a: RefTensor, b: RefTensor, dy: RefTensor, scale = 1): { a: RefTensor; b: RefTensor } {
  const shape = broadcast(a.shape, b.shape);
  const [ia, ib] = [sourceIndex(a.shape, shape), sourceIndex(b.shape, shape)];
  const da = refTensor(a.shape);
  const db = refTensor(b.shape);
  for (let i = 0; i < dy.data.length; i++) {
    const [pa, pb] = PARTIALS[op](a.data[ia(i)], b.data[ib(i)]);
    da.data[ia(i)] += scale * dy.data[i] * pa;
    db.data[ib(i)] += scale * dy.data[i] * pb;
  }
  return { a: da, b: db };
}
