import { refTensor, type RefTensor } from './tensor.js';

/** Concatenation along `axis` (non-negative) by coordinates: element-by-element, no row tricks. */
export function concatRef(inputs: RefTensor[], axis: number): RefTensor {
  const shape = inputs[0].shape.map((d, i) => (i === axis ? inputs.reduce((s, t) => s + t.shape[axis], 0) : d));
  const out = refTensor(shape);
  let start = 0;
  for (const t of inputs) {
    for (let i = 0; i < t.data.length; i++) {
      // coordinates of element i of t, shifted along the axis, flattened in the output
      let rest = i;
      let index = 0;
      let stride = 1;
      for (let d = t.shape.length - 1; d >= 0; d--) {
        const c = rest % t.shape[d];
        rest = Math.floor(rest / t.shape[d]);
        index += (d === axis ? c + start : c) * stride;
        stride *= shape[d];
      }
      out.data[index] = t.data[i];
    }
    start += t.shape[axis];
  }
  return out;
}

/** The gradient of each input: the block of dy that its elements went to. */
export function concatBackwardRef(dy: RefTensor, shapes: number[][], axis: number): RefTensor[] {
  // concatenation is linear: the VJP of input k is dy read back at the positions concatRef writes
  return shapes.map((shape, k) => {
    const marks = shapes.map((s, j) => refTensor(s, new Array(s.reduce((a, b) => a * b, 1)).fill(j === k ? 1 : 0)));
    const indices = shapes.map((s) => refTensor(s, Array.from({ length: s.reduce((a, b) => a * b, 1) }, (_, i) => i)));
    const mask = concatRef(marks, axis);
    const source = concatRef(indices, axis);
    const grad = refTensor(shape);
    mask.data.forEach((m, i) => {
      if (m === 1) grad.data[source.data[i]] = dy.data[i];
    });
    return grad;
  });
}
