/**
 * What each layer kind means to the executor: output shape, forward, backward (to its inputs and,
 * on request, to its weights), what the backward needs kept from the forward, and FLOPs.
 * Shapes here exclude nothing: they are full NHWC shapes with the batch first.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { activation, activationBackward } from '../ops/activation.js';
import { add } from '../ops/add.js';
import { avgPool, avgPoolBackward } from '../ops/avg_pool.js';
import { channelAffine, channelAffineBackward } from '../ops/channel_affine.js';
import { conv2d, conv2dBackward } from '../ops/conv2d.js';
import { dense, denseBackward } from '../ops/dense.js';
import { depthwiseConv2d, depthwiseConv2dBackward } from '../ops/depthwise_conv2d.js';
import { globalAvgPool, globalAvgPoolBackward } from '../ops/global_avg_pool.js';
import { maxPool, maxPoolBackward } from '../ops/max_pool.js';
import { reshape } from '../ops/reshape.js';
import { formatShape, windowGeometry, type Padding } from '../ops/shapes.js';
import { softmax, softmaxBackward } from '../ops/softmax.js';
import { zeroPad2d, zeroPad2dBackward } from '../ops/zero_pad.js';
import type { LayerSpec, WeightData } from './spec.js';

/** Values a layer's backward may use, kept from its forward when `saves` asks for them. */
export interface ForwardRecord {
  inputs: Tensor[];
  output: Tensor;
  inputShapes: Shape[];
}

export interface LayerGradients {
  /** One per input; undefined where not requested. */
  inputs: (Tensor | undefined)[];
  /** By weight name (filter, bias, weights, scale, shift), when requested. */
  weights: Record<string, Tensor>;
}

export interface Layer {
  readonly spec: LayerSpec;
  /** GPU copies of the weights, by name. */
  readonly weights: Record<string, Tensor>;
  /** Which forward values the backward reads. */
  readonly saves: { inputs: boolean; output: boolean };
  outputShape(inputShapes: Shape[]): Shape;
  forward(rt: Runtime, inputs: Tensor[]): Tensor;
  backward(rt: Runtime, record: ForwardRecord, dy: Tensor, want: { inputs: boolean; weights: boolean }): LayerGradients;
  /** Multiply-adds count as two FLOPs. */
  flops(inputShapes: Shape[]): number;
}

const product = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

function upload(rt: Runtime, name: string, w: WeightData | undefined): Tensor | undefined {
  return w && rt.upload(w.shape, w.data, name);
}

function rank4(shapes: Shape[], name: string, kind: string): Shape {
  const [shape] = shapes;
  if (!shape || shape.length !== 4) throw new ShapeError(`${kind} '${name}' needs an NHWC input of rank 4, got ${shape ? formatShape(shape) : 'nothing'}`);
  return shape;
}

export function createLayer(rt: Runtime, spec: LayerSpec): Layer {
  const name = spec.name;
  switch (spec.kind) {
    case 'input':
      return {
        spec, weights: {}, saves: { inputs: false, output: false },
        outputShape: (s) => s[0],
        forward: () => { throw new Error('input layers are fed, not run'); },
        backward: () => ({ inputs: [], weights: {} }),
        flops: () => 0,
      };
    case 'conv2d':
    case 'depthwiseConv2d': {
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
          const grads = run(rt, { x: record.inputs[0], filter, y: record.output, dy }, options, { input: want.inputs, filter: want.weights, bias: want.weights && !!bias });
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
    case 'maxPool':
    case 'avgPool': {
      const options = { poolSize: spec.poolSize, strides: spec.strides, padding: spec.padding };
      const isMax = spec.kind === 'maxPool';
      return {
        spec, weights: {}, saves: { inputs: isMax, output: false },
        outputShape: (shapes) => {
          const [n, h, w, c] = rank4(shapes, name, spec.kind);
          return [n, ...windowGeometryShape([n, h, w, c], spec.poolSize, spec.strides, [1, 1], spec.padding), c];
        },
        forward: (rt, [x]) => (isMax ? maxPool(rt, x, options) : avgPool(rt, x, options)),
        backward: (rt, record, dy) => ({
          inputs: [isMax ? maxPoolBackward(rt, record.inputs[0], dy, options) : avgPoolBackward(rt, dy, record.inputShapes[0], options)],
          weights: {},
        }),
        flops: (shapes) => product(shapes[0]),
      };
    }
    case 'globalAvgPool':
      return {
        spec, weights: {}, saves: { inputs: false, output: false },
        outputShape: (shapes) => {
          const [n, , , c] = rank4(shapes, name, 'globalAvgPool');
          return spec.keepDims ? [n, 1, 1, c] : [n, c];
        },
        forward: (rt, [x]) => {
          const pooled = globalAvgPool(rt, x);
          return spec.keepDims ? pooled.reshapeMove([x.shape[0], 1, 1, x.shape[3]]) : pooled;
        },
        backward: (rt, record, dy) => {
          const [n, , , c] = record.inputShapes[0];
          // with keepDims the gradient arrives as [N,1,1,C]: the same values as the [N,C] the op takes
          const flat = dy.shape.length === 2 ? dy : reshape(rt, dy, [n, c]);
          const dx = globalAvgPoolBackward(rt, flat, record.inputShapes[0]);
          if (flat !== dy) flat.dispose();
          return { inputs: [dx], weights: {} };
        },
        flops: (shapes) => product(shapes[0]),
      };
    case 'dense': {
      const weightsTensor = upload(rt, `${name}.weights`, spec.weights)!;
      const bias = upload(rt, `${name}.bias`, spec.bias);
      const [k, m] = spec.weights.shape;
      return {
        spec, weights: bias ? { weights: weightsTensor, bias } : { weights: weightsTensor }, saves: { inputs: true, output: spec.activation !== 'linear' },
        outputShape: (shapes) => {
          const [shape] = shapes;
          if (shape.length !== 2 || shape[1] !== k) throw new ShapeError(`dense '${name}' expects input [N, ${k}], got ${formatShape(shape)} (flatten first)`);
          return [shape[0], m];
        },
        forward: (rt, [x]) => dense(rt, x, weightsTensor, bias, { activation: spec.activation }),
        backward: (rt, record, dy, want) => {
          const grads = denseBackward(rt, { x: record.inputs[0], weights: weightsTensor, y: record.output, dy }, { activation: spec.activation }, { input: want.inputs, weights: want.weights, bias: want.weights && !!bias });
          const out: Record<string, Tensor> = {};
          if (grads.weights) out.weights = grads.weights;
          if (grads.bias) out.bias = grads.bias;
          return { inputs: [grads.input], weights: out };
        },
        flops: (shapes) => 2 * shapes[0][0] * k * m,
      };
    }
    case 'activation':
      return {
        spec, weights: {}, saves: { inputs: false, output: true },
        outputShape: (s) => s[0],
        forward: (rt, [x]) => activation(rt, x, spec.activation),
        backward: (rt, record, dy) => ({ inputs: [activationBackward(rt, dy, record.output, spec.activation)], weights: {} }),
        flops: (s) => product(s[0]),
      };
    case 'softmax':
      return {
        spec, weights: {}, saves: { inputs: false, output: true },
        outputShape: (s) => s[0],
        forward: (rt, [x]) => softmax(rt, x),
        backward: (rt, record, dy) => ({ inputs: [softmaxBackward(rt, record.output, dy)], weights: {} }),
        flops: (s) => 5 * product(s[0]),
      };
    case 'add':
      return {
        spec, weights: {}, saves: { inputs: false, output: false },
        outputShape: (shapes) => {
          if (shapes.length !== 2 || formatShape(shapes[0]) !== formatShape(shapes[1])) {
            throw new ShapeError(`add '${name}' needs two inputs of one shape, got ${shapes.map(formatShape).join(' and ')}`);
          }
          return shapes[0];
        },
        forward: (rt, [a, b]) => add(rt, a, b),
        // d(a + b) = dy to each input; the second gets its own copy so that ownership stays simple
        backward: (rt, _record, dy, want) => {
          if (!want.inputs) return { inputs: [undefined, undefined], weights: {} };
          const second = rt.empty(dy.shape, `${name}.grad`);
          rt.copy(dy, second);
          const first = rt.empty(dy.shape, `${name}.grad`);
          rt.copy(dy, first);
          return { inputs: [first, second], weights: {} };
        },
        flops: (s) => product(s[0]),
      };
    case 'channelAffine': {
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
    case 'zeroPad': {
      const padding = { top: spec.top, bottom: spec.bottom, left: spec.left, right: spec.right };
      return {
        spec, weights: {}, saves: { inputs: false, output: false },
        outputShape: (shapes) => {
          const [n, h, w, c] = rank4(shapes, name, 'zeroPad');
          return [n, h + spec.top + spec.bottom, w + spec.left + spec.right, c];
        },
        forward: (rt, [x]) => zeroPad2d(rt, x, padding),
        backward: (rt, _record, dy) => ({ inputs: [zeroPad2dBackward(rt, dy, padding)], weights: {} }),
        flops: () => 0,
      };
    }
    case 'reshape':
      return {
        spec, weights: {}, saves: { inputs: false, output: false },
        outputShape: (shapes) => {
          const [shape] = shapes;
          const target = reshapeTarget(shape, spec.shape);
          if (product(target) !== product(shape) || target.some((d) => !Number.isInteger(d) || d <= 0)) {
            throw new ShapeError(`reshape '${name}': cannot reshape ${formatShape(shape)} to [N, ${spec.shape.join(', ')}]`);
          }
          return target;
        },
        forward: (rt, [x]) => reshape(rt, x, reshapeTarget(x.shape, spec.shape)),
        backward: (rt, record, dy) => ({ inputs: [reshape(rt, dy, record.inputShapes[0])], weights: {} }),
        flops: () => 0,
      };
    case 'identity':
      return {
        spec, weights: {}, saves: { inputs: false, output: false },
        outputShape: (s) => s[0],
        forward: (rt, [x]) => reshape(rt, x, x.shape),
        backward: (rt, _record, dy) => ({ inputs: [reshape(rt, dy, dy.shape)], weights: {} }),
        flops: () => 0,
      };
  }
}

function windowGeometryShape(shape: Shape, kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number], padding: Padding): [number, number] {
  const g = windowGeometry(shape[1], shape[2], kernel, strides, dilations, padding);
  return [g.outHeight, g.outWidth];
}

/** [N, ...target] with a -1 entry inferred from the element count. */
function reshapeTarget(shape: Shape, target: number[]): number[] {
  const full = [shape[0], ...target];
  const free = full.indexOf(-1);
  if (free >= 0) full[free] = product(shape) / -product(full);
  return full;
}
