/** conv2d and depthwiseConv2d layers (filter HWIO; depthwise [kh, kw, in, multiplier]), with fused bias and activation. */
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor } from '../../gpu/tensor.js';
import { conv2d, conv2dBackward } from '../../ops/conv2d.js';
import { depthwiseConv2d, depthwiseConv2dBackward } from '../../ops/depthwise_conv2d.js';
import { windowGeometry } from '../../ops/shapes.js';
import type { Layer, SpecOf } from '../layers.js';
import { fusedRescale, product, rank4, upload, windowGeometryShape } from './common.js';

export function convLayer(rt: Runtime, spec: SpecOf<'conv2d' | 'depthwiseConv2d'>): Layer {
  const name = spec.name;
  const filter = upload(rt, `${name}.filter`, spec.filter)!;
  const bias = upload(rt, `${name}.bias`, spec.bias);
  const options = { strides: spec.strides, dilations: spec.dilations, padding: spec.padding, activation: spec.activation };
  const depthwise = spec.kind === 'depthwiseConv2d';
  const [kh, kw, cin, cout] = spec.filter.shape;
  const outChannels = depthwise ? cin * cout : cout;
  const weights: Record<string, Tensor> = bias ? { filter, bias } : { filter };
  return {
    spec, weights, saves: { inputs: true, output: spec.activation !== 'linear' },
    outputShape: (shapes) => {
      const [n, h, w] = rank4(shapes, name, spec.kind);
      const g = windowGeometry(h, w, [kh, kw], spec.strides, spec.dilations, spec.padding);
      return [n, g.outHeight, g.outWidth, outChannels];
    },
    forward: (rt, [x]) => (depthwise ? depthwiseConv2d : conv2d)(rt, x, filter, bias, options),
    backward: (rt, record, dy, want) => {
      const run = depthwise ? depthwiseConv2dBackward : conv2dBackward;
      const x = record.inputs[0];
      const linear = { ...options, activation: 'linear' as const };
      const dz = fusedRescale(rt, dy, spec.activation, want.rule, () => (depthwise ? depthwiseConv2d : conv2d)(rt, x, filter, bias, linear));
      const grads = run(rt, { x, filter, y: record.output, dy: dz ?? dy }, dz ? linear : options, { input: want.inputs, filter: want.weights, bias: want.weights && !!bias, rule: want.rule });
      dz?.dispose();
      const out: Record<string, Tensor> = {};
      if (grads.filter) out.filter = grads.filter;
      if (grads.bias) out.bias = grads.bias;
      return { inputs: [grads.input], weights: out };
    },
    flops: (shapes) => {
      const outShape = [shapes[0][0], ...windowGeometryShape(shapes[0], [kh, kw], spec.strides, spec.dilations, spec.padding), outChannels];
      return 2 * product(outShape) * kh * kw * (depthwise ? 1 : cin);
    },
  };
}
