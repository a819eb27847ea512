import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import type { ActivationFunction } from '../../src/ops/activation.js';
import { activationRescale, maxPoolRescale, rescaleBackward, rescaleEpsilon } from '../../src/ops/rescale.js';
import { expectMatchesReference, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { activate, activationDerivative } from '../reference/activation.js';
import { maxPoolRescaleRef } from '../reference/deeplift.js';
import { maxPoolRef } from '../reference/pool.js';
import { randomTensor, refTensor, type RefTensor } from '../reference/tensor.js';

/** Rows [0, n) and [n, 2n) of a 2n-row tensor. */
function halves(t: RefTensor): [RefTensor, RefTensor] {
  const n = t.shape[0] / 2;
  const size = t.data.length / 2;
  return [refTensor([n, ...t.shape.slice(1)], t.data.subarray(0, size)), refTensor([n, ...t.shape.slice(1)], t.data.subarray(size))];
}

/** Both halves of the GPU result hold the first half's value (the reference rows mirror the input rows). */
const mirrored = (top: RefTensor) => refTensor([2 * top.shape[0], ...top.shape.slice(1)], [...top.data, ...top.data]);

describeGpu('rescale (DeepLIFT)', () => {
  const functions: ActivationFunction[] = ['relu', 'relu6', 'sigmoid', 'tanh', { kind: 'leakyRelu', alpha: 0.2 }];
  for (const fn of functions) {
    const name = typeof fn === 'string' ? fn : fn.kind;
    it(`activationRescale ${name} x=[2*3,5,4,3]: (f(x) - f(x0)) / (x - x0) times dy, f'(x) where x = x0`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `rescale ${name} x=[6,5,4,3] seed=${seed}`;
      const x = randomTensor([6, 5, 4, 3], random, 4);
      const [top, bottom] = halves(x);
      bottom.data[7] = top.data[7]; // x = x0: the secant's limit, the derivative
      bottom.data[8] = Math.fround(top.data[8] + 1e-5); // within the smooth functions' epsilon
      x.data.set(bottom.data, top.data.length);
      const dy = randomTensor([6, 5, 4, 3], random);
      const epsilon = rescaleEpsilon(fn);
      const expected = refTensor(top.shape, top.data.map((v, i) => {
        const d = v - bottom.data[i];
        return Math.abs(d) <= epsilon ? dy.data[i] * activationDerivative(v, fn) : (dy.data[i] * (activate(v, fn) - activate(bottom.data[i], fn))) / d;
      }));
      await expectMatchesReference(rt, activationRescale(rt, toGpu(rt, dy), toGpu(rt, x), fn), mirrored(expected), label);
    });
  }

  it('rescaleBackward x=[2*2,7]: exact secant of ReLU, summation-to-delta sum m (x - x0) = sum (y - y0)', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const x = randomTensor([4, 7], random, 2);
    const y = refTensor(x.shape, x.data.map((v) => Math.max(v, 0)));
    const ones = refTensor(x.shape, x.data.map(() => 1));
    const zeros = refTensor(x.shape);
    const m = await rt.read(rescaleBackward(rt, toGpu(rt, ones), toGpu(rt, x), toGpu(rt, y), toGpu(rt, zeros), 0));
    let contributions = 0;
    let delta = 0;
    for (let i = 0; i < 14; i++) {
      contributions += m[i] * (x.data[i] - x.data[i + 14]);
      delta += y.data[i] - y.data[i + 14];
      expect(m[i + 14], `mirror at ${i}`).toBe(m[i]);
    }
    console.log(`[op-error] rescale relu summation seed=${seed} ${Math.abs(contributions - delta).toExponential(2)}`);
    expect(Math.abs(contributions - delta)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(delta)));
  });

  const pools = [
    { poolSize: [2, 2] as [number, number], strides: [2, 2] as [number, number], padding: 'same' as const, shape: [4, 5, 7, 3] },
    { poolSize: [3, 3] as [number, number], strides: [2, 1] as [number, number], padding: 'valid' as const, shape: [2, 7, 6, 2] },
  ];
  for (const o of pools) {
    it(`maxPoolRescale x=[${o.shape}] pool=${o.poolSize} stride=${o.strides} ${o.padding}: Captum's rule, summation-to-delta`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `maxPoolRescale x=[${o.shape}] pool=${o.poolSize} stride=${o.strides} seed=${seed}`;
      const x = randomTensor(o.shape, random, 2);
      const [top, bottom] = halves(x);
      bottom.data[3] = top.data[3]; // x = x0 at one input: the max-pool gradient there
      x.data.set(bottom.data, top.data.length);
      const options = { poolSize: o.poolSize, strides: o.strides, padding: o.padding };
      const y = maxPoolRef(x, options);
      const [dyTop] = halves(randomTensor(y.shape, random));
      const expected = maxPoolRescaleRef(top, bottom, dyTop, options);
      const dx = maxPoolRescale(rt, toGpu(rt, x), toGpu(rt, y), toGpu(rt, mirrored(dyTop)), options);
      await expectMatchesReference(rt, dx, mirrored(expected), label);
      // sum over inputs of m (x - x0) = sum over outputs of dy (y - y0)
      const [yTop, yBottom] = halves(y);
      const delta = dyTop.data.reduce((a, g, i) => a + g * (yTop.data[i] - yBottom.data[i]), 0);
      const total = expected.data.reduce((a, m, i) => a + m * (top.data[i] - bottom.data[i]), 0);
      expect(Math.abs(total - delta)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(delta)));
    });
  }

  it('refuses an odd batch: x=[3,4]', () => {
    const rt = testRuntime();
    const x = rt.upload([3, 4], new Float32Array(12));
    expect(() => activationRescale(rt, x, x, 'relu')).toThrow(ShapeError);
    expect(() => activationRescale(rt, x, x, 'relu')).toThrow(/even size, got 3 rows/);
  });
});
