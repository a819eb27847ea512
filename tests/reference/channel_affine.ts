import { refTensor, type RefTensor } from './tensor.js';

/** y = x * scale[c] + shift[c] over the last axis. */
export function channelAffineRef(x: RefTensor, scale: RefTensor, shift: RefTensor): RefTensor {
  const channels = scale.data.length;
  return refTensor(x.shape, x.data.map((v, i) => v * scale.data[i % channels] + shift.data[i % channels]));
}

export function channelAffineBackwardRef(x: RefTensor, dy: RefTensor, scale: RefTensor): { input: RefTensor; scale: RefTensor; shift: RefTensor } {
  const channels = scale.data.length;
  const input = refTensor(x.shape);
  const dScale = refTensor([channels]);
  const dShift = refTensor([channels]);
  for (let i = 0; i < x.data.length; i++) {
    const c = i % channels;
    input.data[i] = dy.data[i] * scale.data[c];
    dScale.data[c] += dy.data[i] * x.data[i];
    dShift.data[c] += dy.data[i];
  }
  return { input, scale: dScale, shift: dShift };
}

/** Unfolded inference-mode batch norm: gamma (x - mean) / sqrt(variance + epsilon) + beta. */
export function batchNormRef(x: RefTensor, gamma: RefTensor, beta: RefTensor, mean: RefTensor, variance: RefTensor, epsilon: number): RefTensor {
  const channels = mean.data.length;
  return refTensor(
    x.shape,
    x.data.map((v, i) => {
      const c = i % channels;
      return (gamma.data[c] * (v - mean.data[c])) / Math.sqrt(variance.data[c] + epsilon) + beta.data[c];
    }),
  );
}
