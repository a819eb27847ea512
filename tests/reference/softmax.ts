import { refTensor, type RefTensor } from './tensor.js';

/** Softmax over the last axis (row max subtracted). */
export function softmaxRef(x: RefTensor): RefTensor {
  const columns = x.shape[x.shape.length - 1];
  const y = refTensor(x.shape);
  for (let first = 0; first < x.data.length; first += columns) {
    let max = -Infinity;
    for (let j = 0; j < columns; j++) max = Math.max(max, x.data[first + j]);
    let sum = 0;
    for (let j = 0; j < columns; j++) sum += Math.exp(x.data[first + j] - max);
    for (let j = 0; j < columns; j++) y.data[first + j] = Math.exp(x.data[first + j] - max) / sum;
  }
  return y;
}

/** dx_j = sum_i dy_i dy_i/dx_j = y_j (dy_j - sum_i dy_i y_i), written as the full Jacobian product. */
export function softmaxBackwardRef(x: RefTensor, dy: RefTensor): RefTensor {
  const columns = x.shape[x.shape.length - 1];
  const y = softmaxRef(x);
  const dx = refTensor(x.shape);
  for (let first = 0; first < x.data.length; first += columns) {
    for (let j = 0; j < columns; j++) {
      let sum = 0;
      // Jacobian J[i][j] = y_i (delta_ij - y_j)
      for (let i = 0; i < columns; i++) sum += dy.data[first + i] * y.data[first + i] * ((i === j ? 1 : 0) - y.data[first + j]);
      dx.data[first + j] = sum;
    }
  }
  return dx;
}
