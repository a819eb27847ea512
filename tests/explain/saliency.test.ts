import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { reduceChannels } from '../../src/explain/attribution.js';
import { Explainer } from '../../src/explain/explainer.js';
import { InputError } from '../../src/errors.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, randomWeight, reluCnn, residualCnn, tinyCnn } from '../model/fixtures.js';
import { referenceScoreGradient } from '../reference/model.js';
import { relativeL2, topClass } from './reference.js';

const TOLERANCE = 1e-4;

/** Spearman rank correlation. */
function rankCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ranks = (v: ArrayLike<number>) => {
    const order = Array.from(v, (x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Float64Array(v.length);
    order.forEach(([, i], rank) => (r[i] = rank));
    return r;
  };
  const [ra, rb] = [ranks(a), ranks(b)];
  const mean = (a.length - 1) / 2;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i++) {
    num += (ra[i] - mean) * (rb[i] - mean);
    da += (ra[i] - mean) ** 2;
    db += (rb[i] - mean) ** 2;
  }
  return num / Math.sqrt(da * db);
}

describeGpu('saliency', () => {
  for (const [name, build] of [['tinyCnn', tinyCnn], ['residualCnn', residualCnn]] as const) {
    for (const score of ['logit', 'probability'] as const) {
      it(`${name} score=${score} target top and fixed equal the float64 reference`, async () => {
        const { seed, random } = randomSource();
        const spec = build(random);
        const x = randomInput(spec, 1, random);
        const xai = await Explainer.create(testRuntime(), spec);
        const node = score === 'logit' ? xai.model.logitsName : xai.model.outputName;
        const top = topClass(spec, xai.model.logitsName, x);
        const image = { data: x.data, shape: inputShapeOf(spec) };
        const result = await xai.saliency(image, { score });
        expect(result.target).toBe(top);
        const error = relativeL2(result.values, referenceScoreGradient(spec, x, node, [top]).data);
        console.log(`[explain-error] saliency ${name} ${score} top seed=${seed} ${error.toExponential(2)}`);
        expect(error).toBeLessThanOrEqual(TOLERANCE);
        const fixed = (top + 1) % 4;
        const other = await xai.saliency(image, { score, target: fixed });
        expect(other.target).toBe(fixed);
        expect(relativeL2(other.values, referenceScoreGradient(spec, x, node, [fixed]).data)).toBeLessThanOrEqual(TOLERANCE);
      });
    }
  }

  it('sanity check (Adebayo et al. 2018): randomizing the last layer changes the map', async () => {
    // mean |saliency| rank correlation over 3 re-initializations x 3 images, so that one lucky
    // draw of random weights resembling the originals cannot decide the test
    const { seed, random } = randomSource();
    const spec = reluCnn(random);
    const original = await Explainer.create(testRuntime(), spec);
    const correlations: number[] = [];
    for (let draw = 0; draw < 3; draw++) {
      const randomized: ModelSpec = {
        ...spec,
        layers: spec.layers.map((l) => (l.kind === 'dense' ? { ...l, weights: randomWeight(l.weights.shape, random, Math.sqrt(6 / 8)) } : l)),
      };
      const after = await Explainer.create(testRuntime(), randomized);
      for (let image = 0; image < 3; image++) {
        const x = { data: randomInput(spec, 1, random).data, shape: inputShapeOf(spec) };
        const [a, b] = [await original.saliency(x, { target: 0 }), await after.saliency(x, { target: 0 })];
        correlations.push(rankCorrelation(reduceChannels(a, 'abs-max'), reduceChannels(b, 'abs-max')));
      }
    }
    const mean = correlations.reduce((sum, c) => sum + c, 0) / correlations.length;
    console.log(`[sanity] seed=${seed} rank correlations after randomizing the last layer: ${correlations.map((c) => c.toFixed(2)).join(' ')}, mean ${mean.toFixed(3)}`);
    expect(mean).toBeLessThan(0.5);
  });

  it('rejects bad targets, shapes and NaN before any GPU work', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec);
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const dispatches = rt.pendingCommands;
    await expect(xai.saliency(image, { target: 5 })).rejects.toThrow(/target 5 is out of range: the model has 5 classes/);
    await expect(xai.saliency(image, { target: 1.5 })).rejects.toThrow(OptionError);
    await expect(xai.saliency({ data: new Float32Array(8 * 7 * 3), shape: [8, 7, 3] })).rejects.toThrow(ShapeError);
    await expect(xai.saliency({ data: new Float32Array(9 * 7 * 3).fill(Number.NaN), shape: [9, 7, 3] })).rejects.toThrow(InputError);
    await expect(xai.saliency(image, { score: 'softmax' as 'logit' })).rejects.toThrow(/score must be 'logit' or 'probability'/);
    expect(rt.pendingCommands).toBe(dispatches);
  });
});
