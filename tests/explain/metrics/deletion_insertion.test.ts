import { expect, it } from 'vitest';
import type { ExplainContext } from '../../../src/explain/context.js';
import { perturbationCurve } from '../../../src/explain/metrics/deletion_insertion.js';
import { infidelity } from '../../../src/explain/metrics/infidelity.js';
import { muFidelity } from '../../../src/explain/metrics/mufidelity.js';
import { AbortedError } from '../../../src/explain/progress.js';
import type { Runtime } from '../../../src/gpu/runtime.js';
import { Model } from '../../../src/model/model.js';
import type { ModelSpec } from '../../../src/model/spec.js';
import { gaussianBlur } from '../../../src/ops/blur.js';
import { randomSource, toGpu } from '../../check.js';
import { describeGpu, testRuntime } from '../../gpu.js';
import { randomInput, tinyCnn } from '../../model/fixtures.js';
import { referenceForward } from '../../reference/model.js';
import { refTensor, relativeL2, type RefTensor } from '../../reference/tensor.js';
import { argmax } from '../reference.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

/** The curve in float64: pixels sorted by summed map value (ties: lower index first), floor(k * P / steps) taken. */
function referenceCurve(spec: ModelSpec, x: RefTensor, map: Float32Array, channels: number, substitute: ArrayLike<number>, insertion: boolean, steps: number, target: number): number[] {
  const pixels = map.length / channels;
  const values = Array.from({ length: pixels }, (_, p) => map.slice(p * channels, (p + 1) * channels).reduce((a, b) => a + b, 0));
  const order = [...values.keys()].sort((a, b) => (values[a] === values[b] ? a - b : values[b] - values[a]));
  const curve: number[] = [];
  for (let k = 0; k <= steps; k++) {
    const taken = new Set(order.slice(0, Math.floor((k * pixels) / steps)));
    const copy = refTensor(x.shape, x.data.map((v, e) => (taken.has(Math.floor(e / channels)) !== insertion ? substitute[e] : v)));
    curve.push(referenceForward(spec, copy).get('probs')!.data[target]);
  }
  return curve;
}

const trapezoid = (curve: number[]) => curve.slice(1).reduce((a, v, k) => a + (v + curve[k]) / (2 * (curve.length - 1)), 0);

describeGpu('deletion and insertion curves', () => {
  for (const [steps, maxChunk] of [[7, 256], [10, 4]] as const) {
    it(`tinyCnn x=[1,9,7,3], map [9,7,3] with ties, ${steps} steps, chunks of ${maxChunk}: deletion and insertion to black against float64`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const ctx = context(rt, spec, maxChunk);
      const x = randomInput(spec, 1, random);
      const image = { data: x.data, shape: [9, 7, 3] };
      // coarse values: many pixels share a value, so the tie order matters
      const values = Float32Array.from({ length: 9 * 7 * 3 }, () => Math.round(random() * 4));
      const top = argmax(referenceForward(spec, x).get('logits')!.data);
      const black = new Float64Array(x.data.length).fill(-1);
      const inUse = rt.pool.buffersInUse;
      for (const mode of ['deletion', 'insertion'] as const) {
        const label = `${mode} steps=${steps} maxChunk=${maxChunk} seed=${seed}`;
        const progress: number[] = [];
        const result = await perturbationCurve(ctx, image, { values, shape: [9, 7, 3] }, mode, { steps, substitute: 'black', onProgress: (p) => progress.push(p.done) });
        const expected = referenceCurve(spec, x, values, 3, black, mode === 'insertion', steps, top);
        const error = relativeL2(result.scores, expected);
        console.log(`[explain-error] ${label} ${error.toExponential(2)} auc ${result.auc.toFixed(4)}`);
        expect(result.target).toBe(top);
        expect(result.scores.length).toBe(steps + 1);
        expect(progress.at(-1)).toBe(steps + 1);
        expect(error, label).toBeLessThanOrEqual(1e-5);
        expect(result.auc).toBeCloseTo(trapezoid(expected), 5);
        expect(Array.from(result.fractions)).toEqual(expected.map((_, k) => k / steps));
      }
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }

  it("insertion's default blur substitute: starts at f(blurred image), ends at f(image); the map's target is followed", async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec);
    const x = randomInput(spec, 1, random);
    const values = Float32Array.from({ length: 9 * 7 }, () => random());
    const result = await perturbationCurve(ctx, x, { values, shape: [9, 7, 1], target: 2 }, 'insertion', { steps: 5 });
    expect(result.target).toBe(2);
    const blurred = await rt.read(gaussianBlur(rt, toGpu(rt, x), 0.05 * 9));
    const first = referenceForward(spec, refTensor(x.shape, blurred)).get('probs')!.data[2];
    const last = referenceForward(spec, x).get('probs')!.data[2];
    console.log(`[explain-error] insertion blur seed=${seed} first ${result.scores[0]} vs ${first}, last ${result.scores[5]} vs ${last}`);
    expect(result.scores[0]).toBeCloseTo(first, 5);
    expect(result.scores[5]).toBeCloseTo(last, 5);
  });

  it('planted feature: logit 0 = sum of a 3x3 patch of a [6,6,1] image; a map on the patch deletes it first (lowest AUC), the reverse map last', async () => {
    const rt = testRuntime();
    const inPatch = (p: number) => Math.floor(p / 6) >= 2 && Math.floor(p / 6) < 5 && p % 6 >= 1 && p % 6 < 4;
    const weights = new Float32Array(36 * 2);
    for (let p = 0; p < 36; p++) weights[p * 2] = inPatch(p) ? 1 : 0;
    const spec: ModelSpec = {
      source: 'planted patch (deletion test)',
      layers: [
        { kind: 'input', name: 'input', inputs: [], shape: [6, 6, 1] },
        { kind: 'reshape', name: 'flatten', inputs: ['input'], shape: [-1] },
        { kind: 'dense', name: 'logits', inputs: ['flatten'], weights: { shape: [36, 2], data: weights }, activation: 'linear' },
        { kind: 'softmax', name: 'probs', inputs: ['logits'] },
      ],
      output: 'probs',
    };
    const ctx = context(rt, spec);
    const image = { data: new Float32Array(36).fill(1), shape: [6, 6, 1] };
    const planted = Float32Array.from({ length: 36 }, (_, p) => (inPatch(p) ? 1 : 0));
    const reverse = planted.map((v) => 1 - v);
    const options = { steps: 4, score: 'logit' as const, target: 0 };
    const good = await perturbationCurve(ctx, image, { values: planted, shape: [6, 6, 1] }, 'deletion', options);
    const bad = await perturbationCurve(ctx, image, { values: reverse, shape: [6, 6, 1] }, 'deletion', options);
    console.log(`[deletion] planted patch: map on the patch ${Array.from(good.scores).join(' ')} (auc ${good.auc}), reverse ${Array.from(bad.scores).join(' ')} (auc ${bad.auc})`);
    // 9 patch pixels of 36: the first step (9 pixels) removes the whole patch, 9 - (-9) = 18 logit
    expect(Array.from(good.scores)).toEqual([9, -9, -9, -9, -9]);
    expect(Array.from(bad.scores)).toEqual([9, 9, 9, 9, -9]);
    expect(good.auc).toBeLessThan(bad.auc);
  });

  it('rejects bad maps and options before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    const map = { values: new Float32Array(63), shape: [9, 7, 1] as [number, number, number] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(perturbationCurve(ctx, image, { values: new Float32Array(10), shape: [2, 5, 1] }, 'deletion')).rejects.toThrow(/model's input size \[9, 7, C\]/);
    await expect(perturbationCurve(ctx, image, { values: new Float32Array(63).fill(NaN), shape: [9, 7, 1] }, 'deletion')).rejects.toThrow(/non-finite/);
    await expect(perturbationCurve(ctx, image, map, 'removal' as never)).rejects.toThrow(/mode must be 'deletion' or 'insertion'/);
    await expect(perturbationCurve(ctx, image, map, 'deletion', { steps: 64 })).rejects.toThrow(/steps must be an integer in 1..63/);
    await expect(perturbationCurve(ctx, image, map, 'deletion', { substitute: 'grey' as never })).rejects.toThrow(/substitute/);
    await expect(perturbationCurve(ctx, image, map, 'deletion', { target: 7 })).rejects.toThrow(/out of range/);
    // a map explains one class: { topK } is refused by every metric (the curves here, MuFidelity and infidelity share the check)
    await expect(perturbationCurve(ctx, image, map, 'deletion', { target: { topK: 2 } as never })).rejects.toThrow(/not \{ topK \}/);
    await expect(muFidelity(ctx, image, map, { target: [{ topK: 2 }] as never })).rejects.toThrow(/muFidelity: .*not \{ topK \}/);
    await expect(infidelity(ctx, image, map, { target: { topK: 2 } as never })).rejects.toThrow(/infidelity: .*not \{ topK \}/);
    await expect(perturbationCurve(ctx, image, map, 'deletion', { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
