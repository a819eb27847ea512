import { expect, it } from 'vitest';
import { LimitError, OptionError, ShapeError } from '../../src/errors.js';
import type { Activation } from '../../src/ops/activation.js';
import { dense, denseBackward, denseBackwardInput, denseBackwardWeights } from '../../src/ops/dense.js';
import type { KernelVariant } from '../../src/gpu/variants.js';
import { GPU_TOLERANCE, expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, relativeError, toGpu } from '../check.js';
import { KERNEL_VARIANTS, describeGpu, testRuntime } from '../gpu.js';
import { denseBackwardRef, denseRef } from '../reference/dense.js';
import { randomTensor, refTensor } from '../reference/tensor.js';

interface Case {
  n: number;
  k: number;
  m: number;
  bias: boolean;
  activation: Activation;
  /** maxBindingBytes below the weights' size: W processed in blocks of rows. */
  limit?: number;
}

// K = 13 runs one pass; K = 1031 splits the inner dimension (partial sums + sum_splits).
// N = 5 and M = 17 leave ragged 4x4 tiles in both directions.
const CASES: Case[] = [
  { n: 1, k: 13, m: 7, bias: true, activation: 'linear' },
  { n: 3, k: 13, m: 7, bias: false, activation: 'relu' },
  { n: 5, k: 9, m: 17, bias: true, activation: 'relu6' },
  { n: 3, k: 1031, m: 7, bias: true, activation: 'relu6' },
  { n: 1, k: 1031, m: 5, bias: false, activation: 'sigmoid' },
  { n: 2, k: 600, m: 3, bias: true, activation: 'sigmoid' },
  // W [1031, 7] is 28868 bytes: bound as slices of 576 + 455 rows, and of 256, 256, 256, 263 rows
  // (with the usual 256-byte storage-offset alignment a block must start on a multiple of 64 rows of 7 floats)
  { n: 3, k: 1031, m: 7, bias: true, activation: 'relu', limit: 16384 },
  { n: 1, k: 1031, m: 7, bias: false, activation: 'linear', limit: 8192 },
  // 31 rows of 33 floats fit 4096 bytes, but 64 rows are the first 256-byte-aligned count: blocks are copies
  { n: 2, k: 200, m: 33, bias: true, activation: 'relu', limit: 4096 },
];

// Several tiles of the tiled kernel (64 x 64, 32 deep) in every dimension, none a multiple of them:
// 70 x 130 outputs (and the backward products' 70 x 100, 100 x 130) over K = 100; and a batch-1 layer
// whose K = 5000 the tiled kernel splits into chunks of whole 32-deep stages (the last one partial).
const TILE_CASES: Case[] = [
  { n: 70, k: 100, m: 130, bias: true, activation: 'relu' },
  { n: 1, k: 5000, m: 70, bias: true, activation: 'sigmoid' },
];

const caseName = ({ n, k, m, bias, activation, limit }: Case) =>
  `x=[${n},${k}] w=[${k},${m}] bias=${bias} ${activation}${limit ? ` maxBindingBytes=${limit}` : ''}`;

/**
 * Forward and the three gradients on a runtime with `kernels` against the float64 reference; with
 * `finiteDifferences` also the reference backward against central differences (GPU-independent,
 * so once per case).
 */
async function checkCase(c: Case, kernels: KernelVariant, finiteDifferences: boolean): Promise<void> {
  const { n, k, m, bias: hasBias, activation, limit } = c;
  const rt = testRuntime(kernels);
  expect(rt.kernelVariant).toBe(kernels);
  const { seed, random } = randomSource();
  const label = `dense [${kernels}] ${caseName(c)} seed=${seed}`;
  // Pre-activations z spread about sqrt(k) * xScale / 3: 4 for the ReLUs (about 7% past ReLU6's
  // upper kink at 6, half below 0) and 2 for sigmoid, whose derivative from the float32 output,
  // y (1 - y), loses digits once sigmoid saturates (1 - y ~ 1e-5 at z = 11).
  const xScale = (activation === 'sigmoid' ? 6 : 12) / Math.sqrt(k);
  const x = randomTensor([n, k], random, xScale);
  const w = randomTensor([k, m], random);
  const b = hasBias ? randomTensor([m], random) : undefined;
  const dy = randomTensor([n, m], random);

  const xGpu = toGpu(rt, x);
  const wGpu = toGpu(rt, w);
  const y = dense(rt, xGpu, wGpu, b && toGpu(rt, b), { activation, maxBindingBytes: limit });
  await expectMatchesReference(rt, y, denseRef(x, w, b, activation), `${label} forward`);

  const dyGpu = toGpu(rt, dy);
  const inUse = rt.pool.buffersInUse;
  const grads = denseBackward(rt, { x: xGpu, weights: wGpu, y, dy: dyGpu }, { activation, maxBindingBytes: limit });
  expect(rt.pool.buffersInUse, 'denseBackward keeps only its three results').toBe(inUse + 3);
  const expected = denseBackwardRef(x, w, b, dy, activation);
  await expectMatchesReference(rt, grads.input!, expected.input, `${label} backward-input`);
  await expectMatchesReference(rt, grads.weights!, expected.weights, `${label} backward-weights`);
  await expectMatchesReference(rt, grads.bias!, expected.bias, `${label} backward-bias`);
  if (!finiteDifferences) return;

  expectReferenceGradient(expected.input, finiteDifferenceVjp((t) => denseRef(t, w, b, activation), x, dy), `${label} input`, 1e-5);
  expectReferenceGradient(expected.weights, finiteDifferenceVjp((t) => denseRef(x, t, b, activation), w, dy), `${label} weights`, 1e-5);
  if (b) expectReferenceGradient(expected.bias, finiteDifferenceVjp((t) => denseRef(x, w, t, activation), b, dy), `${label} bias`, 1e-5);
}

// Every case on both kernel variants, whatever this adapter would pick.
for (const kernels of KERNEL_VARIANTS) {
  describeGpu(`dense [${kernels} kernels]`, () => {
    for (const c of CASES) it(caseName(c), () => checkCase(c, kernels, kernels === 'register'));
    for (const c of TILE_CASES) it(`${caseName(c)} (multi-tile)`, () => checkCase(c, kernels, false));
  });
}

describeGpu('dense', () => {
  // The planner shrinks tiles on devices with low limits (src/gpu/variants.ts matmulTiles); run the
  // kernel directly with each shape it can produce, including stages shallower than a workgroup row
  // (TILE_K < TILE_N / 4: some invocations stage nothing) and 2 splits of the inner dimension.
  it('matmul_tiled with every tile shape the planner produces: x=[37,70] w=[70,45]', async () => {
    const rt = testRuntime('tiled');
    const { seed, random } = randomSource();
    const x = randomTensor([37, 70], random);
    const w = randomTensor([70, 45], random);
    const b = randomTensor([45], random);
    const [xGpu, wGpu, bGpu] = [toGpu(rt, x), toGpu(rt, w), toGpu(rt, b)];
    for (const [TILE_M, TILE_N, TILE_K] of [[64, 64, 32], [64, 64, 8], [32, 64, 16], [16, 64, 32], [64, 16, 32], [16, 16, 4], [32, 32, 8]]) {
      for (const splits of [1, 2]) {
        const output = rt.empty([splits, 37, 45], 'dense.test.output');
        const chunk = splits === 1 ? 70 : Math.ceil(35 / TILE_K) * TILE_K;
        rt.dispatch(
          { shader: 'dense', entry: 'matmul_tiled', constants: { TILE_M, TILE_N, TILE_K, ACTIVATION: 0, HAS_BIAS: 1 } },
          {
            bindings: { a: xGpu, b: wGpu, bias: bGpu, output },
            uniforms: { rows: 37, cols: 45, inner: 70, a_offset: 0, a_row: 70, a_inner: 1, b_inner: 45, b_col: 1, splits, chunk, out_offset: 0, out_row: 45 },
            workgroups: rt.grid(Math.ceil(37 / TILE_M) * Math.ceil(45 / TILE_N) * splits, 1),
          },
        );
        const label = `dense matmul_tiled ${TILE_M}x${TILE_N}x${TILE_K} splits=${splits} seed=${seed}`;
        if (splits === 1) {
          await expectMatchesReference(rt, output.reshapeMove([37, 45]), denseRef(x, w, b, 'linear'), label);
        } else {
          // raw partial sums, no epilogue: their sum is x · W
          const parts = await rt.read(output);
          const summed = refTensor([37, 45], parts.slice(0, 37 * 45).map((v, i) => v + parts[37 * 45 + i]));
          const expected = denseRef(x, w, undefined, 'linear');
          expect(relativeError(summed.data, expected.data), label).toBeLessThanOrEqual(GPU_TOLERANCE);
        }
      }
    }
  });

  it('backward products alone: dy=[3,7] w=[1031,7] x=[3,1031]; only requested gradients', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const label = `dense products dy=[3,7] w=[1031,7] seed=${seed}`;
    const x = randomTensor([3, 1031], random);
    const w = randomTensor([1031, 7], random);
    const dy = randomTensor([3, 7], random);
    const expected = denseBackwardRef(x, w, undefined, dy, 'linear');
    const [xGpu, wGpu, dyGpu] = [toGpu(rt, x), toGpu(rt, w), toGpu(rt, dy)];
    await expectMatchesReference(rt, denseBackwardInput(rt, dyGpu, wGpu), expected.input, `${label} backward-input`);
    await expectMatchesReference(rt, denseBackwardWeights(rt, xGpu, dyGpu), expected.weights, `${label} backward-weights`);
    const only = denseBackward(rt, { x: xGpu, weights: wGpu, y: dyGpu, dy: dyGpu }, {}, { weights: true });
    expect(Object.keys(only)).toEqual(['weights']);
    await expectMatchesReference(rt, only.weights!, expected.weights, `${label} backward-weights (requested alone)`);
  });

  it('rejects bad shapes and options', () => {
    const rt = testRuntime();
    const x = rt.upload([2, 3], [1, 2, 3, 4, 5, 6]);
    const w = rt.upload([4, 2], new Array(8).fill(1));
    const w3 = rt.upload([3, 2], new Array(6).fill(1));
    expect(() => dense(rt, x, w, undefined)).toThrow(ShapeError);
    expect(() => dense(rt, x, w, undefined)).toThrow(/input \[2, 3\] has 3 features but weights \[4, 2\] expect 4/);
    expect(() => dense(rt, rt.upload([1, 1, 3, 1], [1, 2, 3]), w3, undefined)).toThrow(/dense: input \(flatten it first\) must have rank 2, got \[1, 1, 3, 1\]/);
    expect(() => dense(rt, x, w3, rt.upload([3], [0, 0, 0]))).toThrow(/bias \[3\] must be \[2\]/);
    expect(() => dense(rt, x, w3, undefined, { activation: 'gelu' as Activation })).toThrow(OptionError);
    expect(() => denseBackwardInput(rt, rt.upload([2, 3], new Array(6).fill(0)), w3)).toThrow(/output gradient \[2, 3\] has 3 columns but weights \[3, 2\] have 2 outputs/);
    expect(() => denseBackwardWeights(rt, x, rt.upload([1, 2], [0, 0]))).toThrow(/different batch sizes/);
    const dy = rt.upload([2, 2], [0, 0, 0, 0]);
    expect(() => dense(rt, x, w3, undefined, { maxBindingBytes: 16 })).toThrow(LimitError);
    expect(() => dense(rt, x, w3, undefined, { maxBindingBytes: 16 })).toThrow(/dense: input \[2, 3\] takes 24 bytes, more than one storage binding may hold on this device \(16\)/);
    expect(() => denseBackward(rt, { x, weights: w3, y: rt.upload([2, 3], new Array(6).fill(0)), dy }, { activation: 'relu' })).toThrow(/denseBackward: output \[2, 3\] must be \[2, 2\]/);
  });
});
