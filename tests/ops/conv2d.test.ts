import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import type { Activation } from '../../src/ops/activation.js';
import { conv2d, conv2dBackward, conv2dBackwardFilter, conv2dBackwardInput } from '../../src/ops/conv2d.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import type { KernelVariant } from '../../src/gpu/variants.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { KERNEL_VARIANTS, describeGpu, testRuntime } from '../gpu.js';
import { activationDerivative } from '../reference/activation.js';
import { conv2dBackwardRef, conv2dPreActivationRef, conv2dRef, type Conv2dRefOptions } from '../reference/conv2d.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

interface Case {
  x: number[];
  filter: number[];
  strides: [number, number];
  dilations: [number, number];
  padding: 'valid' | 'same';
  activation: Activation;
  bias: boolean;
}

const c = (x: number[], filter: number[], strides: [number, number], dilations: [number, number], padding: Case['padding'], activation: Activation, bias: boolean): Case =>
  ({ x, filter, strides, dilations, padding, activation, bias });

// Odd sizes (7x5 images, 3 and 13 channels, Cout not a multiple of the 4-channel blocks), every
// stride 1..3 incl. non-square, both paddings, dilation 1 and 2, kernels 1x1 / 2x3 / 3x3 / 5x5,
// batch 1 and 3 (batch 3 at stride 1 also makes backward-filter split the pixel sum into chunks),
// rows of 5 (one partial 8-pixel tile), 11, 19 and 26 pixels.
const CASES: Case[] = [
  c([1, 7, 5, 3], [3, 3, 3, 8], [1, 1], [1, 1], 'same', 'relu', true),
  c([3, 7, 5, 3], [3, 3, 3, 7], [1, 1], [1, 1], 'same', 'linear', true),
  c([1, 7, 5, 3], [3, 3, 3, 2], [1, 1], [1, 1], 'valid', 'sigmoid', false),
  c([3, 7, 5, 13], [3, 3, 13, 5], [2, 2], [1, 1], 'same', 'relu6', true),
  c([1, 7, 5, 13], [2, 3, 13, 4], [2, 1], [1, 1], 'valid', 'sigmoid', true),
  c([3, 7, 5, 3], [1, 1, 3, 13], [1, 1], [1, 1], 'valid', 'linear', true),
  c([1, 7, 5, 13], [1, 1, 13, 13], [2, 2], [1, 1], 'same', 'relu', false),
  c([1, 7, 5, 3], [5, 5, 3, 6], [1, 1], [1, 1], 'same', 'relu', true),
  c([1, 7, 5, 3], [5, 5, 3, 4], [1, 1], [1, 1], 'valid', 'linear', false),
  c([1, 7, 5, 13], [3, 3, 13, 3], [1, 1], [2, 2], 'same', 'sigmoid', true),
  c([3, 7, 5, 3], [3, 3, 3, 7], [3, 3], [1, 1], 'same', 'linear', true),
  c([1, 7, 5, 3], [3, 2, 3, 5], [3, 3], [1, 1], 'valid', 'relu', false),
  c([3, 7, 5, 3], [2, 2, 3, 13], [3, 2], [2, 2], 'valid', 'relu6', true),
  c([1, 9, 11, 4], [2, 3, 4, 9], [1, 2], [2, 1], 'same', 'relu', true),
  c([1, 7, 5, 3], [3, 3, 3, 1], [2, 3], [1, 2], 'same', 'linear', false),
  c([2, 13, 11, 3], [3, 3, 3, 8], [1, 1], [1, 1], 'same', 'relu', true),
  // rows wider than one 8-pixel tile, at strides 2 and 3 (backward-input tiles per residue class)
  c([1, 5, 19, 3], [3, 3, 3, 5], [2, 2], [1, 1], 'same', 'sigmoid', false),
  c([1, 6, 26, 4], [2, 3, 4, 6], [2, 3], [1, 1], 'valid', 'relu', true),
  // forward's WIDE blocks of 8 output channels (Cout > 4): Cout 12 leaves the second invocation's
  // second block wholly past Cout (7, 5, 13, 9 above: partly), a pointwise layer as in emotion
  c([2, 5, 19, 12], [1, 1, 12, 12], [1, 1], [1, 1], 'valid', 'relu', true),
];

// Shapes past one tile of the tiled kernels in every GEMM dimension, none a multiple of the tiles:
// M = N*OH*OW pixels over several 64-row tiles (and one under 16 rows), Cout = 70 over two 64-column
// tiles (and 17, 40 in 32- and 64-column tiles), K = KH*KW*Cin = 180, 132, 45 over several or partial
// 32-deep stages, with padding, strides and dilations in the gather.
const TILE_CASES: Case[] = [
  c([2, 13, 11, 20], [3, 3, 20, 70], [1, 1], [1, 1], 'same', 'relu', true),
  c([1, 9, 10, 33], [2, 2, 33, 17], [2, 1], [2, 1], 'valid', 'linear', false),
  c([1, 4, 4, 5], [3, 3, 5, 40], [2, 2], [1, 1], 'same', 'sigmoid', true),
  // the input gradient's GEMM: Cin = 70 over two column tiles, K = KH*KW*Cout = 9*11 = 99 in partial
  // stages, M = 2*9*8 = 144 pixels, at stride 2 (3 in 4 of A's entries zero) and with dilation
  c([2, 9, 8, 70], [3, 3, 70, 11], [2, 2], [1, 1], 'same', 'relu', true),
  c([1, 10, 7, 66], [3, 2, 66, 9], [1, 1], [2, 3], 'valid', 'linear', false),
];

function caseName(k: Case): string {
  return `x=[${k.x}] f=[${k.filter}] s=${k.strides.join('x')} d=${k.dilations.join('x')} ${k.padding} ${k.activation}${k.bias ? ' bias' : ''}`;
}

/**
 * Forward and all three gradients of case `k` on a runtime with `kernels`, against the float64
 * reference; with `finiteDifferences`, also the reference backward against central differences of
 * the reference forward (independent of the GPU, so once per case, not once per variant).
 */
async function checkCase(k: Case, kernels: KernelVariant, finiteDifferences: boolean): Promise<void> {
  const rt = testRuntime(kernels);
  expect(rt.kernelVariant).toBe(kernels);
  const { seed, random } = randomSource();
  const label = `conv2d [${kernels}] ${caseName(k)} seed=${seed}`;
  const options: Conv2dRefOptions = { strides: k.strides, dilations: k.dilations, padding: k.padding, activation: k.activation };
  // x scale 2 pushes pre-activations past ReLU6's upper kink and into sigmoid's tails
  const x = randomTensor(k.x, random, 2);
  const filter = randomTensor(k.filter, random);
  const bias = k.bias ? randomTensor([k.filter[3]], random) : undefined;
  const expectedY = conv2dRef(x, filter, bias, options);
  const dy = randomTensor(expectedY.shape, random);
  const expected = conv2dBackwardRef(x, filter, bias, dy, options);

  const xGpu = toGpu(rt, x);
  const filterGpu = toGpu(rt, filter);
  const y = conv2d(rt, xGpu, filterGpu, bias && toGpu(rt, bias), options);
  await expectMatchesReference(rt, y, expectedY, `${label} forward`);
  const dyGpu = toGpu(rt, dy);
  const inUse = rt.pool.buffersInUse;
  const gradients = conv2dBackward(rt, { x: xGpu, filter: filterGpu, y, dy: dyGpu }, options);
  expect(rt.pool.buffersInUse, 'conv2dBackward keeps only the three gradients').toBe(inUse + 3);
  await expectMatchesReference(rt, gradients.input!, expected.input, `${label} backward-input`);
  await expectMatchesReference(rt, gradients.filter!, expected.filter, `${label} backward-filter`);
  await expectMatchesReference(rt, gradients.bias!, expected.bias, `${label} backward-bias`);
  if (!finiteDifferences) return;

  // The reference backward against central differences of the reference forward. Through
  // ReLU/ReLU6 a pre-activation within epsilon of a kink breaks the difference quotient in
  // about 1% of random cases, so those differentiate the (linear) pre-activation map with the
  // upstream gradient already taken through the activation; activation.test.ts checks that step.
  let forward = (xt: typeof x, ft: typeof filter) => conv2dRef(xt, ft, bias, options);
  let upstream = dy;
  if (k.activation === 'relu' || k.activation === 'relu6') {
    const pre = conv2dPreActivationRef(x, filter, bias, options);
    upstream = refTensor(dy.shape, dy.data.map((v, i) => v * activationDerivative(pre.data[i], k.activation)));
    forward = (xt, ft) => conv2dPreActivationRef(xt, ft, bias, options);
  }
  expectReferenceGradient(expected.input, finiteDifferenceVjp((t) => forward(t, filter), x, upstream), `${label} input`);
  expectReferenceGradient(expected.filter, finiteDifferenceVjp((t) => forward(x, t), filter, upstream), `${label} filter`);
}

// Every case on both kernel variants, whatever this adapter would pick.
for (const kernels of KERNEL_VARIANTS) {
  describeGpu(`conv2d [${kernels} kernels]`, () => {
    for (const k of CASES) it(caseName(k), () => checkCase(k, kernels, kernels === 'register'));
    for (const k of TILE_CASES) it(`${caseName(k)} (multi-tile)`, () => checkCase(k, kernels, false));
  });
}

describeGpu('conv2d', () => {
  it('backward kernels called directly and a partial request x=[1,7,5,3] f=[3,3,3,8] s=2x2 same', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const options: Conv2dRefOptions = { strides: [2, 2], padding: 'same' };
    const x = randomTensor([1, 7, 5, 3], random);
    const filter = randomTensor([3, 3, 3, 8], random);
    const dy = randomTensor([1, 4, 3, 8], random);
    const expected = conv2dBackwardRef(x, filter, undefined, dy, options);
    const [xGpu, filterGpu, dyGpu] = [x, filter, dy].map((t) => toGpu(rt, t));
    const label = `conv2d direct seed=${seed}`;
    await expectMatchesReference(rt, conv2dBackwardInput(rt, dyGpu, filterGpu, x.shape, options), expected.input, `${label} backward-input`);
    await expectMatchesReference(rt, conv2dBackwardFilter(rt, xGpu, dyGpu, filter.shape, options), expected.filter, `${label} backward-filter`);
    const onlyBias = conv2dBackward(rt, { x: xGpu, filter: filterGpu, dy: dyGpu }, options, { bias: true });
    expect(Object.keys(onlyBias)).toEqual(['bias']);
    await expectMatchesReference(rt, onlyBias.bias!, expected.bias, `${label} backward-bias`);
  });

  // The planner shrinks tiles on devices with low limits (src/gpu/variants.ts matmulTiles): run both
  // tiled entries directly with each shape it can produce, including stages shallower than a
  // workgroup row (TILE_K < TILE_N / 4: some invocations stage nothing).
  it('forward_tiled and backward_input_tiled with every tile shape the planner produces: x=[2,7,9,21] f=[3,3,21,19] s=2x1 same', async () => {
    const rt = testRuntime('tiled');
    const { seed, random } = randomSource();
    const options: Conv2dRefOptions = { strides: [2, 1], padding: 'same' };
    const x = randomTensor([2, 7, 9, 21], random);
    const filter = randomTensor([3, 3, 21, 19], random);
    const dy = randomTensor([2, 4, 9, 19], random);
    const expectedOutput = conv2dRef(x, filter, undefined, options);
    const expectedInput = conv2dBackwardRef(x, filter, undefined, dy, options).input;
    const [xGpu, filterGpu, dyGpu] = [x, filter, dy].map((t) => toGpu(rt, t));
    // TF 'same' at stride 2 over 7 rows: 4 output rows, (4-1)*2+3-7 = 2 padding rows, 1 on top
    const uniforms = {
      batch: 2, in_height: 7, in_width: 9, in_channels: 21, out_height: 4, out_width: 9, out_channels: 19,
      kernel_height: 3, kernel_width: 3, stride_height: 2, stride_width: 1, dilation_height: 1, dilation_width: 1,
      pad_top: 1, pad_left: 1, chunk_pixels: 0,
    };
    for (const [TILE_M, TILE_N, TILE_K] of [[64, 64, 32], [64, 64, 8], [32, 64, 16], [16, 64, 32], [64, 16, 32], [16, 16, 4], [32, 32, 8]]) {
      const tiles = { TILE_M, TILE_N, TILE_K };
      const label = `conv2d tiles ${TILE_M}x${TILE_N}x${TILE_K} seed=${seed}`;
      const output = rt.empty([2, 4, 9, 19], 'conv2d.test.output');
      rt.dispatch(
        { shader: 'conv2d', entry: 'forward_tiled', constants: { ...tiles, ACTIVATION: 0, HAS_BIAS: 0 } },
        { bindings: { input: xGpu, weights: filterGpu, bias: filterGpu, output }, uniforms, workgroups: rt.grid(Math.ceil(72 / TILE_M) * Math.ceil(19 / TILE_N), 1) },
      );
      await expectMatchesReference(rt, output, expectedOutput, `${label} forward_tiled`);
      const inputGrad = rt.empty([2, 7, 9, 21], 'conv2d.test.input_grad');
      rt.dispatch(
        { shader: 'conv2d', entry: 'backward_input_tiled', constants: tiles },
        { bindings: { output_grad: dyGpu, weights: filterGpu, bias: filterGpu, input_grad: inputGrad }, uniforms, workgroups: rt.grid(Math.ceil(126 / TILE_M) * Math.ceil(21 / TILE_N), 1) },
      );
      await expectMatchesReference(rt, inputGrad, expectedInput, `${label} backward_input_tiled`);
    }
  });

  it('backward filter adds 265 chunk partial sums in two passes x=[1,130,130,2] f=[1,1,2,3]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const x = randomTensor([1, 130, 130, 2], random);
    const dy = randomTensor([1, 130, 130, 3], random);
    const expected = conv2dBackwardRef(x, refTensor([1, 1, 2, 3]), undefined, dy).filter;
    const dw = conv2dBackwardFilter(rt, toGpu(rt, x), toGpu(rt, dy), [1, 1, 2, 3]);
    await expectMatchesReference(rt, dw, expected, `conv2d x=[1,130,130,2] f=[1,1,2,3] seed=${seed} backward-filter`);
  });

  function expectError(fn: () => unknown, type: typeof ShapeError | typeof OptionError, message: RegExp): void {
    expect(fn).toThrow(type);
    expect(fn).toThrow(message);
  }

  it('rejects bad shapes and options with typed errors', () => {
    const rt: Runtime = testRuntime();
    const zeros = (shape: number[]) => rt.upload(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    const x = zeros([1, 7, 5, 3]);
    const filter = zeros([3, 3, 3, 8]);
    expectError(() => conv2d(rt, x, zeros([3, 3, 4, 8]), undefined), ShapeError, /^conv2d: filter \[3, 3, 4, 8\] expects 4 input channels but x \[1, 7, 5, 3\] has 3$/);
    expectError(() => conv2d(rt, zeros([7, 5, 3]), filter, undefined), ShapeError, /conv2d: x must be \[batch, height, width, channels\] with positive sizes, got \[7, 5, 3\]/);
    expectError(() => conv2d(rt, x, zeros([3, 3, 3]), undefined), ShapeError, /conv2d: filter must be \[kernelHeight, kernelWidth, inChannels, outChannels\]/);
    expectError(() => conv2d(rt, x, filter, zeros([7])), ShapeError, /conv2d: bias must be \[8\], got \[7\]/);
    expectError(() => conv2d(rt, zeros([1, 3, 3, 3]), zeros([5, 5, 3, 1]), undefined), ShapeError, /conv2d: A 5x5 window .* does not fit a 3x3 input/);
    expectError(() => conv2d(rt, x, filter, undefined, { strides: 0 }), OptionError, /conv2d: strides must be a positive integer or a pair of them, got 0/);
    expectError(() => conv2d(rt, x, filter, undefined, { dilations: [1, 1.5] }), OptionError, /dilations must be .* got \[1,1.5\]/);
    expectError(() => conv2d(rt, x, filter, undefined, { activation: 'gelu' as Activation }), OptionError, /unknown activation 'gelu'/);
    expectError(() => conv2d(rt, x, filter, undefined, { padding: 'full' as 'same' }), ShapeError, /padding must be 'valid' or 'same', got 'full'/);
    expectError(() => conv2dBackwardInput(rt, zeros([1, 7, 5, 7]), filter, [1, 7, 5, 3], { padding: 'same' }), ShapeError, /conv2dBackwardInput: dy must be \[1, 7, 5, 8\], got \[1, 7, 5, 7\]/);
    expectError(() => conv2dBackwardFilter(rt, x, zeros([1, 5, 3, 8]), [3, 3, 3, 8], { padding: 'same' }), ShapeError, /conv2dBackwardFilter: dy must be \[1, 7, 5, 8\], got \[1, 5, 3, 8\]/);
    expectError(() => conv2dBackward(rt, { x, filter, dy: zeros([1, 5, 3, 8]) }, { activation: 'relu' }), OptionError, /conv2dBackward: the forward output y is needed/);
  });
});
