import { expect, it } from 'vitest';
import type { Attribution } from '../../src/explain/attribution.js';
import { Explainer } from '../../src/explain/explainer.js';
import { UnsupportedModelError } from '../../src/model/loaders/files.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { decoderCnn, diamondCnn, inputShapeOf, mergeCnn, randomInput, residualCnn, sigmoidHead, tinyCnn } from '../model/fixtures.js';
import { referenceDeepLift } from '../reference/deeplift.js';
import { referenceForward } from '../reference/model.js';
import { refTensor, relativeL2, type RefTensor } from '../reference/tensor.js';
import { argmax } from './reference.js';

const rows = (t: RefTensor, n: number) => refTensor([1, ...t.shape.slice(1)], t.data.subarray((n * t.data.length) / t.shape[0], ((n + 1) * t.data.length) / t.shape[0]));

// tinyCnn: fused ReLU conv, max pooling 'same' (ragged windows), fused ReLU6 conv, dense;
// residualCnn: ReLU layers, a fused-ReLU6 depthwise conv, folded batch norms, a residual add;
// sigmoidHead: a fused sigmoid conv (smooth: the epsilon rule), avg pooling, fused-ReLU dense;
const CASES = [
  { name: 'tinyCnn x=[1,9,7,3]', build: tinyCnn, relu: true },
  { name: 'residualCnn x=[1,8,8,3]', build: residualCnn, relu: true },
  { name: 'sigmoidHead x=[1,10,8,2]', build: sigmoidHead, relu: false },
  // decoderCnn: a fused-ReLU transposed conv and resizes; diamondCnn: branches summed, a fused-sigmoid depthwise conv
  { name: 'decoderCnn x=[1,6,5,2]', build: decoderCnn, relu: true },
  { name: 'diamondCnn x=[1,6,5,2]', build: diamondCnn, relu: false },
];

describeGpu('deepLift', () => {
  for (const c of CASES) {
    it(`${c.name}, reference image: the float64 rescale rule, summation-to-delta to float32`, async () => {
      const { seed, random } = randomSource();
      const spec = c.build(random);
      const shape = inputShapeOf(spec);
      const x = randomInput(spec, 1, random);
      const x0 = randomInput(spec, 1, random, 0.5);
      const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
      const target = argmax(referenceForward(spec, x).get('logits')!.data);
      const result = await xai.deepLift({ data: x.data, shape }, { baselines: { data: x0.data, shape }, target: 'top' });
      const expected = referenceDeepLift(spec, x, x0, 'logits', [target]);
      const error = relativeL2(result.values, expected.attribution);
      const delta = expected.input[0] - expected.baseline[0];
      console.log(`[explain-error] deeplift ${c.name} seed=${seed} ${error.toExponential(2)} summation-to-delta ${result.completenessError!.toExponential(2)} (delta ${delta.toFixed(3)})`);
      expect(result.method).toBe('deeplift');
      expect(result.target).toBe(target);
      expect(error).toBeLessThanOrEqual(1e-4);
      expect(result.scores!.input).toBeCloseTo(expected.input[0], 4);
      expect(result.scores!.baseline).toBeCloseTo(expected.baseline[0], 4);
      // the float64 rule adds up exactly; the GPU's float32 sum to rounding (ReLU nets: no epsilon anywhere)
      const total = expected.attribution.reduce((a, v) => a + v, 0);
      expect(Math.abs(total - delta)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(delta)));
      expect(result.completenessError! * Math.abs(delta)).toBeLessThanOrEqual(c.relu ? 2e-5 : 1e-4);
      xai.dispose();
    });
  }

  it('DeepSHAP: 3 references (a stack [3,9,7,3]) give the mean of DeepLIFT over them; batched images equal one by one', async () => {
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const shape = inputShapeOf(spec);
    const images = randomInput(spec, 2, random);
    const references = randomInput(spec, 3, random, 0.7);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec, { inputRange: [-1, 1] });
    const baselines = { data: references.data, shape: references.shape };
    const inUse = rt.pool.buffersInUse;
    // a stack [2, H, W, C] as data: an array of results at run time
    const batched = (await xai.deepLift({ data: images.data, shape: images.shape }, { baselines, target: [2, 'top'] })) as unknown as Attribution[];
    expect(rt.pool.buffersInUse, 'everything the call made is freed').toBe(inUse);
    // chunks of 4 copies: the 6 (image, reference) pairs split across chunks and jobs
    const chunked = await Explainer.create(rt, spec, { inputRange: [-1, 1], maxChunk: 4 });
    const split = (await chunked.deepLift({ data: images.data, shape: images.shape }, { baselines, target: [2, 'top'] })) as unknown as Attribution[];
    chunked.dispose();
    for (let n = 0; n < 2; n++) {
      const x = rows(images, n);
      const target = n === 0 ? 2 : argmax(referenceForward(spec, x).get('logits')!.data);
      const expected = new Float64Array(x.data.length);
      let baselineScore = 0;
      for (let b = 0; b < 3; b++) {
        const one = referenceDeepLift(spec, x, rows(references, b), 'logits', [target]);
        one.attribution.forEach((v, i) => (expected[i] += v / 3));
        baselineScore += one.baseline[0] / 3;
      }
      const alone = await xai.deepLift({ data: x.data, shape }, { baselines, target: n === 0 ? 2 : 'top' });
      const error = relativeL2(batched[n].values, expected);
      console.log(`[explain-error] deepshap tinyCnn image ${n} seed=${seed} ${error.toExponential(2)} summation ${batched[n].completenessError!.toExponential(2)}`);
      expect(batched[n].method).toBe('deepshap');
      expect(error).toBeLessThanOrEqual(1e-4);
      expect(relativeL2(batched[n].values, alone.values)).toBeLessThanOrEqual(1e-6);
      expect(relativeL2(split[n].values, alone.values)).toBeLessThanOrEqual(1e-6);
      expect(batched[n].scores!.baseline).toBeCloseTo(baselineScore, 4);
      expect(batched[n].completenessError! * Math.abs(batched[n].scores!.input - baselineScore)).toBeLessThanOrEqual(2e-5);
    }
    xai.dispose();
  });

  it('refuses layers without a rescale rule before any GPU work: mergeCnn (maximum, SE multiply), a softmax score', async () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const merge = await Explainer.create(rt, mergeCnn(random), { inputRange: [-1, 1] });
    const image = { data: new Float32Array(7 * 6 * 2), shape: [7, 6, 2] };
    const inUse = rt.pool.buffersInUse;
    const refused = await merge.deepLift(image).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnsupportedModelError);
    expect((refused as UnsupportedModelError).node).toBe('high');
    expect((refused as UnsupportedModelError).op).toBe('binary');
    expect(String(refused)).toMatch(/layer 'high' \(binary\).*a maximum of two computed tensors/);
    expect(rt.pool.buffersInUse).toBe(inUse);
    merge.dispose();
    const tiny = await Explainer.create(rt, tinyCnn(random), { inputRange: [-1, 1] });
    const tinyInUse = rt.pool.buffersInUse;
    await expect(tiny.deepLift({ data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] }, { score: 'probability' })).rejects.toThrow(/layer 'probs' \(softmax\).*pre-softmax logits/);
    await expect(tiny.deepLift({ data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] }, { baselines: 'gray' as 'black' })).rejects.toThrow(/Unknown baselines 'gray'/);
    expect(rt.pool.buffersInUse).toBe(tinyInUse);
    tiny.dispose();
  });
});
