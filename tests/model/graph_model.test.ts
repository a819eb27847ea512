import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime.js';
import { filesFromMemory, filesFromPath, ModelLoadError, UnsupportedModelError, type ModelFiles } from '../../src/model/loaders/files.js';
import { GRAPH_MODEL_OPS, loadGraphModel } from '../../src/model/loaders/graph_model.js';
import { loadModelSpec } from '../../src/model/loaders/index.js';
import { Model } from '../../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import { freshSeed } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { seededRandom } from '../reference/tensor.js';
import { a, Fixture, placeholder, type Attr } from './graph_fixture.js';
import { photoTensor, SKIMAGE_DATA } from './photo.js';
import { loadTfjsGraphModel, relativeL2, tfjsInputGradient, tfjsRun, topClassSeed, type HostTensor, type TfjsModel } from './tfjs_oracle.js';

const HUMAN_MODELS = 'node_modules/@vladmandic/human/models';

const conv = (strides = [1, 1, 1, 1], padding = 'VALID', explicit: number[] = []) => ({
  strides: a.ints(strides), padding: a.s(padding), data_format: a.s('NHWC'), dilations: a.ints([1, 1, 1, 1]), explicit_paddings: a.ints(explicit),
});
const pool = (k: number, s: number, padding: string) => ({ ksize: a.ints([1, k, k, 1]), strides: a.ints([1, s, s, 1]), padding: a.s(padding), data_format: a.s('NHWC') });

/**
 * Every mapping and fold at once: Mul/Add(const first)/Pad/Conv2D/BiasAdd/Mul/Sub/Relu,
 * DepthwiseConv2dNative/FusedBatchNormV3/Relu6, residual AddV2, MaxPool, AvgPool SAME, Mean
 * keep_dims, Squeeze, MatMul, BiasAdd, Softmax, Identity; ':0' and '^control' inputs; a dead
 * Conv3D branch that a signature output leaves out.
 */
function foldingFixture(random: () => number, avgPadding: 'SAME' | 'VALID' = 'SAME'): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 8, 8, 3]));
  f.node('pre_mul', 'Mul', ['x:0', f.positive('cm', [3])], { T: { type: 'DT_FLOAT' } });
  f.node('pre_add', 'AddV2', [f.constant('ca', [1, 1, 1, 3]), 'pre_mul', '^cm']);
  f.node('pad', 'Pad', ['pre_add', f.constant('paddings', [4, 2], [0, 0, 1, 2, 0, 1, 0, 0], 'int32')]);
  f.node('conv', 'Conv2D', ['pad', f.constant('f1', [3, 3, 3, 4])], conv());
  f.node('bias', 'BiasAdd', ['conv', f.constant('b1', [4])], { data_format: a.s('NHWC') });
  f.node('bn_mul', 'Mul', ['bias', f.positive('s1', [4])]);
  f.node('bn_sub', 'Sub', ['bn_mul', f.constant('t1', [4])]);
  f.node('relu', 'Relu', ['bn_sub']);
  f.node('dw', 'DepthwiseConv2dNative', ['relu', f.constant('df', [3, 3, 4, 1])], conv([1, 1, 1, 1], 'SAME'));
  f.node('dw_bn', 'FusedBatchNormV3', ['dw', f.positive('g', [4]), f.constant('be', [4]), f.constant('mu', [4]), f.positive('var', [4])], {
    epsilon: a.f(1e-3), data_format: a.s('NHWC'), is_training: a.b(false),
  });
  f.node('relu6', 'Relu6', ['dw_bn']);
  f.node('res', 'AddV2', ['relu6', 'relu']);
  f.node('pool', 'MaxPool', ['res'], pool(2, 2, 'VALID'));
  f.node('avg', 'AvgPool', ['pool'], pool(avgPadding === 'SAME' ? 3 : 2, 1, avgPadding));
  f.node('mean', 'Mean', ['avg', f.constant('axes', [2], [1, 2], 'int32')], { keep_dims: a.b(true) });
  f.node('sq', 'Squeeze', ['mean'], { squeeze_dims: a.ints([1, 2]) });
  f.node('mm', 'MatMul', ['sq', f.constant('w', [4, 5])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  f.node('ba', 'BiasAdd', ['mm', f.constant('b5', [5])], { data_format: a.s('NHWC') });
  f.node('out', 'Softmax', ['ba']);
  f.node('Identity', 'Identity', ['out']);
  f.node('dead', 'Conv3D', ['x']);
  return f;
}
const foldingSignature = { signature: { outputs: { probs: { name: 'Identity:0' } } } };

/**
 * Fused forms TF.js cannot run or spells differently: _FusedConv2D with FusedBatchNorm + Relu
 * and EXPLICIT padding, FusedDepthwiseConv2dNative, Mean over negative axes, _FusedMatMul with
 * transpose_b and a fused Sigmoid. `oracle` spells the same graph in ops TF.js runs.
 */
function fusedFixture(random: () => number, oracle: boolean): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 7, 7, 2]));
  const filter = f.constant('f', [3, 3, 2, 3]);
  const bn = [f.positive('gamma', [3]), f.constant('beta', [3]), f.constant('mean', [3]), f.positive('variance', [3])];
  const convAttr = conv([1, 2, 2, 1], 'EXPLICIT', [0, 0, 1, 1, 2, 0, 0, 0]);
  if (oracle) {
    f.node('conv', 'Conv2D', ['x', filter], convAttr);
    f.node('bn', 'FusedBatchNormV3', ['conv', ...bn], { epsilon: a.f(1e-3), data_format: a.s('NHWC'), is_training: a.b(false) });
    f.node('c1', 'Relu', ['bn']);
  } else {
    f.node('c1', '_FusedConv2D', ['x', filter, ...bn], { ...convAttr, fused_ops: a.strs(['FusedBatchNorm', 'Relu']), num_args: { i: '4' }, epsilon: a.f(1e-3) });
  }
  f.node('dwf', 'FusedDepthwiseConv2dNative', ['c1', f.constant('df', [2, 2, 3, 2]), f.constant('db', [6])], { ...conv(), fused_ops: a.strs(['BiasAdd', 'Relu6']), num_args: { i: '1' } });
  f.node('m', 'Mean', ['dwf', f.constant('axes', [2], [-3, -2], 'int32')], { keep_dims: a.b(false) });
  const matmul = { transpose_a: a.b(false), transpose_b: a.b(true), num_args: { i: '1' }, epsilon: a.f(0) };
  const [w, b] = [f.constant('w', [4, 6]), f.constant('b', [4])];
  if (oracle) {
    f.node('fm/linear', '_FusedMatMul', ['m', w, b], { ...matmul, fused_ops: a.strs(['BiasAdd']) });
    f.node('fm', 'Sigmoid', ['fm/linear']);
  } else {
    f.node('fm', '_FusedMatMul', ['m', w, b], { ...matmul, fused_ops: a.strs(['BiasAdd', 'Sigmoid']) });
  }
  return f;
}

const i32 = { T: { type: 'DT_INT32' } };
const sliceAttr = (shrink = 0, extra: Attr = {}) => ({ ...i32, Index: { type: 'DT_INT32' }, begin_mask: { i: '0' }, end_mask: { i: '0' }, ellipsis_mask: { i: '0' }, new_axis_mask: { i: '0' }, shrink_axis_mask: { i: String(shrink) }, ...extra });

/**
 * Keras Flatten as TF2 exports it: conv [N,4,4,3] -> Shape -> StridedSlice (the batch, shrunk to a
 * scalar) -> Pack([batch, -1]) -> Reshape -> MatMul -> Softmax. The batch is -1 at load time.
 */
function flattenChainFixture(random: () => number): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 6, 6, 2]));
  f.node('conv', 'Conv2D', ['x', f.constant('k', [3, 3, 2, 3])], conv());
  f.node('relu', 'Relu', ['conv']);
  f.node('flatten/Shape', 'Shape', ['relu'], { out_type: { type: 'DT_INT32' } });
  f.node('flatten/strided_slice', 'StridedSlice', ['flatten/Shape', f.constant('b0', [1], [0], 'int32'), f.constant('e1', [1], [1], 'int32'), f.constant('s1', [1], [1], 'int32')], sliceAttr(1));
  f.node('flatten/Reshape/shape', 'Pack', ['flatten/strided_slice', f.constant('minus1', [], [-1], 'int32')], { ...i32, N: { i: '2' }, axis: { i: '0' } });
  f.node('flatten/Reshape', 'Reshape', ['relu', 'flatten/Reshape/shape']);
  f.node('dense', 'MatMul', ['flatten/Reshape', f.constant('w', [48, 4])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  f.node('out', 'Softmax', ['dense']);
  return f;
}

/**
 * Shapes computed with every folded op: conv [N,4,4,3]; Shape -> StridedSlice [1:3] (h, w) and
 * [3] (c) -> Cast float -> Prod -> Cast int -> FloorDiv 2 -> Pack with Mul(c, 2) ->
 * Reshape [-1, 8, 6]; then Shape -> Slice (batch, unknown) ConcatV2 [48] -> Reshape [-1, 48]
 * (the batch entry of a computed target stays -1); a Pad whose paddings are Fill/ConcatV2/
 * ExpandDims/Reshape of constants; Mean over Range(1, 3); two heads added.
 */
function computedShapeFixture(random: () => number): Fixture {
  const f = new Fixture(random);
  const int = (name: string, values: number[], shape = [values.length]) => f.constant(name, shape, values, 'int32');
  f.nodes.push(placeholder('x', [-1, 6, 6, 2]));
  f.node('conv', 'Conv2D', ['x', f.constant('k', [3, 3, 2, 3])], conv());
  f.node('shape', 'Shape', ['conv'], { out_type: { type: 'DT_INT32' } });
  f.node('hw', 'StridedSlice', ['shape', int('b1', [1]), int('e3', [3]), int('one', [1])], sliceAttr());
  f.node('c', 'StridedSlice', ['shape', int('m1', [-1]), int('e0', [0]), int('one_b', [1])], sliceAttr(1, { end_mask: { i: '1' } }));
  f.node('hw_float', 'Cast', ['hw'], { SrcT: { type: 'DT_INT32' }, DstT: { type: 'DT_FLOAT' }, Truncate: a.b(false) });
  f.node('positions_float', 'Prod', ['hw_float', int('axis0', [0])], { keep_dims: a.b(false), T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } });
  f.node('positions', 'Cast', ['positions_float'], { SrcT: { type: 'DT_FLOAT' }, DstT: { type: 'DT_INT32' }, Truncate: a.b(false) });
  f.node('half', 'FloorDiv', ['positions', int('two', [2], [])], i32);
  f.node('twice_c', 'Mul', ['c', int('two_b', [2], [])], i32);
  f.node('target', 'Pack', [int('batch', [-1], []), 'half', 'twice_c'], { ...i32, N: { i: '3' }, axis: { i: '0' } });
  f.node('pairs', 'Reshape', ['conv', 'target'], { ...i32, Tshape: { type: 'DT_INT32' } });
  f.node('pairs_shape', 'Shape', ['pairs'], { out_type: { type: 'DT_INT32' } });
  f.node('batch_of_pairs', 'Slice', ['pairs_shape', int('s0', [0]), int('n1', [1])], { ...i32, Index: { type: 'DT_INT32' } });
  f.node('flat_shape', 'ConcatV2', ['batch_of_pairs', int('c48', [48]), int('axis_0', [0], [])], { ...i32, N: { i: '2' }, Tidx: { type: 'DT_INT32' } });
  f.node('flat', 'Reshape', ['pairs', 'flat_shape']);
  f.node('head1', 'MatMul', ['flat', f.constant('w1', [48, 5])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  // paddings [[0, 0], [1, 1], [2, 2], [0, 0]] built from constants
  f.node('zeros', 'Fill', [int('two_shape', [2]), int('zero', [0], [])], { ...i32, index_type: { type: 'DT_INT32' } });
  f.node('hw_pads', 'ConcatV2', [int('p1', [1, 1]), int('p2', [2, 2]), int('axis_00', [0], [])], { ...i32, N: { i: '2' }, Tidx: { type: 'DT_INT32' } });
  f.node('all_pads', 'ConcatV2', ['zeros', 'hw_pads', 'zeros', int('axis_000', [0], [])], { ...i32, N: { i: '3' }, Tidx: { type: 'DT_INT32' } });
  f.node('pads_row', 'ExpandDims', ['all_pads', int('axis_e', [0], [])], { ...i32, Tdim: { type: 'DT_INT32' } });
  f.node('pads', 'Reshape', ['pads_row', int('four_two', [4, 2])]);
  f.node('padded', 'Pad', ['conv', 'pads'], { T: { type: 'DT_FLOAT' }, Tpaddings: { type: 'DT_INT32' } });
  f.node('axes', 'Range', [int('r1', [1], []), int('r3', [3], []), int('r_step', [1], [])], { Tidx: { type: 'DT_INT32' } });
  f.node('mean', 'Mean', ['padded', 'axes'], { keep_dims: a.b(false), Tidx: { type: 'DT_INT32' } });
  f.node('head2', 'MatMul', ['mean', f.constant('w2', [3, 5])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  f.node('out', 'AddV2', ['head1', 'head2']);
  return f;
}

/**
 * ops-elementwise: every unary op. Conv2D + BiasAdd + Maximum(0) + Minimum(6) (a converted ReLU6,
 * folded into the conv); _FusedConv2D [BiasAdd, Prelu]; Maximum(-0.5) + Minimum(1.5) (clip_by_value);
 * FusedDepthwiseConv2dNative [BiasAdd, Elu]; a chain LeakyRelu, Elu, Selu, Softplus, Neg, Abs,
 * Square, Sqrt, AddV2 0.5, Log, Exp, Rsqrt, Reciprocal, Erf, Prelu [1, 1, C], Minimum(const vector first) and
 * Maximum(const [1, 1, 1, C]) (one channelClip); _FusedConv2D
 * [BiasAdd, LeakyRelu] and [BiasAdd, Tanh]; Mean, MatMul. `oracle` spells the fused convolutions as
 * separate nodes (TF.js's gradients need them so, and its fused kernels lack Tanh).
 */
function elementwiseFixture(random: () => number, oracle: boolean): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 6, 5, 2]));
  const fused = (name: string, op: string, input: string, filter: string, args: string[], fusedOps: string[], attr: Attr = {}) => {
    if (!oracle) return f.node(name, `_Fused${op}`.replace('_FusedDepthwiseConv2dNative', 'FusedDepthwiseConv2dNative'), [input, filter, ...args], { ...conv(), fused_ops: a.strs(fusedOps), num_args: { i: String(args.length) }, ...attr });
    f.node(`${name}/conv`, op, [input, filter], conv());
    f.node(`${name}/bias`, 'BiasAdd', [`${name}/conv`, args[0]], { data_format: a.s('NHWC') });
    const act = fusedOps[1];
    const actAttr = act === 'LeakyRelu' ? { alpha: attr.leakyrelu_alpha } : {};
    return f.node(name, act, act === 'Prelu' ? [`${name}/bias`, args[1]] : [`${name}/bias`], actAttr);
  };
  f.node('conv', 'Conv2D', ['x', f.constant('k1', [3, 3, 2, 4])], { ...conv(), padding: a.s('SAME') });
  f.node('bias', 'BiasAdd', ['conv', f.constant('b1', [4])], { data_format: a.s('NHWC') });
  f.node('relu_lo', 'Maximum', ['bias', f.constant('zero', [], [0])]);
  f.node('relu_hi', 'Minimum', ['relu_lo', f.constant('six', [], [6])]);
  fused('fp', 'Conv2D', 'relu_hi', f.constant('k2', [1, 1, 4, 4]), [f.constant('b2', [4]), f.constant('alpha1', [4])], ['BiasAdd', 'Prelu']);
  f.node('mx', 'Maximum', ['fp', f.constant('lo', [1], [-0.5])]);
  f.node('clip', 'Minimum', ['mx', f.constant('hi', [1, 1, 1, 1], [1.5])]);
  fused('dwe', 'DepthwiseConv2dNative', 'clip', f.constant('dk', [3, 3, 4, 1]), [f.constant('db', [4])], ['BiasAdd', 'Elu']);
  f.node('lr', 'LeakyRelu', ['dwe'], { alpha: a.f(0.3) });
  f.node('elu', 'Elu', ['lr']);
  f.node('selu', 'Selu', ['elu']);
  f.node('softplus', 'Softplus', ['selu']);
  f.node('neg', 'Neg', ['softplus']);
  f.node('abs', 'Abs', ['neg']);
  f.node('square', 'Square', ['abs']);
  f.node('sqrt', 'Sqrt', ['square']);
  f.node('shift', 'AddV2', ['sqrt', f.constant('half', [], [0.5])]);
  f.node('log', 'Log', ['shift']);
  f.node('exp', 'Exp', ['log']);
  f.node('rsqrt', 'Rsqrt', ['exp']);
  f.node('recip', 'Reciprocal', ['rsqrt']);
  f.node('erf', 'Erf', ['recip']);
  f.node('prelu', 'Prelu', ['erf', f.constant('alpha2', [1, 1, 4])]);
  f.node('cap', 'Minimum', [f.constant('cap_value', [4], [1.2, 0.9, 1.5, 1.1]), 'prelu']);
  f.node('floor', 'Maximum', ['cap', f.constant('floor_value', [1, 1, 1, 4], [-0.3, 0.1, -0.2, 0])]);
  fused('fl', 'Conv2D', 'floor', f.constant('k3', [1, 1, 4, 3]), [f.constant('b3', [3])], ['BiasAdd', 'LeakyRelu'], { leakyrelu_alpha: a.f(0.1) });
  fused('ft', 'Conv2D', 'fl', f.constant('k4', [1, 1, 3, 3]), [f.constant('b4', [3])], ['BiasAdd', 'Tanh']);
  f.node('mean', 'Mean', ['ft', f.constant('axes', [2], [1, 2], 'int32')], { keep_dims: a.b(false) });
  f.node('logits', 'MatMul', ['mean', f.constant('w', [3, 4])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  return f;
}

/**
 * ops-binary: multi-input ops of computed tensors. ConcatV2 of three branches on channels,
 * squeeze-and-excitation (Mean keep_dims -> Sigmoid -> broadcast Mul), swish x * sigmoid(x), hard
 * swish, Maximum, Minimum, Sub, RealDiv of two computed tensors, AddN of three, ConcatV2 on height.
 */
function multiInputFixture(random: () => number): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 6, 5, 3]));
  f.node('c1', 'Conv2D', ['x', f.constant('k1', [1, 1, 3, 4])], conv());
  f.node('r1', 'Relu', ['c1']);
  f.node('c2', 'Conv2D', ['x', f.constant('k2', [3, 3, 3, 2])], conv([1, 1, 1, 1], 'SAME'));
  f.node('cat', 'ConcatV2', ['r1', 'c2', 'x', f.constant('channel_axis', [], [-1], 'int32')], { N: { i: '3' } });
  f.node('squeeze', 'Mean', ['cat', f.constant('axes', [2], [1, 2], 'int32')], { keep_dims: a.b(true) });
  f.node('gate', 'Sigmoid', ['squeeze']);
  f.node('se', 'Mul', ['cat', 'gate']);
  f.node('se_sigmoid', 'Sigmoid', ['se']);
  f.node('swish', 'Mul', ['se', 'se_sigmoid']);
  f.node('c3', 'Conv2D', ['swish', f.constant('k3', [1, 1, 9, 9])], conv());
  // hard swish as converters emit it: x * (relu6(x + 3) * 1/6), a Mul of two computed tensors
  f.node('hs_add', 'AddV2', ['c3', f.constant('three', [], [3])]);
  f.node('hs_relu6', 'Relu6', ['hs_add']);
  f.node('hs_scale', 'Mul', ['hs_relu6', f.constant('sixth', [], [1 / 6])]);
  f.node('hard_swish', 'Mul', ['c3', 'hs_scale']);
  f.node('larger', 'Maximum', ['hard_swish', 'se']);
  f.node('smaller', 'Minimum', ['swish', 'c3']);
  f.node('difference', 'Sub', ['larger', 'smaller']);
  f.node('c3_sigmoid', 'Sigmoid', ['c3']);
  f.node('denominator', 'AddV2', ['c3_sigmoid', f.constant('half', [], [0.5])]);
  f.node('ratio', 'RealDiv', ['difference', 'denominator']);
  f.node('sum', 'AddN', ['ratio', 'larger', 'smaller'], { N: { i: '3' } });
  f.node('tall', 'ConcatV2', ['sum', 'swish', f.constant('height_axis', [], [1], 'int32')], { N: { i: '2' } });
  f.node('pooled', 'Mean', ['tall', f.constant('axes2', [2], [1, 2], 'int32')], { keep_dims: a.b(false) });
  f.node('logits', 'MatMul', ['pooled', f.constant('w', [9, 4])], { transpose_a: a.b(false), transpose_b: a.b(false) });
  f.node('probabilities', 'Softmax', ['logits']);
  return f;
}

/** x [-1, 6, 6, 2] -> `op` -> out, for the rejection table. */
function tinyFixture(build: (f: Fixture) => void, dims = [-1, 6, 6, 2]): ModelFiles {
  const f = new Fixture(seededRandom(7));
  f.nodes.push(placeholder('x', dims));
  build(f);
  return f.files('tiny.json');
}

const summary = (spec: ModelSpec) => spec.layers.map((l) => `${l.kind}:${l.name}`);
const layer = <K extends LayerSpec['kind']>(spec: ModelSpec, name: string, kind: K) => {
  const found = spec.layers.find((l) => l.name === name);
  expect(found?.kind, `layer ${name}`).toBe(kind);
  return found as Extract<LayerSpec, { kind: K }>;
};

async function rejection(files: ModelFiles): Promise<UnsupportedModelError> {
  const error = await loadGraphModel(files).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UnsupportedModelError);
  return error as UnsupportedModelError;
}

describe('loadGraphModel: reading graph-model JSON', () => {
  it('rejects an unsupported op (Conv3D) at load time, before reading weights, naming the node, the op and the supported ops', async () => {
    const json = {
      format: 'graph-model',
      modelTopology: { node: [placeholder('x', [-1, 4, 4, 4, 1]), { name: 'net/conv3d', op: 'Conv3D', input: ['x', 'k'] }, { name: 'k', op: 'Const' }] },
      weightsManifest: [{ paths: ['missing.bin'], weights: [{ name: 'k', shape: [1], dtype: 'float32' }] }],
    };
    const error = await rejection(filesFromMemory('conv3d.json', json, new Map()));
    expect(error.code).toBe('MODEL_UNSUPPORTED');
    expect(error.node).toBe('net/conv3d');
    expect(error.op).toBe('Conv3D');
    expect(error.message).toContain("node 'net/conv3d' has op 'Conv3D'");
    for (const op of ['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'Mean', 'AddV2', 'Pad']) expect(error.message).toContain(op);
    expect(GRAPH_MODEL_OPS).not.toContain('Conv3D');
  });

  it('decodes base64 attributes (padding, strides, fused_ops) of _FusedConv2D', async () => {
    const files = tinyFixture((f) => {
      f.node('out', '_FusedConv2D', ['x', f.constant('k', [3, 3, 2, 5]), f.constant('b', [5])], {
        ...conv([1, 2, 2, 1], 'SAME'), fused_ops: { list: { s: ['Qmlhc0FkZA==', 'UmVsdTY='] } }, num_args: { i: '1' },
      });
    });
    const spec = await loadGraphModel(files);
    expect(summary(spec)).toEqual(['input:x', 'conv2d:out']);
    const c = layer(spec, 'out', 'conv2d');
    expect([c.padding, c.activation, c.strides, c.dilations, c.bias?.shape]).toEqual(['same', 'relu6', [2, 2], [1, 1], [5]]);
    expect(spec.source).toBe('tiny.json (TF.js graph model)');
  });

  it('maps Mul/Add, Pad, Mean, Squeeze, BiasAdd and folds them into the layer that produces their input', async () => {
    const spec = await loadGraphModel(foldingFixture(seededRandom(1)).files('folding.json', foldingSignature));
    expect(summary(spec)).toEqual([
      'input:x', 'channelAffine:pre_add', 'zeroPad:pad', 'conv2d:relu', 'depthwiseConv2d:relu6', 'add:res',
      'maxPool:pool', 'avgPool:avg', 'globalAvgPool:mean', 'reshape:sq', 'dense:ba', 'softmax:out',
    ]);
    expect(spec.output).toBe('out');
    const affine = layer(spec, 'pre_add', 'channelAffine');
    expect(affine.inputs).toEqual(['x']);
    expect(layer(spec, 'pad', 'zeroPad')).toMatchObject({ top: 1, bottom: 2, left: 0, right: 1 });
    expect(layer(spec, 'relu', 'conv2d')).toMatchObject({ activation: 'relu', padding: 'valid', inputs: ['pad'] });
    expect(layer(spec, 'relu6', 'depthwiseConv2d')).toMatchObject({ activation: 'relu6', padding: 'same', inputs: ['relu'] });
    expect(layer(spec, 'res', 'add').inputs).toEqual(['relu6', 'relu']);
    expect(layer(spec, 'avg', 'avgPool')).toMatchObject({ poolSize: [3, 3], strides: [1, 1], padding: 'same' });
    expect(layer(spec, 'mean', 'globalAvgPool').keepDims).toBe(true);
    expect(layer(spec, 'sq', 'reshape').shape).toEqual([4]);
    expect(layer(spec, 'ba', 'dense').bias?.shape).toEqual([5]);
  });

  it('maps _FusedConv2D with FusedBatchNorm and EXPLICIT padding, fused depthwise, _FusedMatMul with transpose_b and a fused Sigmoid', async () => {
    const spec = await loadGraphModel(fusedFixture(seededRandom(2), false).files('fused.json'));
    expect(summary(spec)).toEqual(['input:x', 'zeroPad:c1/explicit_padding', 'conv2d:c1', 'depthwiseConv2d:dwf', 'globalAvgPool:m', 'dense:fm/linear', 'activation:fm']);
    expect(layer(spec, 'c1/explicit_padding', 'zeroPad')).toMatchObject({ top: 1, bottom: 1, left: 2, right: 0 });
    expect(layer(spec, 'c1', 'conv2d')).toMatchObject({ padding: 'valid', strides: [2, 2], activation: 'relu' });
    expect(layer(spec, 'fm/linear', 'dense').weights.shape).toEqual([6, 4]);
    expect(layer(spec, 'fm', 'activation').activation).toBe('sigmoid');
  });

  it('maps every unary op: Maximum/Minimum bounds merge into relu6 / clip, fused Prelu, LeakyRelu, Elu and Tanh follow a linear conv', async () => {
    const spec = await loadGraphModel(elementwiseFixture(seededRandom(3), false).files('elementwise.json'));
    expect(summary(spec)).toEqual([
      'input:x', 'conv2d:relu_hi', 'conv2d:fp/linear', 'prelu:fp', 'activation:clip', 'depthwiseConv2d:dwe/linear', 'activation:dwe',
      'activation:lr', 'activation:elu', 'activation:selu', 'activation:softplus', 'activation:neg', 'activation:abs', 'activation:square',
      'activation:sqrt', 'channelAffine:shift', 'activation:log', 'activation:exp', 'activation:rsqrt', 'activation:recip', 'activation:erf', 'prelu:prelu', 'channelClip:floor',
      'conv2d:fl/linear', 'activation:fl', 'conv2d:ft/linear', 'activation:ft', 'globalAvgPool:mean', 'dense:logits',
    ]);
    expect(layer(spec, 'relu_hi', 'conv2d')).toMatchObject({ activation: 'relu6', bias: { shape: [4] } });
    expect(layer(spec, 'fp', 'prelu')).toMatchObject({ alpha: { shape: [4] }, inputs: ['fp/linear'] });
    expect(layer(spec, 'clip', 'activation').activation).toEqual({ kind: 'clip', lo: -0.5, hi: 1.5 });
    expect(layer(spec, 'dwe', 'activation').activation).toEqual({ kind: 'elu', alpha: 1 });
    expect(layer(spec, 'lr', 'activation').activation).toEqual({ kind: 'leakyRelu', alpha: expect.closeTo(0.3, 7) });
    const floor = layer(spec, 'floor', 'channelClip');
    expect([...floor.lower.data].map((v) => Number(v.toFixed(6)))).toEqual([-0.3, 0.1, -0.2, 0]);
    expect([...floor.upper.data].map((v) => Number(v.toFixed(6)))).toEqual([1.2, 0.9, 1.5, 1.1]);
    expect(layer(spec, 'fl', 'activation').activation).toEqual({ kind: 'leakyRelu', alpha: expect.closeTo(0.1, 7) });
    expect(layer(spec, 'ft', 'activation').activation).toBe('tanh');
    const ops = ['LeakyRelu', 'Elu', 'Selu', 'Tanh', 'Softplus', 'Softsign', 'Abs', 'Neg', 'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Log', 'Erf', 'Reciprocal', 'Inv', 'Maximum', 'Minimum', 'Prelu'];
    for (const op of ops) expect(GRAPH_MODEL_OPS).toContain(op);
    const softsign = await loadGraphModel(tinyFixture((f) => f.node('out', 'Softsign', ['x'])));
    expect(layer(softsign, 'out', 'activation').activation).toBe('softsign');
    // Maximum(x, 0) alone is a ReLU (fused into a linear conv); a bound on a non-clip layer is its own clip
    const relu = await loadGraphModel(tinyFixture((f) => {
      f.node('c', 'Conv2D', ['x', f.constant('k', [1, 1, 2, 2])], conv());
      f.node('out', 'Maximum', [f.constant('z', [2], [0, 0]), 'c']);
    }));
    expect(summary(relu)).toEqual(['input:x', 'conv2d:out']);
    expect(layer(relu, 'out', 'conv2d').activation).toBe('relu');
    // a scalar clip after a per-channel one merges into it; equal bounds per channel become a clip activation again
    const merged = await loadGraphModel(tinyFixture((f) => {
      f.node('lo', 'Maximum', ['x', f.constant('l', [2], [-1, 0])]);
      f.node('hi', 'Minimum', ['lo', f.constant('h', [], [3])]);
      f.node('out', 'Maximum', ['hi', f.constant('l2', [2], [-1, -1])]);
    }));
    expect(summary(merged)).toEqual(['input:x', 'channelClip:out']);
    expect([...layer(merged, 'out', 'channelClip').upper.data]).toEqual([3, 3]);
    const equal = await loadGraphModel(tinyFixture((f) => {
      f.node('lo', 'Maximum', ['x', f.constant('l', [2], [0, 0])]);
      f.node('out', 'Minimum', ['lo', f.constant('h', [1, 2], [6, 6])]);
    }));
    expect(summary(equal)).toEqual(['input:x', 'activation:out']);
    expect(layer(equal, 'out', 'activation').activation).toBe('relu6');
    // _FusedMatMul [BiasAdd, Prelu]: bias, then alpha as the extra inputs
    const dense = await loadGraphModel(tinyFixture((f) => {
      f.node('flat', 'Reshape', ['x', f.constant('s', [2], [-1, 72], 'int32')]);
      f.node('out', '_FusedMatMul', ['flat', f.constant('w', [72, 3]), f.constant('b', [3]), f.constant('alpha', [3], [0.1, 0.2, 0.3])], {
        transpose_a: a.b(false), transpose_b: a.b(false), fused_ops: a.strs(['BiasAdd', 'Prelu']), num_args: { i: '2' },
      });
    }));
    expect(summary(dense)).toEqual(['input:x', 'reshape:flat', 'dense:out/linear', 'prelu:out']);
    // a unary op of a constant is folded at load time: Prelu(x, Neg(c)) has alpha -c
    const negated = await loadGraphModel(tinyFixture((f) => {
      f.node('minus_alpha', 'Neg', [f.constant('alpha', [2], [0.25, -0.5])]);
      f.node('out', 'Prelu', ['x', 'minus_alpha']);
    }));
    expect(summary(negated)).toEqual(['input:x', 'prelu:out']);
    expect([...layer(negated, 'out', 'prelu').alpha.data]).toEqual([-0.25, 0.5]);
    expect([...layer(dense, 'out', 'prelu').alpha.data].map((v) => Number(v.toFixed(6)))).toEqual([0.1, 0.2, 0.3]);
    expect(layer(dense, 'out/linear', 'dense').bias?.shape).toEqual([3]);
  });

  const rejections: [string, (f: Fixture) => void, RegExp][] = [
    ['NCHW data_format', (f) => f.node('out', 'Conv2D', ['x', f.constant('k', [1, 1, 2, 2])], { ...conv(), data_format: a.s('NCHW') }), /data_format 'NCHW'/],
    ['a stride over the batch axis', (f) => f.node('out', 'Conv2D', ['x', f.constant('k', [1, 1, 2, 2])], conv([2, 1, 1, 1])), /batch or channel axis/],
    ['a pooling window over channels', (f) => f.node('out', 'MaxPool', ['x'], { ...pool(2, 2, 'VALID'), ksize: a.ints([1, 2, 2, 2]) }), /batch or channel axis/],
    ['EXPLICIT padding on MaxPool', (f) => f.node('out', 'MaxPool', ['x'], pool(2, 2, 'EXPLICIT')), /padding 'EXPLICIT'/],
    ['fused Softplus', (f) => f.node('out', '_FusedConv2D', ['x', f.constant('k', [1, 1, 2, 2]), f.constant('b', [2])], { ...conv(), fused_ops: a.strs(['BiasAdd', 'Softplus']), num_args: { i: '1' } }), /fused_ops \[BiasAdd, Softplus\] are not supported .*LeakyRelu\|Prelu/],
    ['a clip bound that varies over space', (f) => f.node('out', 'Minimum', ['x', f.constant('hi', [6, 6, 2])]), /per channel/],
    ['a Prelu alpha over the wrong axes', (f) => f.node('out', 'Prelu', ['x', f.constant('alpha', [6, 1, 2])]), /alpha \[6, 1, 2\] does not match the trailing axes/],
    ['Mean over axes that are not adjacent', (f) => f.node('out', 'Mean', ['x', f.constant('axes', [2], [1, 3], 'int32')]), /axes \[1, 3\] must be one or more adjacent axes/],
    ['padding the batch axis', (f) => f.node('out', 'Pad', ['x', f.constant('p', [4, 2], [1, 0, 1, 1, 1, 1, 0, 1], 'int32')]), /pads the batch axis/],
    // ops-binary
    ['Mul of computed tensors that do not broadcast', (f) => {
      f.node('c', 'Conv2D', ['x', f.constant('k', [1, 1, 2, 3])], conv());
      f.node('out', 'Mul', ['x', 'c']);
    }, /Mul: shapes \[1, 6, 6, 2\] and \[1, 6, 6, 3\] do not broadcast/],
    ['Mul of computed tensors of two ranks', (f) => {
      f.node('m', 'Mean', ['x', f.constant('axes', [2], [1, 2], 'int32')]);
      f.node('out', 'Mul', ['x', 'm']);
    }, /must have one rank/],
    ['BiasAdd of two computed tensors', (f) => f.node('out', 'BiasAdd', ['x', 'x']), /BiasAdd of two computed tensors is not supported \(supported: Add, AddV2, Sub, Mul, RealDiv, Maximum, Minimum\)/],
    ['ConcatV2 on the batch axis', (f) => f.node('out', 'ConcatV2', ['x', 'x', f.constant('axis', [], [0], 'int32')]), /axis 0 is not supported on rank 4/],
    ['ConcatV2 of mismatched heights', (f) => {
      f.node('p', 'MaxPool', ['x'], pool(2, 2, 'VALID'));
      f.node('out', 'ConcatV2', ['x', 'p', f.constant('axis', [], [3], 'int32')]);
    }, /must agree on every other axis/],
    ['a spatially varying constant', (f) => f.node('out', 'AddV2', ['x', f.constant('c', [6, 6, 2])]), /per channel/],
    ['transpose_a', (f) => {
      f.node('flat', 'Reshape', ['x', f.constant('s', [2], [-1, 72], 'int32')]);
      f.node('out', 'MatMul', ['flat', f.constant('w', [72, 3])], { transpose_a: a.b(true), transpose_b: a.b(false) });
    }, /transpose_a/],
    ['a reshape that moves the batch', (f) => f.node('out', 'Reshape', ['x', f.constant('s', [2], [2, -1], 'int32')]), /batch first/],
    ["reading output 1 of a node", (f) => f.node('out', 'Relu', ['x:1']), /output 1 of 'x'/],
  ];
  it.each(rejections)('rejects %s with UnsupportedModelError naming the node', async (_label, build, pattern) => {
    const error = await rejection(tinyFixture(build));
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain("'out'");
  });

  it('maps ConcatV2, AddN and Mul/Sub/RealDiv/Maximum/Minimum of two computed tensors (ops-binary)', async () => {
    const spec = await loadGraphModel(multiInputFixture(seededRandom(3)).files('multi.json'));
    expect(layer(spec, 'cat', 'concat')).toMatchObject({ axis: 3, inputs: ['r1', 'c2', 'x'] });
    expect(layer(spec, 'se', 'binary')).toMatchObject({ op: 'mul', inputs: ['cat', 'gate'] });
    expect(layer(spec, 'swish', 'binary')).toMatchObject({ op: 'mul', inputs: ['se', 'se_sigmoid'] });
    expect(layer(spec, 'hard_swish', 'binary')).toMatchObject({ op: 'mul', inputs: ['c3', 'hs_scale'] });
    expect(layer(spec, 'larger', 'binary')).toMatchObject({ op: 'maximum', inputs: ['hard_swish', 'se'] });
    expect(layer(spec, 'smaller', 'binary')).toMatchObject({ op: 'minimum', inputs: ['swish', 'c3'] });
    expect(layer(spec, 'difference', 'binary').op).toBe('sub');
    expect(layer(spec, 'ratio', 'binary')).toMatchObject({ op: 'div', inputs: ['difference', 'denominator'] });
    expect(layer(spec, 'sum/partial1', 'add').inputs).toEqual(['ratio', 'larger']);
    expect(layer(spec, 'sum', 'add').inputs).toEqual(['sum/partial1', 'smaller']);
    expect(layer(spec, 'tall', 'concat')).toMatchObject({ axis: 1, inputs: ['sum', 'swish'] });
  });

  it('maps Concat (axis first) on height, and AddN / ConcatV2 of one tensor to no layer (ops-binary)', async () => {
    const spec = await loadGraphModel(tinyFixture((f) => {
      f.node('one', 'AddN', ['x']);
      f.node('same', 'ConcatV2', ['one', f.constant('axis', [], [-1], 'int32')], { N: { i: '1' } });
      f.node('out', 'Concat', [f.constant('concat_dim', [], [1], 'int32'), 'same', 'x'], { N: { i: '2' } });
    }));
    expect(summary(spec)).toEqual(['input:x', 'concat:out']);
    expect(layer(spec, 'out', 'concat')).toMatchObject({ axis: 1, inputs: ['x', 'x'] });
  });

  it('rejects an input without a fixed image shape, and a Layers model.json', async () => {
    const error = await rejection(tinyFixture((f) => f.node('out', 'Relu', ['x']), [-1, -1, -1, 3]));
    expect(error.message).toMatch(/fixed NHWC image/);
    const layers = filesFromMemory('layers.json', { format: 'layers-model', modelTopology: {} }, new Map());
    await expect(loadGraphModel(layers)).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('folds Shape -> StridedSlice -> Pack -> Reshape (Keras Flatten, batch -1) into a reshape [48]', async () => {
    const spec = await loadGraphModel(flattenChainFixture(seededRandom(3)).files('flatten chain.json'));
    expect(summary(spec)).toEqual(['input:x', 'conv2d:relu', 'reshape:flatten/Reshape', 'dense:dense', 'softmax:out']);
    expect(layer(spec, 'flatten/Reshape', 'reshape').shape).toEqual([48]);
    // Shape reads no value: the Relu still folds into the convolution
    expect(layer(spec, 'relu', 'conv2d').activation).toBe('relu');
  });

  it('folds Cast, Prod, FloorDiv, Mul, Pack, Slice, ConcatV2, Fill, ExpandDims, Reshape, Range chains into constants', async () => {
    const spec = await loadGraphModel(computedShapeFixture(seededRandom(4)).files('computed.json'));
    expect(summary(spec)).toEqual(['input:x', 'conv2d:conv', 'reshape:pairs', 'reshape:flat', 'dense:head1', 'zeroPad:padded', 'globalAvgPool:mean', 'dense:head2', 'add:out']);
    expect(layer(spec, 'pairs', 'reshape').shape).toEqual([8, 6]);
    expect(layer(spec, 'flat', 'reshape').shape).toEqual([48]);
    expect(layer(spec, 'padded', 'zeroPad')).toMatchObject({ top: 1, bottom: 1, left: 2, right: 2 });
  });

  it("Conv2DBackpropInput's input_sizes packed from Shape(x)[0] (Keras Conv2DTranspose): the unknown batch entry is ignored", async () => {
    const spec = await loadGraphModel(tinyFixture((f) => {
      f.node('shape', 'Shape', ['x'], { out_type: { type: 'DT_INT32' } });
      f.node('batch', 'StridedSlice', ['shape', f.constant('b0', [1], [0], 'int32'), f.constant('e1', [1], [1], 'int32'), f.constant('s1', [1], [1], 'int32')], sliceAttr(1));
      f.node('sizes', 'Pack', ['batch', f.constant('h', [], [12], 'int32'), f.constant('w', [], [12], 'int32'), f.constant('c', [], [3], 'int32')], { ...i32, N: { i: '4' }, axis: { i: '0' } });
      f.node('out', 'Conv2DBackpropInput', ['sizes', f.constant('k', [3, 3, 3, 2]), 'x'], conv([1, 2, 2, 1], 'SAME'));
    }));
    expect(spec.layers.find((l) => l.name === 'out')).toMatchObject({ kind: 'conv2dTranspose', outputSize: [12, 12] });
  });

  it('refuses a folded value that depends on the batch size, and a folded op on activations, naming the node', async () => {
    const batchPads = await rejection(tinyFixture((f) => {
      f.node('shape', 'Shape', ['x'], { out_type: { type: 'DT_INT32' } });
      f.node('pads', 'Reshape', ['shape', f.constant('s', [2], [2, 2], 'int32')]);
      f.node('p', 'Pad', ['x', 'pads']);
      f.node('out', 'Relu', ['p']);
    }));
    expect(batchPads.message).toMatch(/node 'p' \(Pad\): input 'pads' \[NaN, 6, 6, 2\] depends on the batch size/);
    const castOfActivation = await rejection(tinyFixture((f) => {
      f.node('c', 'Cast', ['x'], { DstT: { type: 'DT_INT32' } });
      f.node('out', 'Relu', ['c']);
    }));
    expect(castOfActivation.message).toMatch(/node 'c' \(Cast\): Cast is supported only where its value is known at load time/);
    expect(castOfActivation.op).toBe('Cast');
  });

  it('loadModelSpec passes { output } to the graph loader: several sinks are refused, a named one loads', async () => {
    const files = foldingFixture(seededRandom(1)).files('two sinks.json');
    await expect(loadModelSpec(files)).rejects.toThrow(/2 nodes are read by no other \(Identity, dead\); pass \{ output \} \(CLI: --output NODE\)/);
    expect((await loadModelSpec(files, { output: 'Identity:0' })).output).toBe('out');
    expect((await loadModelSpec(files, { output: 'pool' })).layers.map((l) => l.name).slice(-1)).toEqual(['pool']);
    // a signature key names its node
    expect((await loadModelSpec(foldingFixture(seededRandom(1)).files('keyed.json', foldingSignature), { output: 'probs' })).output).toBe('out');
  });

  it('loads antispoof.json (float16 weights) and emotion.json into the IR', async () => {
    const antispoof = await loadGraphModel(filesFromPath(`${HUMAN_MODELS}/antispoof.json`));
    expect(antispoof.layers.map((l) => l.kind)).toEqual(['input', 'conv2d', 'maxPool', 'activation', 'conv2d', 'maxPool', 'activation', 'conv2d', 'maxPool', 'activation', 'reshape', 'dense', 'dense', 'activation']);
    expect(antispoof.output).toBe('StatefulPartitionedCall/sequential/activation_4/Sigmoid');
    const emotion = await loadGraphModel(filesFromPath(`${HUMAN_MODELS}/emotion.json`));
    const kinds = emotion.layers.map((l) => l.kind);
    expect(kinds.filter((k) => k === 'depthwiseConv2d')).toHaveLength(4);
    expect(kinds.filter((k) => k === 'add')).toHaveLength(2);
    expect(kinds.slice(-2)).toEqual(['globalAvgPool', 'softmax']);
  });
});

// ---- agreement with TF.js

interface Agreement {
  logits: number;
  output: number;
  gradient?: number;
}

interface Oracle {
  /** The model as TF.js runs it. */
  forward: TfjsModel;
  /** The same values with fused nodes split (fast tf.grad); undefined: no gradient check. */
  gradient?: TfjsModel;
}

async function oracleFor(files: ModelFiles, gradient = true): Promise<Oracle> {
  return { forward: await loadTfjsGraphModel(files), gradient: gradient ? await loadTfjsGraphModel(files, true) : undefined };
}

/**
 * Runs x through the engine and TF.js, compares the logits node and the output, and the gradient
 * of each item's top logit with respect to the input.
 */
async function agreement(rt: Runtime, model: Model, oracle: Oracle, x: HostTensor): Promise<Agreement> {
  const [expectedLogits, expectedOutput] = await tfjsRun(oracle.forward, x, [model.logitsName, undefined]);
  const seed = topClassSeed(expectedLogits);
  const expectedGradient = oracle.gradient && (await tfjsInputGradient(oracle.gradient, x, model.logitsName, seed));

  const input = rt.upload(x.shape, x.data, 'input');
  const pass = model.forward(input, { forBackward: true, keep: [model.logitsName] });
  const logits = await rt.read(pass.value(model.logitsName));
  const output = await rt.read(pass.value(model.outputName));
  const { gradients } = model.backward(pass, new Map([[model.logitsName, rt.upload(seed.shape, seed.data, 'seed')]]));
  const gradient = gradients.get('input')!;
  expect(gradient.shape).toEqual(x.shape);
  const gradientValues = await rt.read(gradient);
  gradient.dispose();
  pass.dispose();
  input.dispose();
  expect(gradientValues.some((v) => v !== 0), 'the input gradient is not all zeros').toBe(true);
  return {
    logits: relativeL2(logits, expectedLogits.data),
    output: relativeL2(output, expectedOutput.data),
    gradient: expectedGradient && relativeL2(gradientValues, expectedGradient.data),
  };
}

/**
 * Input gradients of two float32 implementations usually agree to ~2e-7 here, but where a random
 * input puts a ReLU or max-pool decision on its kink in one implementation's rounding and not in
 * the other's, that unit's gradient path flips: antispoof's random inputs gave 6e-4 and 2e-3 for
 * 2 seeds in 6 (logits still at 2e-7). Wrong layouts, weights or ops differ by 1e-1 and more.
 */
const GRADIENT_TOLERANCE = 1e-2;

function report(label: string, result: Agreement, seed?: number): void {
  const gradient = result.gradient === undefined ? '' : ` input-gradient ${result.gradient.toExponential(2)}`;
  console.log(`[agreement] ${label}: relative L2 logits ${result.logits.toExponential(2)} output ${result.output.toExponential(2)}${gradient}${seed === undefined ? '' : ` (seed ${seed})`}`);
  expect(result.logits, `${label}: logits`).toBeLessThanOrEqual(1e-4);
  expect(result.output, `${label}: output`).toBeLessThanOrEqual(1e-4);
  if (result.gradient !== undefined) expect(result.gradient, `${label}: input gradient`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
}

function randomImage(shape: number[], random: () => number): HostTensor {
  return { shape, data: Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => random()) };
}

describeGpu('loadGraphModel: the engine agrees with TF.js (cpu backend)', () => {
  let rt: Runtime;
  beforeAll(() => {
    rt = testRuntime();
  });

  // TF.js's CPU AvgPoolGrad divides every window by kh * kw, also where SAME padding makes its
  // forward divide by fewer cells (tfjs-backend-cpu kernels/AvgPoolGrad.ts): with SAME padding
  // only the forward pass is compared; the engine follows TensorFlow's AvgPoolGrad.
  it.each(['SAME', 'VALID'] as const)('folding fixture x=[2,8,8,3] AvgPool %s', async (avgPadding) => {
    const seed = freshSeed();
    const files = foldingFixture(seededRandom(seed), avgPadding).files('folding.json', foldingSignature);
    const model = Model.create(rt, await loadGraphModel(files));
    const oracle = await oracleFor(files, avgPadding === 'VALID');
    report(`folding fixture [2,8,8,3] AvgPool ${avgPadding}`, await agreement(rt, model, oracle, randomImage([2, 8, 8, 3], seededRandom(seed + 1))), seed);
    model.dispose();
  });

  it.each([
    ['Keras Flatten chain (Shape, StridedSlice, Pack) x=[2,6,6,2]', flattenChainFixture],
    ['computed shapes (Cast, Prod, FloorDiv, Slice, ConcatV2, Fill, ExpandDims, Range) x=[2,6,6,2]', computedShapeFixture],
  ] as const)('folded constants: %s', async (label, fixture) => {
    const seed = freshSeed();
    const files = fixture(seededRandom(seed)).files(`${label}.json`);
    const model = Model.create(rt, await loadGraphModel(files));
    report(label, await agreement(rt, model, await oracleFor(files), randomImage([2, 6, 6, 2], seededRandom(seed + 1))), seed);
    model.dispose();
  });

  it('fused fixture x=[2,7,7,2] (FusedBatchNorm, EXPLICIT padding, transpose_b, fused Sigmoid) vs the same graph unfused', async () => {
    const seed = freshSeed();
    const model = Model.create(rt, await loadGraphModel(fusedFixture(seededRandom(seed), false).files('fused.json')));
    expect(model.logitsName).toBe('fm/linear');
    const oracle = await oracleFor(fusedFixture(seededRandom(seed), true).files('fused-oracle.json'));
    report('fused fixture [2,7,7,2]', await agreement(rt, model, oracle, randomImage([2, 7, 7, 2], seededRandom(seed + 1))), seed);
    model.dispose();
  });

  it('elementwise fixture x=[2,6,5,2] (every unary op, clip_by_value, fused Prelu/LeakyRelu/Elu/Tanh) vs the same graph unfused', async () => {
    const seed = freshSeed();
    const files = elementwiseFixture(seededRandom(seed), false).files('elementwise.json');
    const model = Model.create(rt, await loadGraphModel(files));
    const oracle = { forward: await loadTfjsGraphModel(elementwiseFixture(seededRandom(seed), true).files('elementwise-oracle.json')) };
    const oracleGradient = { ...oracle, gradient: oracle.forward };
    const x = randomImage([2, 6, 5, 2], seededRandom(seed + 1));
    const result = await agreement(rt, model, oracleGradient, x);
    console.log(`[agreement] elementwise fixture: relative L2 logits ${result.logits.toExponential(2)} output ${result.output.toExponential(2)} input-gradient ${result.gradient!.toExponential(2)} (seed ${seed})`);
    expect(result.logits).toBeLessThanOrEqual(1e-5);
    expect(result.gradient).toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  // (tfjs-converter's op list reads leakyrelu_alpha for _FusedConv2D only, so its fused depthwise
  // LeakyRelu multiplies by undefined and gives NaN: the fixture fuses LeakyRelu into a _FusedConv2D)
  it('elementwise fixture x=[1,6,5,2]: TF.js runs the fused Prelu/LeakyRelu/Elu nodes as the engine reads them', async () => {
    const seed = freshSeed();
    const f = elementwiseFixture(seededRandom(seed), false);
    // TF.js's fused kernels have no Tanh: end the graph before 'ft'
    f.nodes.splice(f.nodes.findIndex((n) => n.name === 'ft'));
    const files = f.files('elementwise-fused.json', { signature: { outputs: { out: { name: 'fl:0' } } } });
    const model = Model.create(rt, await loadGraphModel(files));
    const x = randomImage([1, 6, 5, 2], seededRandom(seed + 1));
    const [expected] = await tfjsRun(await loadTfjsGraphModel(files), x);
    const input = rt.upload(x.shape, x.data, 'input');
    const actual = await rt.read(model.forward(input).value(model.outputName));
    const error = relativeL2(actual, expected.data);
    console.log(`[agreement] elementwise fused fixture: relative L2 output ${error.toExponential(2)} (seed ${seed})`);
    expect(error).toBeLessThanOrEqual(1e-5);
    input.dispose();
    model.dispose();
  });

  it('multi-input fixture x=[2,6,5,3] (ConcatV2, AddN, broadcast Mul, swish, hard swish, Maximum, Minimum, Sub, RealDiv) at logits 1e-5, input gradients 1e-4', async () => {
    const seed = freshSeed();
    const files = multiInputFixture(seededRandom(seed)).files('multi.json');
    const model = Model.create(rt, await loadGraphModel(files));
    const result = await agreement(rt, model, await oracleFor(files), randomImage([2, 6, 5, 3], seededRandom(seed + 1)));
    report('multi-input fixture [2,6,5,3]', result, seed);
    expect(result.logits, 'logits').toBeLessThanOrEqual(1e-5);
    expect(result.gradient, 'input gradient').toBeLessThanOrEqual(1e-4);
    model.dispose();
  });

  describe('antispoof.json (128x128x3, float16 weights, ends in Sigmoid)', () => {
    let model: Model;
    let oracle: Oracle;
    beforeAll(async () => {
      const files = filesFromPath(`${HUMAN_MODELS}/antispoof.json`);
      model = Model.create(rt, await loadGraphModel(files));
      oracle = await oracleFor(files);
    });
    afterAll(() => model.dispose());

    it('random inputs x=[2,128,128,3]', async () => {
      expect(model.logitsName).toBe('StatefulPartitionedCall/sequential/dense_1/BiasAdd');
      const seed = freshSeed();
      report('antispoof random [2,128,128,3]', await agreement(rt, model, oracle, randomImage([2, 128, 128, 3], seededRandom(seed))), seed);
    });

    it('a photo (astronaut.png resized to [1,128,128,3], 0..1)', async () => {
      report('antispoof astronaut [1,128,128,3]', await agreement(rt, model, oracle, photoTensor(`${SKIMAGE_DATA}/astronaut.png`, 128, 128, 3)));
    });
  });

  // ops-elementwise: PReLU layers (alpha [1, 1, C]), several fused into _FusedConv2D [BiasAdd, Prelu]
  it('facemesh.json face-flag output (PReLU, fused Prelu, channel Pad) x=[1,192,192,3]', async () => {
    const files = filesFromPath(`${HUMAN_MODELS}/facemesh.json`);
    const model = Model.create(rt, await loadGraphModel(files, { output: 'output_faceflag' }));
    expect(model.spec.layers.filter((l) => l.kind === 'prelu')).toHaveLength(18); // of its 24, those on the face-flag path
    const seed = freshSeed();
    const x = randomImage([1, 192, 192, 3], seededRandom(seed));
    const [expectedLogits] = await tfjsRun(await loadTfjsGraphModel(files), x, [model.logitsName]);
    const expectedGradient = await tfjsInputGradient(await loadTfjsGraphModel(files, true), x, model.logitsName, { shape: expectedLogits.shape, data: new Float32Array(expectedLogits.data.length).fill(1) });
    const input = rt.upload(x.shape, x.data, 'input');
    const pass = model.forward(input, { forBackward: true, keep: [model.logitsName] });
    const logits = await rt.read(pass.value(model.logitsName));
    const { gradients } = model.backward(pass, new Map([[model.logitsName, rt.upload(expectedLogits.shape, new Float32Array(expectedLogits.data.length).fill(1), 'seed')]]));
    const gradient = await rt.read(gradients.get('input')!);
    pass.dispose();
    input.dispose();
    model.dispose();
    report('facemesh face flag random [1,192,192,3]', { logits: relativeL2(logits, expectedLogits.data), output: relativeL2(logits, expectedLogits.data), gradient: relativeL2(gradient, expectedGradient.data) }, seed);
  });

  it('emotion.json (64x64x1: depthwise, residual AddV2, Mean, Softmax) x=[1,64,64,1]', async () => {
    const files = filesFromPath(`${HUMAN_MODELS}/emotion.json`);
    const model = Model.create(rt, await loadGraphModel(files));
    const oracle = await oracleFor(files);
    const seed = freshSeed();
    report('emotion random [1,64,64,1]', await agreement(rt, model, oracle, randomImage([1, 64, 64, 1], seededRandom(seed))), seed);
    report('emotion astronaut [1,64,64,1]', await agreement(rt, model, oracle, photoTensor(`${SKIMAGE_DATA}/astronaut.png`, 64, 64, 1)));
    model.dispose();
  });
});
