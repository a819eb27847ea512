import { expect, it } from 'vitest';
import { LimitError, OptionError, ShapeError } from '../../src/errors.js';
import type { Activation } from '../../src/ops/activation.js';
import { dense, denseBackward, denseBackwardInput, denseBackwardWeights } from '../../src/ops/dense.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { denseBackwardRef, denseRef } from '../reference/dense.js';
import { randomTensor } from '../reference/tensor.js';

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
  // W [1031, 7] is 28868 bytes: blocks of 585 + 446 rows (the first split in two chunks); 4 blocks of <= 292 rows
  { n: 3, k: 1031, m: 7, bias: true, activation: 'relu', limit: 16384 },
  { n: 1, k: 1031, m: 7, bias: false, activation: 'linear', limit: 8192 },
];

describeGpu('dense', () => {
  for (const { n, k, m, bias: hasBias, activation, limit } of CASES) {
    const name = `x=[${n},${k}] w=[${k},${m}] bias=${hasBias} ${activation}${limit ? ` maxBindingBytes=${limit}` : ''}`;
    it(name, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `dense ${name} seed=${seed}`;
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

      expectReferenceGradient(expected.input, finiteDifferenceVjp((t) => denseRef(t, w, b, activation), x, dy), `${label} input`, 1e-5);
      expectReferenceGradient(expected.weights, finiteDifferenceVjp((t) => denseRef(x, t, b, activation), w, dy), `${label} weights`, 1e-5);
      if (b) expectReferenceGradient(expected.bias, finiteDifferenceVjp((t) => denseRef(x, w, t, activation), b, dy), `${label} bias`, 1e-5);
    });
  }

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
