/**
 * The graph-model loader's data-movement and reduction ops (Pad / PadV2 / MirrorPad on any axis,
 * Slice, StridedSlice with masks, Transpose NHWC <-> NCHW, DepthToSpace, ExpandDims, Max / Sum)
 * on hand-written graphs: the IR they load to, and the engine against TF.js (forward) and against
 * TF.js's gradient or, where TF.js has none (StridedSlice, DepthToSpace), the float64 reference
 * executor's.
 */
import { describe, expect, it } from 'vitest';
import { UnsupportedModelError, type ModelFiles } from '../../src/model/loaders/files.js';
import { loadGraphModel } from '../../src/model/loaders/graph_model.js';
import { INPUT, Model } from '../../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import { freshSeed } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { referenceBackward, referenceForward } from '../reference/model.js';
import { refTensor, seededRandom } from '../reference/tensor.js';
import { a, Fixture, placeholder } from './graph_fixture.js';
import { loadTfjsGraphModel, relativeL2, tfjsInputGradient, tfjsRun, topClassSeed, type HostTensor } from './tfjs_oracle.js';

const LOGITS_TOLERANCE = 1e-5;
const GRADIENT_TOLERANCE = 1e-4;

const int32 = (f: Fixture, name: string, values: number[], shape = [values.length]) => f.constant(name, shape, values, 'int32');
const conv = { strides: a.ints([1, 1, 1, 1]), padding: a.s('VALID'), data_format: a.s('NHWC'), dilations: a.ints([1, 1, 1, 1]) };
const int = (v: number) => ({ i: String(v) });

/**
 * x [-1, 6, 7, 3] -> Pad channels +1/+2 -> Conv2D 3x3 -> PadV2 (value 0.5) -> MirrorPad REFLECT
 * (H, W) -> MirrorPad SYMMETRIC (H, W, channels) -> Transpose to NCHW -> Slice (a crop in NCHW)
 * -> Transpose to NHWC -> Sum [1, 2]; conv -> Max [1, 2] keep_dims -> Squeeze; AddV2 of the two.
 * Max reads the conv output (no ties: TF.js gives every tied maximum the whole gradient, TF splits it).
 * Without `mirror` the two MirrorPads are left out, for tf.grad: TF.js's MirrorPad gradient only
 * crops dy (tfjs-core gradients/MirrorPad_grad.ts), where TF's MirrorPadGrad adds the mirrored
 * positions' gradients to the elements they copy.
 */
function padFixture(random: () => number, mirror = true): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 6, 7, 3]));
  f.node('pad_c', 'Pad', ['x', int32(f, 'pad_c/p', [0, 0, 0, 0, 0, 0, 1, 2], [4, 2])]);
  f.node('conv', 'Conv2D', ['pad_c', f.constant('k', [3, 3, 6, 4])], conv);
  f.node('pad_v2', 'PadV2', ['conv', int32(f, 'pad_v2/p', [0, 0, 1, 0, 0, 2, 0, 0], [4, 2]), f.constant('pad_v2/value', [], [0.5])]);
  if (mirror) {
    f.node('reflect', 'MirrorPad', ['pad_v2', int32(f, 'reflect/p', [0, 0, 2, 1, 1, 1, 0, 0], [4, 2])], { mode: a.s('REFLECT') });
    f.node('symmetric', 'MirrorPad', ['reflect', int32(f, 'symmetric/p', [0, 0, 1, 0, 0, 2, 1, 1], [4, 2])], { mode: a.s('SYMMETRIC') });
  }
  f.node('nchw', 'Transpose', [mirror ? 'symmetric' : 'pad_v2', int32(f, 'nchw/perm', [0, 3, 1, 2])]);
  f.node('crop', 'Slice', ['nchw', int32(f, 'crop/begin', mirror ? [0, 1, 2, 3] : [0, 0, 1, 2]), int32(f, 'crop/size', [-1, 4, -1, mirror ? 5 : 4])]);
  f.node('nhwc', 'Transpose', ['crop', int32(f, 'nhwc/perm', [0, 2, 3, 1])]);
  f.node('sum', 'Sum', ['nhwc', int32(f, 'sum/axes', [1, 2])], { keep_dims: a.b(false) });
  f.node('max', 'Max', ['conv', int32(f, 'max/axes', [-3, -2])], { keep_dims: a.b(true) });
  f.node('max_flat', 'Squeeze', ['max'], { squeeze_dims: a.ints([1, 2]) });
  f.node('out', 'AddV2', ['sum', 'max_flat']);
  return f;
}

/**
 * x [-1, 7, 8, 4] -> StridedSlice x[:, 1::2, :-1, :] -> StridedSlice x[:, ::-1, ..., 1:3] (ellipsis,
 * negative stride) -> Conv2D 1x1 to 8 channels -> DepthToSpace 2 -> ExpandDims 3 -> Squeeze [3]
 * -> StridedSlice x[:, 2, :, tf.newaxis, ...] (shrink, new axis) -> Max over axis 1 -> Reshape [-1, 2].
 */
function sliceFixture(random: () => number): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 7, 8, 4]));
  const strided = (name: string, input: string, begin: number[], end: number[], strides: number[], masks: Record<string, number>) =>
    f.node(name, 'StridedSlice', [input, int32(f, `${name}/begin`, begin), int32(f, `${name}/end`, end), int32(f, `${name}/strides`, strides)],
      Object.fromEntries(Object.entries(masks).map(([k, v]) => [k, int(v)])));
  strided('rows', 'x', [0, 1, 0, 0], [0, 0, -1, 0], [1, 2, 1, 1], { begin_mask: 0b1001, end_mask: 0b1011 });
  strided('flip', 'rows', [0, 0, 0, 1], [0, 0, 0, 3], [1, -1, 1, 1], { begin_mask: 0b0011, end_mask: 0b0011, ellipsis_mask: 0b0100 });
  f.node('mix', 'Conv2D', ['flip', f.constant('k', [1, 1, 2, 8])], conv);
  f.node('d2s', 'DepthToSpace', ['mix'], { block_size: int(2), data_format: a.s('NHWC') });
  f.node('expand', 'ExpandDims', ['d2s', int32(f, 'expand/axis', [3], [])]);
  f.node('squeeze', 'Squeeze', ['expand'], { squeeze_dims: a.ints([3]) });
  strided('row2', 'squeeze', [0, 2, 0, 0, 0], [0, 3, 0, 0, 0], [1, 1, 1, 1, 1], { begin_mask: 0b00101, end_mask: 0b00101, shrink_axis_mask: 0b00010, new_axis_mask: 0b01000, ellipsis_mask: 0b10000 });
  f.node('max', 'Max', ['row2', int32(f, 'max/axes', [1])], { keep_dims: a.b(false) });
  f.node('out', 'Reshape', ['max', int32(f, 'out/shape', [-1, 2])]);
  return f;
}

/** x [-1, 6, 4, 3] -> SpaceToDepth 2 -> Conv2D 2x2 -> Sum [1, 2]. */
function spaceToDepthFixture(random: () => number): Fixture {
  const f = new Fixture(random);
  f.nodes.push(placeholder('x', [-1, 6, 4, 3]));
  f.node('s2d', 'SpaceToDepth', ['x'], { block_size: int(2), data_format: a.s('NHWC') });
  f.node('conv', 'Conv2D', ['s2d', f.constant('k', [2, 2, 12, 3])], conv);
  f.node('out', 'Sum', ['conv', int32(f, 'axes', [1, 2])], { keep_dims: a.b(false) });
  return f;
}

const summary = (spec: ModelSpec) => spec.layers.map((l) => `${l.kind}:${l.name}`);
const layer = <K extends LayerSpec['kind']>(spec: ModelSpec, name: string, kind: K) => {
  const found = spec.layers.find((l) => l.name === name);
  expect(found?.kind, `layer ${name}`).toBe(kind);
  return found as Extract<LayerSpec, { kind: K }>;
};

describe('loadGraphModel: data movement and reductions', () => {
  it('maps Pad on channels, PadV2 with a value, MirrorPad, Transpose, Slice, Sum and Max (keep_dims both) to the IR', async () => {
    const spec = await loadGraphModel(padFixture(seededRandom(1)).files('pad.json'));
    expect(summary(spec)).toEqual([
      'input:x', 'pad:pad_c', 'conv2d:conv', 'pad:pad_v2', 'pad:reflect', 'pad:symmetric', 'transpose:nchw', 'slice:crop', 'transpose:nhwc',
      'reduce:sum', 'reduce:max', 'reshape:max_flat', 'add:out',
    ]);
    expect(layer(spec, 'pad_c', 'pad')).toMatchObject({ paddings: [[0, 0], [0, 0], [1, 2]], mode: 'constant', value: 0 });
    expect(layer(spec, 'pad_v2', 'pad')).toMatchObject({ paddings: [[1, 0], [0, 2], [0, 0]], mode: 'constant', value: 0.5 });
    expect(layer(spec, 'reflect', 'pad')).toMatchObject({ mode: 'reflect' });
    expect(layer(spec, 'symmetric', 'pad')).toMatchObject({ paddings: [[1, 0], [0, 2], [1, 1]], mode: 'symmetric' });
    expect(layer(spec, 'crop', 'slice')).toMatchObject({ begin: [1, 2, 3], size: [4, 7, 5], strides: [1, 1, 1] });
    expect(layer(spec, 'sum', 'reduce')).toMatchObject({ reduction: 'sum', axes: [1, 2], keepDims: false });
    expect(layer(spec, 'max', 'reduce')).toMatchObject({ reduction: 'max', axes: [1, 2], keepDims: true });
  });

  it('resolves StridedSlice masks (begin/end, ellipsis, negative stride, shrink, new axis), DepthToSpace and ExpandDims', async () => {
    const spec = await loadGraphModel(sliceFixture(seededRandom(1)).files('slice.json'));
    expect(summary(spec)).toEqual([
      'input:x', 'slice:rows', 'slice:flip', 'conv2d:mix', 'depthToSpace:d2s', 'reshape:expand', 'reshape:squeeze',
      'slice:row2/slice', 'reshape:row2', 'reduce:max', 'reshape:out',
    ]);
    expect(layer(spec, 'rows', 'slice')).toMatchObject({ begin: [1, 0, 0], size: [3, 7, 4], strides: [2, 1, 1] });
    expect(layer(spec, 'flip', 'slice')).toMatchObject({ begin: [2, 0, 1], size: [3, 7, 2], strides: [-1, 1, 1] });
    expect(layer(spec, 'row2/slice', 'slice')).toMatchObject({ begin: [2, 0, 0], size: [1, 14, 2], strides: [1, 1, 1] });
    expect(layer(spec, 'row2', 'reshape').shape).toEqual([14, 1, 2]);
    expect(layer(spec, 'expand', 'reshape').shape).toEqual([6, 14, 1, 2]);
  });

  it('maps SpaceToDepth (which TF.js cannot run)', async () => {
    const spec = await loadGraphModel(spaceToDepthFixture(seededRandom(1)).files('s2d.json'));
    expect(summary(spec)).toEqual(['input:x', 'spaceToDepth:s2d', 'conv2d:conv', 'reduce:out']);
    expect(layer(spec, 's2d', 'spaceToDepth').blockSize).toBe(2);
  });

  const rejections: [string, (f: Fixture) => void, RegExp][] = [
    ['a Transpose that moves the batch', (f) => f.node('out', 'Transpose', ['x', int32(f, 'perm', [1, 0, 2, 3])]), /moves the batch axis/],
    ['a StridedSlice of the batch', (f) => f.node('out', 'StridedSlice', ['x', int32(f, 'b', [1, 0]), int32(f, 'e', [2, 0]), int32(f, 's', [1, 1])], { end_mask: int(2) }), /do not take the batch axis whole/],
    ['a Slice of the batch', (f) => f.node('out', 'Slice', ['x', int32(f, 'b', [0, 0, 0, 0]), int32(f, 's', [1, -1, -1, -1])]), /must be taken whole/],
    ['a REFLECT MirrorPad as wide as the axis', (f) => f.node('out', 'MirrorPad', ['x', int32(f, 'p', [0, 0, 6, 0, 0, 0, 0, 0], [4, 2])], { mode: a.s('REFLECT') }), /reflect padding \[6, 0\] of axis 1 \(size 6\) exceeds 5/],
    ['Max over the batch', (f) => f.node('out', 'Max', ['x', int32(f, 'axes', [0, 1])]), /reduces over the batch axis/],
    ['DepthToSpace of channels that do not split', (f) => f.node('out', 'DepthToSpace', ['x'], { block_size: int(2), data_format: a.s('NHWC') }), /not a multiple of block size\^2 = 4/],
    ['ExpandDims before the batch', (f) => f.node('out', 'ExpandDims', ['x', int32(f, 'axis', [0], [])]), /must be one axis after the batch/],
  ];
  it.each(rejections)('rejects %s with UnsupportedModelError naming the node', async (_label, build, pattern) => {
    const f = new Fixture(seededRandom(7));
    f.nodes.push(placeholder('x', [-1, 6, 6, 2]));
    build(f);
    const error = await loadGraphModel(f.files('tiny.json')).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedModelError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).toContain("'out'");
  });
});

/** The engine's logits and input gradient (of the top logit per item) for x. */
async function engineRun(spec: ModelSpec, x: HostTensor, seed: HostTensor): Promise<{ logits: Float32Array; gradient: Float32Array }> {
  const rt = testRuntime();
  const model = Model.create(rt, spec);
  const input = rt.upload(x.shape, x.data, 'input');
  const pass = model.forward(input, { forBackward: true, keep: [model.logitsName] });
  const logits = await rt.read(pass.value(model.logitsName));
  const { gradients } = model.backward(pass, new Map([[model.logitsName, rt.upload(seed.shape, seed.data, 'seed')]]));
  const dx = gradients.get(INPUT)!;
  expect(dx.shape).toEqual(x.shape);
  const gradient = await rt.read(dx);
  expect(gradient.some((v) => v !== 0), 'the input gradient is not all zeros').toBe(true);
  dx.dispose();
  pass.dispose();
  input.dispose();
  model.dispose();
  return { logits, gradient };
}

function randomImage(shape: number[], random: () => number): HostTensor {
  return { shape, data: Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => random() * 2 - 1) };
}

/** The float64 reference executor's input gradient for `seed` at 'out', after checking its forward against TF.js's. */
function referenceGradient(spec: ModelSpec, x: HostTensor, tfjsLogits: HostTensor, seed: HostTensor): Float64Array {
  const xRef = refTensor(x.shape, x.data);
  expect(relativeL2(referenceForward(spec, xRef).get('out')!.data, tfjsLogits.data), 'the reference executor agrees with TF.js').toBeLessThan(1e-6);
  return referenceBackward(spec, xRef, new Map([['out', refTensor(seed.shape, seed.data)]])).gradients.get('input')!.data;
}

function expectAgreement(label: string, logits: number, gradient: number, seed: number): void {
  console.log(`[agreement] ${label}: relative L2 logits ${logits.toExponential(2)} input-gradient ${gradient.toExponential(2)} (seed ${seed})`);
  expect(logits, `${label}: logits (seed ${seed})`).toBeLessThanOrEqual(LOGITS_TOLERANCE);
  expect(gradient, `${label}: input gradient (seed ${seed})`).toBeLessThanOrEqual(GRADIENT_TOLERANCE);
}

describeGpu('graph-model data movement and reductions: the engine agrees with TF.js', () => {
  it('pad fixture without MirrorPad x=[2,6,7,3]: Pad channels, PadV2 0.5, Transpose NHWC->NCHW->NHWC, Slice, Sum, Max keep_dims (gradient vs tf.grad)', async () => {
    const seed = freshSeed();
    const files: ModelFiles = padFixture(seededRandom(seed), false).files('pad.json');
    const oracle = await loadTfjsGraphModel(files);
    const x = randomImage([2, 6, 7, 3], seededRandom(seed + 1));
    const [expectedLogits] = await tfjsRun(oracle, x, ['out']);
    const top = topClassSeed(expectedLogits);
    const expectedGradient = await tfjsInputGradient(oracle, x, 'out', top);
    const { logits, gradient } = await engineRun(await loadGraphModel(files), x, top);
    expectAgreement('pad fixture without MirrorPad [2,6,7,3] vs TF.js', relativeL2(logits, expectedLogits.data), relativeL2(gradient, expectedGradient.data), seed);
  });

  it('pad fixture x=[2,6,7,3] with MirrorPad REFLECT and SYMMETRIC (forward vs TF.js, gradient vs the float64 reference)', async () => {
    const seed = freshSeed();
    const files: ModelFiles = padFixture(seededRandom(seed)).files('pad.json');
    const spec = await loadGraphModel(files);
    const x = randomImage([2, 6, 7, 3], seededRandom(seed + 1));
    const [expectedLogits] = await tfjsRun(await loadTfjsGraphModel(files), x, ['out']);
    const top = topClassSeed(expectedLogits);
    const expectedGradient = referenceGradient(spec, x, expectedLogits, top);
    const { logits, gradient } = await engineRun(spec, x, top);
    expectAgreement('pad fixture [2,6,7,3] vs TF.js (forward), reference (gradient)', relativeL2(logits, expectedLogits.data), relativeL2(gradient, expectedGradient), seed);
  });

  it('SpaceToDepth graph x=[2,6,4,3] vs the float64 reference executor (TF.js cannot run SpaceToDepth)', async () => {
    const seed = freshSeed();
    const spec = await loadGraphModel(spaceToDepthFixture(seededRandom(seed)).files('s2d.json'));
    const x = randomImage([2, 6, 4, 3], seededRandom(seed + 1));
    const xRef = refTensor(x.shape, x.data);
    const logitsRef = referenceForward(spec, xRef).get('out')!;
    const top = topClassSeed({ shape: logitsRef.shape, data: Float32Array.from(logitsRef.data) });
    const gradientRef = referenceBackward(spec, xRef, new Map([['out', refTensor(top.shape, top.data)]])).gradients.get('input')!;
    const { logits, gradient } = await engineRun(spec, x, top);
    expectAgreement('SpaceToDepth graph [2,6,4,3] vs the reference', relativeL2(logits, logitsRef.data), relativeL2(gradient, gradientRef.data), seed);
  });

  it('slice fixture x=[2,7,8,4]: StridedSlice masks, DepthToSpace, ExpandDims, Max (forward vs TF.js, gradient vs the float64 reference: TF.js has no StridedSlice/DepthToSpace gradient)', async () => {
    const seed = freshSeed();
    const files = sliceFixture(seededRandom(seed)).files('slice.json');
    const spec = await loadGraphModel(files);
    const x = randomImage([2, 7, 8, 4], seededRandom(seed + 1));
    const [expectedLogits] = await tfjsRun(await loadTfjsGraphModel(files), x, ['out']);
    const top = topClassSeed(expectedLogits);
    const expectedGradient = referenceGradient(spec, x, expectedLogits, top);
    const { logits, gradient } = await engineRun(spec, x, top);
    expectAgreement('slice fixture [2,7,8,4] vs TF.js (forward), reference (gradient)', relativeL2(logits, expectedLogits.data), relativeL2(gradient, expectedGradient), seed);
  });
});
