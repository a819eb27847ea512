/** y = x * scale + shift per channel (an unfolded batch normalization). */
import { ShapeError } from '../../errors.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor } from '../../gpu/tensor.js';
import { channelAffine, channelAffineBackward } from '../../ops/channel_affine.js';
import { formatShape } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { product, upload } from './common.js';

export function channelAffineLayer(rt: Runtime, spec: SpecOf<'channelAffine'>): Layer {
  const name = spec.name;
  const scale = upload(rt, `${name}.scale`, spec.scale)!;
  const shift = upload(rt, `${name}.shift`, spec.shift)!;
  return {
    spec, weights: { scale, shift }, saves: { inputs: true, output: false },
    outputShape: (shapes) => {
      const [shape] = shapes;
      if (shape[shape.length - 1] !== scale.size) throw new ShapeError(`channelAffine '${name}' has ${scale.size} channels but its input is ${formatShape(shape)}`);
      return shape;
    },
    forward: (rt, [x]) => channelAffine(rt, x, scale, shift),
    backward: (rt, record, dy, want) => {
      const grads = channelAffineBackward(rt, record.inputs[0], dy, scale, { input: want.inputs, scale: want.weights, shift: want.weights });
      const out: Record<string, Tensor> = {};
      if (grads.scale) out.scale = grads.scale;
      if (grads.shift) out.shift = grads.shift;
      return { inputs: [grads.input], weights: out };
    },
    flops: (s) => 2 * product(s[0]),
  };
}
