import { refTensor, type RefTensor } from './tensor.js';

/** [..., C] -> [C] */
export function sumToChannelsRef(x: RefTensor): RefTensor {
  const channels = x.shape[x.shape.length - 1];
  const out = refTensor([channels]);
  x.data.forEach((v, i) => (out.data[i % channels] += v));
  return out;
}
