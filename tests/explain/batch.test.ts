import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import type { Attribution } from '../../src/explain/attribution.js';
import { Explainer } from '../../src/explain/explainer.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, tinyCnn } from '../model/fixtures.js';
import { referenceBackward, referenceForward, referenceScoreGradient } from '../reference/model.js';
import { refTensor, type RefTensor } from '../reference/tensor.js';

/** max |a - b| over max |b|: batched results must equal one-image calls to 1e-5 of the map's scale. */
function scaledError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    error = Math.max(error, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return error / (scale || 1);
}

function images(spec: ModelSpec, count: number, random: () => number): { data: Float32Array; shape: number[] }[] {
  return Array.from({ length: count }, () => ({ data: Float32Array.from(randomInput(spec, 1, random, 0.8).data), shape: inputShapeOf(spec) }));
}

type Method = 'saliency' | 'smoothGrad' | 'integratedGradients' | 'gradCam' | 'occlusion';
const OPTIONS: Record<Method, object> = {
  saliency: {},
  smoothGrad: { samples: 5, noise: 0.2 },
  integratedGradients: { steps: 6 },
  gradCam: { plusPlus: true },
  occlusion: { window: 3, stride: 2 },
};

async function call(xai: Explainer, method: Method, input: unknown, options: object): Promise<unknown> {
  return (xai[method] as (i: unknown, o: object) => Promise<unknown>).call(xai, input, options);
}

describeGpu('batches', () => {
  for (const method of Object.keys(OPTIONS) as Method[]) {
    it(`${method}: 3 images x targets ['top', 2, 'c'] in chunks of 4 equal one-image calls (tinyCnn [9,7,3])`, async () => {
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const pictures = images(spec, 3, random);
      const options = { ...OPTIONS[method], seed };
      // chunks of 4 copies: SmoothGrad's and IG's chunks hold the tail of one job and the head of the next
      const batched = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1], maxChunk: 4 });
      const single = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
      const targets = ['top', 2, 'c'] as const;
      const many = (await call(batched, method, pictures, { ...options, target: targets })) as Attribution[];
      expect(many).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        const one = (await call(single, method, pictures[i], { ...options, target: targets[i] })) as Attribution;
        expect(many[i].target, `image ${i} target`).toBe(one.target);
        const error = scaledError(many[i].values, one.values);
        console.log(`[batch-error] ${method} image ${i} seed=${seed} ${error.toExponential(2)}`);
        expect(error).toBeLessThanOrEqual(1e-5);
        if (method === 'integratedGradients') expect(many[i].completenessError).toBeCloseTo(one.completenessError!, 4);
      }
      expect(many[1].target).toBe(2);
      expect(many[2].target).toBe(2); // 'c' is label 2
    });
  }

  it('activations: a stack [3,9,7,3] in chunks of 2 equals one-image calls (conv2 [3,2,6] and the logits)', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const pictures = images(spec, 3, random);
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1], maxChunk: 2 });
    const stack = { data: Float32Array.from(pictures.flatMap((p) => [...p.data])), shape: [3, ...inputShapeOf(spec)] };
    for (const layer of ['conv2', 'logits']) {
      const many = await xai.activations([...pictures], { layer });
      const stacked = (await xai.activations(stack, { layer })) as unknown as typeof many;
      expect(many).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        const one = await xai.activations(pictures[i], { layer });
        expect(many[i].shape).toEqual(one.shape);
        expect(scaledError(many[i].values, one.values), `${layer} image ${i}`).toBeLessThanOrEqual(1e-5);
        expect(scaledError(stacked[i].values, one.values), `${layer} stacked image ${i}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('{ topK: 3 } gives 3 results per image in rank order, and a stack [2,9,7,3] equals the array of its images', async () => {
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const pictures = images(spec, 2, random);
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1], maxChunk: 5 });
    const stack = { data: Float32Array.from([...pictures[0].data, ...pictures[1].data]), shape: [2, ...inputShapeOf(spec)] };
    const ranked = (await xai.smoothGrad(stack as unknown as typeof pictures, { samples: 3, seed, target: { topK: 3 } })) as Attribution[][];
    expect(ranked).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      const logits = referenceForward(spec, refTensor([1, ...inputShapeOf(spec)], pictures[i].data)).get('logits')!.data;
      const order = Array.from(logits, (_, c) => c).sort((a, b) => logits[b] - logits[a] || a - b);
      expect(ranked[i].map((r) => r.target), `image ${i} ranks`).toEqual(order.slice(0, 3));
      for (const result of ranked[i]) {
        const one = await xai.smoothGrad(pictures[i], { samples: 3, seed, target: result.target });
        expect(scaledError(result.values, one.values)).toBeLessThanOrEqual(1e-5);
      }
    }
    const single = await xai.saliency(pictures[0], { target: { topK: 2 } });
    expect(single.map((r) => r.target)).toEqual(
      [...referenceForward(spec, refTensor([1, ...inputShapeOf(spec)], pictures[0].data)).get('logits')!.data].map((v, c) => [v, c]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 2).map(([, c]) => c),
    );
  });

  it('rejects a target list of the wrong length, unknown names and empty lists before any GPU work', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const xai = await Explainer.create(rt, spec);
    const pictures = images(spec, 2, random);
    const pending = rt.pendingCommands;
    const inUse = rt.pool.buffersInUse;
    await expect(xai.saliency(pictures, { target: [1] })).rejects.toThrow(/target has 1 entries for 2 images/);
    await expect(xai.saliency(pictures, { target: 'zebra' })).rejects.toThrow(/'zebra' is not a class name .*labels: a, b, c, d, e/);
    await expect(xai.saliency(pictures, { target: { topK: 6 } })).rejects.toThrow(OptionError);
    await expect(xai.saliency([], {})).rejects.toThrow(/image list is empty/);
    await expect(xai.saliency([pictures[0], { data: new Float32Array(5), shape: [1, 5] }])).rejects.toThrow(ShapeError);
    await expect(xai.saliency(pictures[0], { score: { node: 'nope' } })).rejects.toThrow(/score node 'nope'/);
    await expect(xai.saliency(pictures[0], { score: { node: 'logits', channels: [7] } })).rejects.toThrow(/channels must be channel indices of 'logits' in 0..4/);
    await expect(xai.saliency(pictures[0], { score: { node: 'logits', channels: 1 }, target: 2 })).rejects.toThrow(/leave target out/);
    expect(rt.pendingCommands).toBe(pending);
    expect(rt.pool.buffersInUse).toBe(inUse);
  });
});

/** d/dx of score = REDUCE over positions of sum_c in channels of node[.., c], in float64. */
function referenceSpecGradient(spec: ModelSpec, x: RefTensor, node: string, channels: number[], reduce: 'sum' | 'mean' | 'max'): Float64Array {
  const values = referenceForward(spec, x).get(node)!;
  const c = values.shape[values.shape.length - 1];
  const positions = values.data.length / c;
  const perPosition = Array.from({ length: positions }, (_, s) => channels.reduce((a, ch) => a + values.data[s * c + ch], 0));
  const best = Math.max(...perPosition);
  const ties = perPosition.filter((v) => v === best).length;
  const seed = refTensor(values.shape);
  for (let s = 0; s < positions; s++) {
    const weight = reduce === 'sum' ? 1 : reduce === 'mean' ? 1 / positions : perPosition[s] === best ? 1 / ties : 0;
    for (const ch of channels) seed.data[s * c + ch] = weight;
  }
  return Float64Array.from(referenceBackward(spec, x, new Map([[node, seed]])).gradients.get('input')!.data);
}

describeGpu('score specs', () => {
  for (const reduce of ['sum', 'mean', 'max'] as const) {
    it(`spatial head conv2 [1,3,2,6] channels [0, 3] reduced by ${reduce}: saliency and batched SmoothGrad equal the reference`, async () => {
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const pictures = images(spec, 2, random);
      const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1] });
      const score = { node: 'conv2', channels: [0, 3], reduce };
      const maps = await xai.saliency(pictures, { score });
      for (let i = 0; i < 2; i++) {
        const expected = referenceSpecGradient(spec, refTensor([1, ...inputShapeOf(spec)], pictures[i].data), 'conv2', [0, 3], reduce);
        const error = scaledError(maps[i].values, expected);
        console.log(`[score-error] conv2 ${reduce} image ${i} seed=${seed} ${error.toExponential(2)}`);
        expect(error).toBeLessThanOrEqual(1e-4);
        expect(maps[i].target).toBe(0);
      }
      const batched = await xai.smoothGrad(pictures, { score, samples: 3, seed });
      const one = await xai.smoothGrad(pictures[1], { score, samples: 3, seed });
      expect(scaledError(batched[1].values, one.values)).toBeLessThanOrEqual(1e-5);
    });
  }

  it("regression head (sigmoid's margin, sigmoidHead logits [1,1]) and a channel list on tinyCnn's logits", async () => {
    const { random } = randomSource();
    const tiny = tinyCnn(random);
    const x = randomInput(tiny, 1, random, 0.8);
    const xai = await Explainer.create(testRuntime(), tiny, { inputRange: [-1, 1] });
    const both = await xai.saliency({ data: x.data, shape: inputShapeOf(tiny) }, { score: { node: 'logits', channels: [1, 4] } });
    const expected = referenceScoreGradient(tiny, x, 'logits', [1]).data.map((v, e) => v + referenceScoreGradient(tiny, x, 'logits', [4]).data[e]);
    expect(scaledError(both.values, expected)).toBeLessThanOrEqual(1e-4);

    const { sigmoidHead } = await import('../model/fixtures.js');
    const head = sigmoidHead(random);
    const input = randomInput(head, 1, random);
    const regression = await (await Explainer.create(testRuntime(), head)).integratedGradients({ data: input.data, shape: inputShapeOf(head) }, { score: { node: 'logits', channels: 0 }, steps: 32 });
    expect(regression.target).toBe(0);
    const margin = referenceForward(head, input).get('logits')!.data[0];
    expect(regression.scores!.input).toBeCloseTo(margin, 4);
    // completeness (Sundararajan et al. 2017, Prop. 1): the attributions sum to f(x) - f(baseline)
    const total = regression.values.reduce((a, v) => a + v, 0);
    const difference = regression.scores!.input - regression.scores!.baseline;
    expect(Math.abs(total - difference)).toBeLessThanOrEqual(0.05 * Math.abs(difference) + 1e-3);
  });
});
