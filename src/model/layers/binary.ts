/**
 * Two computed tensors combined elementwise with broadcasting: `add` (residual connections; the
 * layer kind older specs use) and `binary` (sub, mul, div, maximum, minimum, add; Keras merge
 * layers, squeeze-and-excitation's [N, 1, 1, C] * [N, H, W, C], swish's x * sigmoid(x)).
 */
import { ShapeError } from '../../errors.js';
import { binary, binaryBackward, binaryNeedsInputs, broadcastShape, type BinaryOp } from '../../ops/binary.js';
import type { Layer, SpecOf } from '../layers.js';
import { product } from './common.js';

export function binaryLayer(_rt: unknown, spec: SpecOf<'binary'> | SpecOf<'add'>): Layer {
  const op: BinaryOp = spec.kind === 'add' ? 'add' : spec.op;
  const scale = spec.kind === 'binary' ? (spec.scale ?? 1) : 1;
  const what = `${spec.kind === 'add' ? 'add' : op} '${spec.name}'`;
  return {
    spec, weights: {}, saves: { inputs: binaryNeedsInputs(op), output: false },
    outputShape: (shapes) => {
      if (shapes.length !== 2) throw new ShapeError(`${what} takes two inputs, got ${shapes.length}`);
      return broadcastShape(shapes[0], shapes[1], what);
    },
    forward: (rt, [a, b]) => binary(rt, op, a, b, scale),
    backward: (rt, record, dy, want) => {
      if (!want.inputs) return { inputs: [undefined, undefined], weights: {} };
      const [a, b] = binaryNeedsInputs(op) ? record.inputs : record.inputShapes;
      const grads = binaryBackward(rt, op, dy, { a, b }, { a: true, b: true }, scale);
      return { inputs: [grads.a, grads.b], weights: {} };
    },
    flops: ([a, b]) => product(broadcastShape(a, b, what)),
  };
}
