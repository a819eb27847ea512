/**
 * The graph-model loader on ResizeBilinear (align_corners, half_pixel_centers), ResizeNearestNeighbor
 * and Conv2DBackpropInput: a hand-written graph run by the engine and by TF.js's graph executor
 * (logits within 1e-5 relative L2), and the input gradient against the same graph written in TF.js
 * ops (tf.conv2dTranspose; resizes through resize_conv_oracle.ts, since TF.js's CPU resize
 * gradients ignore half_pixel_centers) within 1e-4.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { filesFromMemory, UnsupportedModelError, type ModelFiles } from '../../src/model/loaders/files.js';
import { loadGraphModel } from '../../src/model/loaders/graph_model.js';
import { INPUT, Model } from '../../src/model/model.js';
import { randomSource } from '../check.js';
import { describeGpu, KERNEL_VARIANTS, testRuntime } from '../gpu.js';
import { relativeL2, seededRandom } from '../reference/tensor.js';
import { resizeByMatrices } from './resize_conv_oracle.js';
import { loadTfjsGraphModel, tfjsRun } from './tfjs_oracle.js';

type Attr = Record<string, unknown>;

const a = {
  s: (v: string) => ({ s: btoa(v) }),
  ints: (v: number[]) => ({ list: { i: v.map(String) } }),
  b: (v: boolean) => ({ b: v }),
  shape: (dims: number[]) => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } }),
};

/** Graph nodes plus Const nodes whose values it keeps by name (for the TF.js-ops oracle). */
class Graph {
  readonly nodes: { name: string; op: string; input?: string[]; attr?: Attr }[] = [];
  readonly values = new Map<string, { shape: number[]; data: Float32Array | Int32Array }>();
  constructor(private readonly random: () => number) {}

  placeholder(name: string, dims: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: a.shape(dims) } });
    return name;
  }

  constant(name: string, shape: number[], ints?: number[]): string {
    const size = shape.reduce((p, q) => p * q, 1);
    const data = ints ? Int32Array.from(ints) : Float32Array.from({ length: size }, () => this.random() * 2 - 1);
    const type = ints ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type }, value: { tensor: { dtype: type, tensorShape: a.shape(shape).shape } } } });
    this.values.set(name, { shape, data });
    return name;
  }

  node(name: string, op: string, input: string[], attr: Attr = {}): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  tensor(name: string): tf.Tensor {
    const v = this.values.get(name)!;
    return tf.tensor(v.data, v.shape);
  }

  files(description: string): ModelFiles {
    const entries = [...this.values];
    const bytes = entries.map(([, v]) => new Uint8Array(v.data.buffer));
    const joined = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of bytes) {
      joined.set(b, at);
      at += b.byteLength;
    }
    const json = {
      format: 'graph-model',
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: entries.map(([name, v]) => ({ name, shape: v.shape, dtype: v.data instanceof Int32Array ? 'int32' : 'float32' })) }],
    };
    return filesFromMemory(description, json, new Map([['weights.bin', joined.buffer]]));
  }
}

const convAttr = (strides: number, padding: string) => ({ strides: a.ints([1, strides, strides, 1]), padding: a.s(padding), data_format: a.s('NHWC'), dilations: a.ints([1, 1, 1, 1]) });
const resizeAttr = (alignCorners: boolean, halfPixelCenters: boolean) => ({ align_corners: a.b(alignCorners), half_pixel_centers: a.b(halfPixelCenters), T: { type: 'DT_FLOAT' } });

/**
 * x [-1, 5, 4, 3] -> Conv2D SAME + BiasAdd + Relu -> ResizeBilinear 9x7 align_corners ->
 * ResizeBilinear 6x11 half_pixel_centers -> ResizeNearestNeighbor 13x5 -> ResizeNearestNeighbor
 * 7x8 half_pixel_centers -> Conv2DBackpropInput s2 SAME to 14x16 + BiasAdd + Relu ->
 * Conv2DBackpropInput s2 VALID to 29x33 -> Mean over H, W -> MatMul (the logits). input_sizes
 * name batch 2 for TF.js, which takes them literally; the engine reads only height and width.
 */
function resizeConvGraph(random: () => number): Graph {
  const g = new Graph(random);
  g.placeholder('x', [-1, 5, 4, 3]);
  g.node('conv', 'Conv2D', ['x', g.constant('f0', [3, 3, 3, 4])], convAttr(1, 'SAME'));
  g.node('conv_bias', 'BiasAdd', ['conv', g.constant('b0', [4])], { data_format: a.s('NHWC') });
  g.node('relu', 'Relu', ['conv_bias']);
  g.node('bilinear_align', 'ResizeBilinear', ['relu', g.constant('size1', [2], [9, 7])], resizeAttr(true, false));
  g.node('bilinear_half', 'ResizeBilinear', ['bilinear_align', g.constant('size2', [2], [6, 11])], resizeAttr(false, true));
  g.node('nearest', 'ResizeNearestNeighbor', ['bilinear_half', g.constant('size3', [2], [13, 5])], resizeAttr(false, false));
  g.node('nearest_half', 'ResizeNearestNeighbor', ['nearest', g.constant('size4', [2], [7, 8])], resizeAttr(false, true));
  g.node('deconv_same', 'Conv2DBackpropInput', [g.constant('sizes5', [4], [2, 14, 16, 2]), g.constant('f5', [3, 3, 2, 4]), 'nearest_half'], convAttr(2, 'SAME'));
  g.node('deconv_bias', 'BiasAdd', ['deconv_same', g.constant('b5', [2])], { data_format: a.s('NHWC') });
  g.node('deconv_relu', 'Relu', ['deconv_bias']);
  g.node('deconv_valid', 'Conv2DBackpropInput', [g.constant('sizes6', [4], [2, 29, 33, 3]), g.constant('f6', [3, 3, 3, 2]), 'deconv_relu'], convAttr(2, 'VALID'));
  g.node('mean', 'Mean', ['deconv_valid', g.constant('axes', [2], [1, 2])], { keep_dims: a.b(false) });
  g.node('logits', 'MatMul', ['mean', g.constant('w', [3, 4])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  return g;
}

/** The same graph in TF.js ops, with gradients TF.js computes correctly. */
function resizeConvFunction(g: Graph): (x: tf.Tensor) => tf.Tensor {
  const [f0, b0, f5, b5, f6, w] = ['f0', 'b0', 'f5', 'b5', 'f6', 'w'].map((n) => g.tensor(n));
  return (x) => {
    const n = x.shape[0]!;
    let h = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, f0 as tf.Tensor4D, 1, 'same'), b0)) as tf.Tensor4D;
    h = resizeByMatrices(h, [9, 7], { method: 'bilinear', alignCorners: true, halfPixelCenters: false });
    h = resizeByMatrices(h, [6, 11], { method: 'bilinear', alignCorners: false, halfPixelCenters: true });
    h = resizeByMatrices(h, [13, 5], { method: 'nearest', alignCorners: false, halfPixelCenters: false });
    h = resizeByMatrices(h, [7, 8], { method: 'nearest', alignCorners: false, halfPixelCenters: true });
    h = tf.relu(tf.add(tf.conv2dTranspose(h, f5 as tf.Tensor4D, [n, 14, 16, 2], 2, 'same'), b5)) as tf.Tensor4D;
    h = tf.conv2dTranspose(h, f6 as tf.Tensor4D, [n, 29, 33, 3], 2, 'valid');
    return tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, w as tf.Tensor2D);
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describeGpu('loadGraphModel: ResizeBilinear, ResizeNearestNeighbor, Conv2DBackpropInput vs TF.js CPU', () => {
  it('maps the resizes with their flags and folds BiasAdd + Relu into Conv2DBackpropInput', async () => {
    const spec = await loadGraphModel(resizeConvGraph(seededRandom(1)).files('resize.json'));
    expect(spec.layers.map((l) => `${l.kind}:${l.name}`)).toEqual([
      'input:x', 'conv2d:relu', 'resize:bilinear_align', 'resize:bilinear_half', 'resize:nearest', 'resize:nearest_half',
      'conv2dTranspose:deconv_relu', 'conv2dTranspose:deconv_valid', 'globalAvgPool:mean', 'dense:logits',
    ]);
    expect(spec.layers[2]).toMatchObject({ method: 'bilinear', size: [9, 7], alignCorners: true, halfPixelCenters: false });
    expect(spec.layers[5]).toMatchObject({ method: 'nearest', size: [7, 8], alignCorners: false, halfPixelCenters: true });
    expect(spec.layers[6]).toMatchObject({ outputSize: [14, 16], strides: [2, 2], padding: 'same', activation: 'relu', bias: { shape: [2] } });
  });

  for (const kernels of KERNEL_VARIANTS) {
    it(`resize (all flag pairs) and Conv2DBackpropInput SAME/VALID graph [${kernels} kernels] x=[2,5,4,3]`, async () => {
      const { seed: s, random } = randomSource();
      const graph = resizeConvGraph(random);
      const x = tf.tensor(Float32Array.from({ length: 2 * 5 * 4 * 3 }, () => random() * 4 - 2), [2, 5, 4, 3]);
      const seed = tf.tensor(Float32Array.from({ length: 8 }, () => random() * 2 - 1), [2, 4]);
      // TF.js's graph executor gives the logits; the TF.js-ops graph agrees with it and gives the gradient
      const [graphLogits] = await tfjsRun(await loadTfjsGraphModel(graph.files('resize.json')), { shape: [2, 5, 4, 3], data: x.dataSync() as Float32Array });
      const f = resizeConvFunction(graph);
      expect(relativeL2(f(x).dataSync(), graphLogits.data), 'TF.js ops vs TF.js graph').toBeLessThan(1e-6);
      const expectedGradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(f(t), seed)))(x).dataSync();

      const rt = testRuntime(kernels);
      const model = Model.create(rt, await loadGraphModel(graph.files('resize.json')));
      const input = rt.upload([2, 5, 4, 3], x.dataSync());
      const pass = model.forward(input, { forBackward: true });
      const logits = await rt.read(pass.value(model.outputName));
      const { gradients } = model.backward(pass, new Map([[model.outputName, rt.upload([2, 4], seed.dataSync())]]));
      const gradient = await rt.read(gradients.get(INPUT)!);
      pass.dispose();
      model.dispose();
      const errors = { logits: relativeL2(logits, graphLogits.data), gradient: relativeL2(gradient, expectedGradient) };
      console.log(`[agreement] resize/deconv graph [${kernels}] seed ${s}: relative L2 logits ${errors.logits.toExponential(2)} input-gradient ${errors.gradient.toExponential(2)}`);
      expect(Math.hypot(...expectedGradient)).toBeGreaterThan(1e-3);
      expect(errors.logits).toBeLessThanOrEqual(1e-5);
      expect(errors.gradient).toBeLessThanOrEqual(1e-4);
    });
  }
});

describeGpu('loadGraphModel: Conv2DBackpropInput with EXPLICIT padding vs TF.js CPU', () => {
  it('x=[2,4,3,2] -> 9x5 at stride 2, explicit_paddings top 1 bottom 0 left 2 right 1, a per-channel Mul folded into the filter', async () => {
    const { seed: s, random } = randomSource();
    const g = new Graph(random);
    g.placeholder('x', [-1, 4, 3, 2]);
    g.node('d', 'Conv2DBackpropInput', [g.constant('sizes', [4], [2, 9, 5, 3]), g.constant('f', [3, 3, 3, 2]), 'x'], { ...convAttr(2, 'EXPLICIT'), explicit_paddings: a.ints([0, 0, 1, 0, 2, 1, 0, 0]) });
    // the output channel is the filter's third axis ([kh, kw, out, in]): a per-channel scale folds along it
    g.node('scaled', 'Mul', ['d', g.constant('scale', [3])]);
    g.node('mean', 'Mean', ['scaled', g.constant('axes', [2], [1, 2])], { keep_dims: a.b(false) });
    g.node('logits', 'MatMul', ['mean', g.constant('w', [3, 4])], { transpose_a: a.b(false), transpose_b: a.b(false) });
    const spec = await loadGraphModel(g.files('explicit.json'));
    expect(spec.layers[1]).toMatchObject({ kind: 'conv2dTranspose', name: 'scaled', outputSize: [9, 5], padding: { top: 1, bottom: 0, left: 2, right: 1 } });
    const x = tf.tensor(Float32Array.from({ length: 2 * 4 * 3 * 2 }, () => random() * 4 - 2), [2, 4, 3, 2]);
    const seed = tf.tensor(Float32Array.from({ length: 8 }, () => random() * 2 - 1), [2, 4]);
    const [graphLogits] = await tfjsRun(await loadTfjsGraphModel(g.files('explicit.json')), { shape: [2, 4, 3, 2], data: x.dataSync() as Float32Array });
    const [f, scale, w] = [g.tensor('f'), g.tensor('scale'), g.tensor('w')];
    const deconv = (t: tf.Tensor) => tf.mul(tf.conv2dTranspose(t as tf.Tensor4D, f as tf.Tensor4D, [2, 9, 5, 3], 2, [[0, 0], [1, 0], [2, 1], [0, 0]]), scale);
    const fn = (t: tf.Tensor) => tf.matMul(tf.mean(deconv(t), [1, 2]) as tf.Tensor2D, w as tf.Tensor2D);
    expect(relativeL2(fn(x).dataSync(), graphLogits.data), 'TF.js ops vs TF.js graph').toBeLessThan(1e-6);
    const expectedGradient = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fn(t), seed)))(x).dataSync();
    const rt = testRuntime();
    const model = Model.create(rt, spec);
    const input = rt.upload([2, 4, 3, 2], x.dataSync());
    const pass = model.forward(input, { forBackward: true });
    const logits = await rt.read(pass.value(model.outputName));
    const { gradients } = model.backward(pass, new Map([[model.outputName, rt.upload([2, 4], seed.dataSync())]]));
    const gradient = await rt.read(gradients.get(INPUT)!);
    pass.dispose();
    model.dispose();
    const errors = { logits: relativeL2(logits, graphLogits.data), gradient: relativeL2(gradient, expectedGradient) };
    console.log(`[agreement] explicit deconv seed ${s}: relative L2 logits ${errors.logits.toExponential(2)} input-gradient ${errors.gradient.toExponential(2)}`);
    expect(errors.logits).toBeLessThanOrEqual(1e-5);
    expect(errors.gradient).toBeLessThanOrEqual(1e-4);
  });
});

describe('loadGraphModel: resize and Conv2DBackpropInput rejections', () => {
  async function rejection(build: (g: Graph) => void): Promise<UnsupportedModelError> {
    const g = new Graph(seededRandom(3));
    g.placeholder('x', [-1, 6, 6, 2]);
    build(g);
    const error = await loadGraphModel(g.files('tiny.json')).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    return error as UnsupportedModelError;
  }

  it('a computed size, both flags, a bad size, EXPLICIT padding of the batch or channels, input_sizes that do not convolve back', async () => {
    expect((await rejection((g) => g.node('r', 'ResizeBilinear', ['x', g.node('y', 'Relu', ['x'])], resizeAttr(false, false)))).message)
      .toMatch(/node 'r' \(ResizeBilinear\): input 'y' must be a constant, but it is computed \(Relu\)/);
    expect((await rejection((g) => g.node('r', 'ResizeBilinear', ['x', g.constant('s', [2], [4, 4])], resizeAttr(true, true)))).message)
      .toMatch(/node 'r' \(ResizeBilinear\): align_corners and half_pixel_centers are both true/);
    expect((await rejection((g) => g.node('r', 'ResizeNearestNeighbor', ['x', g.constant('s', [3], [4, 4, 1])], resizeAttr(false, false)))).message)
      .toMatch(/node 'r' \(ResizeNearestNeighbor\): size \[4, 4, 1\] must be \[height, width\] of positive integers/);
    const deconv = (g: Graph, sizes: number[], attr: Attr) => g.node('d', 'Conv2DBackpropInput', [g.constant('sizes', [4], sizes), g.constant('f', [3, 3, 5, 2]), 'x'], attr);
    expect((await rejection((g) => deconv(g, [1, 12, 12, 5], { ...convAttr(2, 'EXPLICIT'), explicit_paddings: a.ints([0, 0, 1, 1, 1, 1, 1, 0]) }))).message)
      .toMatch(/node 'd' \(Conv2DBackpropInput\): explicit_paddings \[0, 0, 1, 1, 1, 1, 1, 0\] must be \[0, 0, top, bottom, left, right, 0, 0\]/);
    expect((await rejection((g) => deconv(g, [1, 14, 12, 5], convAttr(2, 'SAME')))).message)
      .toMatch(/node 'd' \(Conv2DBackpropInput\): input_sizes 14x12 convolve to 7x6 with these strides and padding, not to out_backprop's 6x6/);
    expect((await rejection((g) => deconv(g, [1, 12, 12, 4], convAttr(2, 'SAME')))).message)
      .toMatch(/input_sizes \[1, 12, 12, 4\] must be \[N, height, width, 5\]/);
  });
});
