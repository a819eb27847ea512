import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { activation, activationBackward, activationInputGradient, type Activation, type ActivationFunction } from '../../src/ops/activation.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { activationBackwardRef, activationLabel, activationRef } from '../reference/activation.js';
import { randomTensor, refTensor, type RefTensor } from '../reference/tensor.js';

const FUSED: Activation[] = ['linear', 'relu', 'relu6', 'sigmoid'];
const SHAPES = [[1, 7, 5, 3], [2, 1, 1, 1031]];

interface Case {
  fn: ActivationFunction;
  /** Inputs uniform in [-scale, scale), or (0, scale) for `positive` functions. */
  scale: number;
  /** Points where the function is not differentiable: some inputs sit exactly there (TF's rule applies), some 1e-3 away. */
  kinks?: number[];
  positive?: boolean;
  /** Forward/backward tolerance when tighter than the engine's 1e-4. */
  tolerance?: number;
}

const CASES: Case[] = [
  { fn: 'linear', scale: 8 },
  { fn: 'relu', scale: 8, kinks: [0] },
  { fn: 'relu6', scale: 8, kinks: [0, 6] },
  { fn: 'sigmoid', scale: 20 },
  { fn: 'tanh', scale: 12 },
  { fn: { kind: 'elu', alpha: 1 }, scale: 6, kinks: [0] },
  { fn: { kind: 'elu', alpha: 0.3 }, scale: 6, kinks: [0] },
  { fn: 'selu', scale: 6, kinks: [0] },
  { fn: 'softplus', scale: 30 },
  { fn: 'softsign', scale: 8, kinks: [0] },
  { fn: 'swish', scale: 12 },
  // 1e-6: the erf-based GELU is meant to agree with float64 to float32 precision, tails included
  { fn: 'gelu', scale: 8, tolerance: 1e-6 },
  { fn: 'geluTanh', scale: 8 },
  { fn: { kind: 'hardSigmoid', slope: 0.25, offset: 0.5 }, scale: 4, kinks: [-2, 2] },
  { fn: { kind: 'hardSigmoid', slope: 1 / 6, offset: 0.5 }, scale: 5 },
  { fn: 'hardSwish', scale: 5, kinks: [-3, 3] },
  { fn: 'mish', scale: 10 },
  { fn: 'exp', scale: 4 },
  { fn: 'log', scale: 5, positive: true },
  { fn: 'abs', scale: 4, kinks: [0] },
  { fn: 'neg', scale: 4 },
  { fn: 'square', scale: 4 },
  { fn: 'sqrt', scale: 5, positive: true },
  { fn: 'rsqrt', scale: 5, positive: true },
  { fn: { kind: 'leakyRelu', alpha: 0.2 }, scale: 4, kinks: [0] },
  { fn: { kind: 'clip', lo: -0.75, hi: 1.5 }, scale: 3, kinks: [-0.75, 1.5] },
  { fn: { kind: 'clip', lo: 0.5, hi: Infinity }, scale: 3, kinks: [0.5] },
  { fn: { kind: 'generalRelu', negativeSlope: 0.1, threshold: 0.5, maxValue: 2.5 }, scale: 4, kinks: [0.5, 2.5] },
  { fn: { kind: 'generalRelu', negativeSlope: 0, threshold: 1.25 }, scale: 4, kinks: [1.25] },
  { fn: { kind: 'affine', scale: 1 / 127.5, offset: -1 }, scale: 255 },
  // 1e-6 as GELU (erf switches from its series to 1 - erfc at |x| = 0.5)
  { fn: 'erf', scale: 3, tolerance: 1e-6 },
  { fn: 'reciprocal', scale: 4, positive: true },
];

/** Random inputs with every kink present exactly and at +-1e-3; returns which entries sit on a kink. */
function inputs(shape: number[], random: () => number, c: Case): { x: RefTensor; onKink: Set<number> } {
  const x = randomTensor(shape, random, c.scale);
  if (c.positive) x.data.forEach((v, i) => { x.data[i] = Math.fround(Math.abs(v) + 1e-3); });
  const onKink = new Set<number>();
  (c.kinks ?? []).forEach((k, j) => {
    [0, 1e-3, -1e-3].forEach((offset, m) => {
      const at = (7 * (3 * j + m) + 1) % x.data.length;
      x.data[at] = Math.fround(k + offset);
      if (offset === 0) onKink.add(at);
    });
  });
  return { x, onKink };
}

describeGpu('activation', () => {
  for (const c of CASES) {
    for (const shape of SHAPES) {
      const name = activationLabel(c.fn);
      it(`${name} x=[${shape}]`, async () => {
        const rt = testRuntime();
        const { seed, random } = randomSource();
        const { x, onKink } = inputs(shape, random, c);
        const dy = randomTensor(shape, random);
        const label = `${name} x=[${shape}] seed=${seed}`;
        const xGpu = toGpu(rt, x);
        const y = activation(rt, xGpu, c.fn);
        await expectMatchesReference(rt, y, activationRef(x, c.fn), `${label} forward`, c.tolerance);
        const dyGpu = toGpu(rt, dy);
        const expected = activationBackwardRef(x, dy, c.fn);
        await expectMatchesReference(rt, activationInputGradient(rt, dyGpu, xGpu, c.fn), expected, `${label} backward-input`, c.tolerance);
        if (FUSED.includes(c.fn as Activation)) {
          await expectMatchesReference(rt, activationBackward(rt, dyGpu, y, c.fn as Activation), expected, `${label} backward-from-output`);
        }
        // finite differences hold everywhere but on a kink, where TF's rule picks one side, and within
        // a step of one, where the difference straddles it (a random x did: seed 682315344, 1.9e-2)
        const step = c.positive ? 1e-7 : 1e-6;
        const straddles = (v: number) => (c.kinks ?? []).some((k) => Math.abs(v - k) < 2 * step);
        const offKink = (t: RefTensor) => refTensor(t.shape, t.data.map((v, i) => (onKink.has(i) || straddles(x.data[i]) ? 0 : v)));
        const numeric = finiteDifferenceVjp((t) => activationRef(t, c.fn), x, dy, step);
        expectReferenceGradient(offKink(expected), offKink(numeric), label, 1e-5);
      });
    }
  }

  for (const kind of FUSED) {
    it(`${kind} guided backward x=[3,5,7,13]: relu(dy) * act' at ReLU and ReLU6, the plain gradient elsewhere (from the output and from the input)`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const x = randomTensor([3, 5, 7, 13], random, 8);
      const dy = randomTensor([3, 5, 7, 13], random);
      const xGpu = toGpu(rt, x);
      const y = activation(rt, xGpu, kind);
      const ruled = kind === 'relu' || kind === 'relu6';
      const upstream = ruled ? refTensor(dy.shape, dy.data.map((v) => Math.max(v, 0))) : dy;
      const expected = activationBackwardRef(x, upstream, kind);
      await expectMatchesReference(rt, activationBackward(rt, toGpu(rt, dy), y, kind, 'guided'), expected, `${kind} guided seed=${seed}`);
      await expectMatchesReference(rt, activationInputGradient(rt, toGpu(rt, dy), xGpu, kind, 'guided'), expected, `${kind} guided from input seed=${seed}`);
    });
  }

  it('rejects an unknown backward rule', () => {
    const rt = testRuntime();
    const y = rt.upload([1], [0]);
    expect(() => activationBackward(rt, y, y, 'relu', 'deconvnet' as never)).toThrow(/unknown backward rule 'deconvnet'/);
    expect(() => activationInputGradient(rt, y, y, 'gelu', 'deconvnet' as never)).toThrow(/unknown backward rule 'deconvnet'/);
  });

  it('GELU tails: x=[64] in [-9, -3] keeps float32 relative precision per element', async () => {
    const rt = testRuntime();
    const x = refTensor([64], Array.from({ length: 64 }, (_, i) => Math.fround(-3 - (6 * i) / 63)));
    const expected = activationRef(x, 'gelu');
    const actual = await rt.read(activation(rt, toGpu(rt, x), 'gelu'));
    const worst = Math.max(...expected.data.map((v, i) => (v === 0 ? Math.abs(actual[i]) : Math.abs(actual[i] - v) / Math.abs(v))));
    console.log(`[op-error] gelu tail per-element ${worst.toExponential(2)}`);
    // 1 + erf(x / sqrt 2) in float32 would lose every digit here (Phi(-9) = 1e-19)
    expect(worst).toBeLessThan(3e-5);
  });

  it('rejects an unknown function and bad parameters before allocating', () => {
    const rt = testRuntime();
    const x = rt.upload([1], [0]);
    const inUse = rt.pool.buffersInUse;
    expect(() => activation(rt, x, 'swoosh' as Activation)).toThrow(/unknown activation 'swoosh'/);
    expect(() => activation(rt, x, { kind: 'clip', lo: 2, hi: 1 })).toThrow(OptionError);
    expect(() => activation(rt, x, { kind: 'leakyRelu', alpha: Number.NaN })).toThrow(/alpha must be a finite number/);
    expect(() => activationBackward(rt, x, x, 'gelu' as Activation)).toThrow(/unknown activation 'gelu'/);
    expect(rt.pool.buffersInUse).toBe(inUse);
  });
});
