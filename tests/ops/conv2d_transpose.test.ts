import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import type { Activation } from '../../src/ops/activation.js';
import { conv2dTranspose, conv2dTransposeBackward } from '../../src/ops/conv2d_transpose.js';
import type { KernelVariant } from '../../src/gpu/variants.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { KERNEL_VARIANTS, describeGpu, testRuntime } from '../gpu.js';
import { activationDerivative } from '../reference/activation.js';
import { conv2dTransposeBackwardRef, conv2dTransposePreActivationRef, conv2dTransposeRef, type Conv2dTransposeRefOptions } from '../reference/conv2d_transpose.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

interface Case {
  x: number[];
  /** [KH, KW, Cout, Cin] */
  filter: number[];
  outputSize: [number, number];
  strides: [number, number];
  dilations: [number, number];
  /** An object: TF's EXPLICIT padding of the convolution being transposed. */
  padding: NonNullable<Conv2dTransposeRefOptions['padding']>;
  activation: Activation;
  bias: boolean;
}

const c = (x: number[], filter: number[], outputSize: [number, number], strides: [number, number], dilations: [number, number], padding: Case['padding'], activation: Activation, bias: boolean): Case =>
  ({ x, filter, outputSize, strides, dilations, padding, activation, bias });

// Odd sizes and channel counts off the 4-channel blocks; strides 1..3; both paddings; output sizes
// with the extra rows/columns a stride leaves free (Keras output_padding: 8 = (3-1)*2 + 3 + 1);
// dilation 2; batch 1..3.
const CASES: Case[] = [
  c([1, 4, 3, 5], [3, 3, 4, 5], [8, 6], [2, 2], [1, 1], 'same', 'relu', true),
  c([2, 3, 5, 3], [3, 3, 7, 3], [7, 11], [2, 2], [1, 1], 'valid', 'linear', true),
  c([1, 3, 4, 6], [3, 2, 5, 6], [8, 12], [2, 3], [1, 1], 'valid', 'sigmoid', false),
  c([1, 5, 5, 13], [3, 3, 3, 13], [5, 5], [1, 1], [2, 2], 'same', 'relu6', true),
  c([1, 4, 4, 2], [4, 4, 9, 2], [7, 8], [2, 2], [1, 1], 'same', 'linear', true),
  c([3, 2, 3, 4], [1, 1, 5, 4], [4, 6], [2, 2], [1, 1], 'valid', 'relu', false),
  c([1, 3, 3, 3], [3, 3, 2, 3], [9, 7], [3, 3], [1, 1], 'same', 'linear', true),
  // EXPLICIT (Conv2DBackpropInput): 9 + 1 + 0 rows and 5 + 2 + 1 columns convolve to 4x3 at stride 2
  c([1, 4, 3, 5], [3, 3, 4, 5], [9, 5], [2, 2], [1, 1], { top: 1, bottom: 0, left: 2, right: 1 }, 'relu', true),
  c([2, 5, 6, 3], [2, 3, 4, 3], [3, 6], [1, 1], [1, 1], { top: 2, bottom: 1, left: 0, right: 2 }, 'sigmoid', false),
];

// Past one tile of the tiled GEMM in every dimension: Cout = 70 output channels of the transpose
// (the GEMM columns), K = 9 * 20 and 6 * 66 deep, M = 2*10*8 and 7*7 pixels.
const TILE_CASES: Case[] = [
  c([2, 5, 4, 20], [3, 3, 70, 20], [10, 8], [2, 2], [1, 1], 'same', 'relu', true),
  c([1, 6, 5, 66], [2, 3, 9, 66], [7, 7], [1, 1], [1, 1], 'valid', 'linear', false),
];

function caseName(k: Case): string {
  const padding = typeof k.padding === 'string' ? k.padding : `explicit t${k.padding.top} b${k.padding.bottom} l${k.padding.left} r${k.padding.right}`;
  return `x=[${k.x}] f=[${k.filter}] out=${k.outputSize.join('x')} s=${k.strides.join('x')} d=${k.dilations.join('x')} ${padding} ${k.activation}${k.bias ? ' bias' : ''}`;
}

async function checkCase(k: Case, kernels: KernelVariant, finiteDifferences: boolean): Promise<void> {
  const rt = testRuntime(kernels);
  expect(rt.kernelVariant).toBe(kernels);
  const { seed, random } = randomSource();
  const label = `conv2dTranspose [${kernels}] ${caseName(k)} seed=${seed}`;
  const options: Conv2dTransposeRefOptions = { outputSize: k.outputSize, strides: k.strides, dilations: k.dilations, padding: k.padding, activation: k.activation };
  const x = randomTensor(k.x, random, 2);
  const filter = randomTensor(k.filter, random);
  const bias = k.bias ? randomTensor([k.filter[2]], random) : undefined;
  const expectedY = conv2dTransposeRef(x, filter, bias, options);
  const dy = randomTensor(expectedY.shape, random);
  const expected = conv2dTransposeBackwardRef(x, filter, bias, dy, options);

  const xGpu = toGpu(rt, x);
  const filterGpu = toGpu(rt, filter);
  const y = conv2dTranspose(rt, xGpu, filterGpu, bias && toGpu(rt, bias), options);
  await expectMatchesReference(rt, y, expectedY, `${label} forward`);
  const inUse = rt.pool.buffersInUse;
  const gradients = conv2dTransposeBackward(rt, { x: xGpu, filter: filterGpu, y, dy: toGpu(rt, dy) }, options);
  expect(rt.pool.buffersInUse, 'conv2dTransposeBackward keeps dy and the three gradients').toBe(inUse + 4);
  await expectMatchesReference(rt, gradients.input!, expected.input, `${label} backward-input`);
  await expectMatchesReference(rt, gradients.filter!, expected.filter, `${label} backward-filter`);
  await expectMatchesReference(rt, gradients.bias!, expected.bias, `${label} backward-bias`);
  if (!finiteDifferences) return;

  // As in conv2d.test.ts: through ReLU/ReLU6 differentiate the linear pre-activation map with the
  // upstream gradient already taken through the activation (a kink within epsilon breaks the quotient).
  let forward = (xt: typeof x, ft: typeof filter) => conv2dTransposeRef(xt, ft, bias, options);
  let upstream = dy;
  if (k.activation === 'relu' || k.activation === 'relu6') {
    const pre = conv2dTransposePreActivationRef(x, filter, bias, options);
    upstream = refTensor(dy.shape, dy.data.map((v, i) => v * activationDerivative(pre.data[i], k.activation)));
    forward = (xt, ft) => conv2dTransposePreActivationRef(xt, ft, bias, options);
  }
  expectReferenceGradient(expected.input, finiteDifferenceVjp((t) => forward(t, filter), x, upstream), `${label} input`);
  expectReferenceGradient(expected.filter, finiteDifferenceVjp((t) => forward(x, t), filter, upstream), `${label} filter`);
}

for (const kernels of KERNEL_VARIANTS) {
  describeGpu(`conv2dTranspose [${kernels} kernels]`, () => {
    for (const k of CASES) it(caseName(k), () => checkCase(k, kernels, kernels === 'register'));
    for (const k of TILE_CASES) it(`${caseName(k)} (multi-tile)`, () => checkCase(k, kernels, false));
  });
}

describeGpu('conv2dTranspose', () => {
  it('rejects bad shapes and options with typed errors', () => {
    const rt = testRuntime();
    const zeros = (shape: number[]) => rt.upload(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    const x = zeros([1, 4, 3, 5]);
    const filter = zeros([3, 3, 4, 5]);
    const options = { outputSize: [8, 6] as [number, number], strides: 2, padding: 'same' as const };
    expect(() => conv2dTranspose(rt, x, zeros([3, 3, 4, 6]), undefined, options)).toThrow(ShapeError);
    expect(() => conv2dTranspose(rt, x, zeros([3, 3, 4, 6]), undefined, options)).toThrow(/conv2dTranspose: filter \[3, 3, 4, 6\] must be \[kernelHeight, kernelWidth, outChannels, 5\]/);
    expect(() => conv2dTranspose(rt, x, filter, undefined, { ...options, outputSize: [9, 6] })).toThrow(/outputSize 9x6 does not fit x \[1, 4, 3, 5\]: a 3x3 convolution \(strides 2x2, dilations 1x1, padding "same"\) maps it to 5x3, not 4x3/);
    expect(() => conv2dTranspose(rt, x, filter, undefined, { ...options, outputSize: [8, 0] })).toThrow(OptionError);
    expect(() => conv2dTranspose(rt, x, filter, undefined, { ...options, strides: 0 })).toThrow(/strides must be a positive integer or a pair of them, got 0/);
    expect(() => conv2dTranspose(rt, x, filter, zeros([5]), options)).toThrow(/bias must be \[4\], got \[5\]/);
    expect(() => conv2dTransposeBackward(rt, { x, filter, dy: zeros([1, 8, 6, 4]) }, { ...options, activation: 'relu' })).toThrow(/the forward output y is needed/);
    expect(() => conv2dTransposeBackward(rt, { x, filter, dy: zeros([1, 8, 5, 4]) }, options)).toThrow(/dy must be \[1, 8, 6, 4\], got \[1, 8, 5, 4\]/);
  });
});
