import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { occlusion, occlusionGeometry, type OcclusionOptions } from '../../src/explain/occlusion.js';
import { AbortedError, type Progress } from '../../src/explain/progress.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { build, randomInput, sigmoidHead, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { refTensor, type RefTensor } from '../reference/tensor.js';
import { relativeL2 } from '../reference/tensor.js';

const TOLERANCE = 1e-4;

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string, tolerance = TOLERANCE): void {
  const error = relativeL2(actual, expected);
  console.log(`[explain-error] ${label} ${error.toExponential(2)} (bound ${tolerance.toExponential(2)})`);
  expect(error, `${label}: relative L2 error (NaN: an element was never written)`).toBeLessThanOrEqual(tolerance);
}

/**
 * The map's float32 floor: each value is a mean of score drops f(x) - f(x occluded), each rounded at
 * the scale of |f| (a few ulp of the score, 2^-23 |f| each), so its relative error grows as the drops
 * shrink against the score. A bound of 16 ulp of |f| over the map's rms, or TOLERANCE if larger
 * (seed 1356354478: sigmoidHead's |f| is 713 times the drops' rms; bound 1.4e-3, measured 1.2e-4).
 */
function cancellationBound(score: number, values: ArrayLike<number>): number {
  const rms = Math.sqrt(Array.from(values).reduce((a, v) => a + v * v, 0) / values.length);
  return Math.max(TOLERANCE, (16 * 2 ** -23 * Math.abs(score)) / rms);
}

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

const argmax = (values: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
};

/**
 * Occlusion in float64 from the reference executor: every window's copy in one batch, the score
 * sum over the node's positions of node[.., target], each pixel the mean drop of its windows.
 */
function referenceOcclusion(spec: ModelSpec, x: RefTensor, node: string, target: 'top' | number, window: [number, number], stride: [number, number], fill: number) {
  const [, height, width, channels] = x.shape;
  const clean = referenceForward(spec, x);
  const t = target === 'top' ? argmax(clean.get('logits')!.data) : target;
  const score = (values: RefTensor, n: number) => {
    const classes = values.shape[values.shape.length - 1];
    const perItem = values.data.length / values.shape[0];
    let total = 0;
    for (let i = t; i < perItem; i += classes) total += values.data[n * perItem + i];
    return total;
  };
  const gridY = Math.floor((height - window[0]) / stride[0]) + 1;
  const gridX = Math.floor((width - window[1]) / stride[1]) + 1;
  const windows = gridY * gridX;
  const copies = refTensor([windows, height, width, channels]);
  const perImage = height * width * channels;
  for (let v = 0; v < windows; v++) {
    const top = Math.floor(v / gridX) * stride[0];
    const left = (v % gridX) * stride[1];
    for (let y = 0; y < height; y++) {
      for (let xx = 0; xx < width; xx++) {
        const inside = y >= top && y < top + window[0] && xx >= left && xx < left + window[1];
        for (let c = 0; c < channels; c++) {
          const e = (y * width + xx) * channels + c;
          copies.data[v * perImage + e] = inside ? fill : x.data[e];
        }
      }
    }
  }
  const occluded = referenceForward(spec, copies).get(node)!;
  const base = score(clean.get(node)!, 0);
  const sum = new Float64Array(height * width);
  const count = new Float64Array(height * width);
  for (let v = 0; v < windows; v++) {
    const drop = base - score(occluded, v);
    const top = Math.floor(v / gridX) * stride[0];
    const left = (v % gridX) * stride[1];
    for (let y = top; y < top + window[0]; y++) {
      for (let xx = left; xx < left + window[1]; xx++) {
        sum[y * width + xx] += drop;
        count[y * width + xx]++;
      }
    }
  }
  return { target: t, windows, score: base, values: sum.map((s, i) => (count[i] ? s / count[i] : 0)) };
}

async function checkCase(rt: Runtime, spec: ModelSpec, x: RefTensor, options: OcclusionOptions & { window: [number, number] | number; stride: [number, number] | number }, label: string, maxChunk = 256) {
  const ctx = context(rt, spec, maxChunk);
  const reads = rt.stats.mapCalls;
  const inUse = rt.pool.buffersInUse;
  const progress: Progress[] = [];
  const result = await occlusion(ctx, { data: x.data, shape: x.shape }, { ...options, onProgress: (p) => progress.push(p) });
  console.log(`[time] occlusion ${label} ${result.windows} windows ${result.milliseconds.toFixed(1)}ms`);
  expect(rt.stats.mapCalls - reads, `${label}: one read`).toBe(1);
  expect(rt.pool.buffersInUse, `${label}: every tensor released`).toBe(inUse);
  const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  const node = options.score === 'probability' ? ctx.model.outputName : ctx.model.logitsName;
  const expected = referenceOcclusion(spec, x, node, (options.target as number | 'top' | undefined) ?? 'top', pair(options.window), pair(options.stride), options.fill ?? 0);
  expect(result.method).toBe('occlusion');
  expect(result.shape).toEqual([x.shape[1], x.shape[2], 1]);
  expect(result.target, `${label}: target`).toBe(expected.target);
  expect(result.windows).toBe(expected.windows);
  expect(Math.abs(result.score - expected.score), `${label}: clean score`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected.score)));
  expect(expected.values.some((v) => v !== 0), `${label}: non-trivial reference map`).toBe(true);
  expectClose(result.values, expected.values, `${label} map`, cancellationBound(expected.score, expected.values));
  expect(progress.at(-1)).toMatchObject({ done: result.windows, total: result.windows });
  for (let i = 1; i < progress.length; i++) expect(progress[i].done).toBeGreaterThan(progress[i - 1].done);
  return { result, progress };
}

/**
 * [12, 12, 1] -> flatten -> dense 144 -> 2 whose class 0 sums rows 4..6, columns 5..7 only (weight 1).
 * With inputs in [0.5, 1) the region's centre provably gets the largest mean drop for a 3x3 window
 * at stride 1: its windows overlap the region by (2, 3, 2) x (2, 3, 2) pixels per region row and
 * column, which beats every other pixel's overlap pattern whenever inputs vary by less than 2x.
 */
function regionModel(): ModelSpec {
  const weights = new Float32Array(144 * 2);
  for (let y = 4; y <= 6; y++) for (let x = 5; x <= 7; x++) weights[(y * 12 + x) * 2] = 1;
  return {
    source: 'regionModel (occlusion test)',
    layers: [
      build.input('input', [12, 12, 1]),
      build.reshape('flatten', 'input', [-1]),
      { kind: 'dense', name: 'logits', inputs: ['flatten'], weights: { shape: [144, 2], data: weights }, bias: { shape: [2], data: new Float32Array([0, -1]) }, activation: 'linear' },
      build.softmax('probs', 'logits'),
    ],
    output: 'probs',
  };
}

describeGpu('occlusion', () => {
  it('tinyCnn x=[1,9,7,3] window 3 stride 2 (4x3 windows), target top, fill 0', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    await checkCase(rt, spec, randomInput(spec, 1, random), { window: 3, stride: 2 }, `tinyCnn w=3 s=2 top seed=${seed}`);
  });

  it('tinyCnn x=[1,9,7,3] window [2,3] stride 1 (8x5 windows), target 2, probability, fill 0.5', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    await checkCase(rt, spec, randomInput(spec, 1, random), { window: [2, 3], stride: 1, target: 2, score: 'probability', fill: 0.5 }, `tinyCnn w=[2,3] s=1 target=2 probability seed=${seed}`);
  });

  it('chunked: tinyCnn window [2,3] stride [1,2] in chunks of 7, with progress; sigmoidHead x=[1,10,8,2] logits [1,1] window 4 stride 3 (last column uncovered)', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = tinyCnn(random);
    const { progress } = await checkCase(rt, spec, randomInput(spec, 1, random), { window: [2, 3], stride: [1, 2], target: 1 }, `tinyCnn chunk=7 seed=${seed}`, 7);
    expect(progress.map((p) => p.done)).toEqual([7, 14, 21, 24]);
    const head = sigmoidHead(random);
    const { result } = await checkCase(rt, head, randomInput(head, 1, random), { window: 4, stride: 3 }, `sigmoidHead w=4 s=3 seed=${seed}`);
    for (let y = 0; y < 10; y++) expect(result.values[y * 8 + 7], `(${y}, 7): no window covers it`).toBe(0);
  });

  it('a window over the only region a model looks at gets the largest attribution there; elsewhere exactly 0', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = regionModel();
    const x = refTensor([1, 12, 12, 1], Array.from({ length: 144 }, () => Math.fround(0.5 + 0.5 * random())));
    const { result } = await checkCase(rt, spec, x, { window: 3, stride: 1 }, `region model w=3 s=1 seed=${seed}`);
    expect(result.target).toBe(0);
    const best = argmax(result.values);
    const [by, bx] = [Math.floor(best / 12), best % 12];
    expect(by >= 4 && by <= 6 && bx >= 5 && bx <= 7, `largest attribution at (${by}, ${bx}), inside the region`).toBe(true);
    expect(best, 'the region centre, covered only by windows touching the region').toBe(5 * 12 + 6);
    for (let y = 0; y < 12; y++) {
      for (let xx = 0; xx < 12; xx++) {
        // windows covering (y, x) start at rows y-2..y, columns x-2..x: they touch the region iff y+2 >= 4 && y-2 <= 6 (same for x)
        const touches = y >= 2 && y <= 8 && xx >= 3 && xx <= 9;
        if (!touches) expect(result.values[y * 12 + xx], `(${y}, ${xx}) is never near the region`).toBe(0);
        else expect(result.values[y * 12 + xx]).toBeGreaterThan(0);
      }
    }
  });

  it('abort before the start and between chunks; tensors released', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const ctx = context(rt, spec, 4);
    const image = { data: randomInput(spec, 1, random).data, shape: [9, 7, 3] };
    const inUse = rt.pool.buffersInUse;
    const aborted = new AbortController();
    aborted.abort('stop');
    const pending = rt.pendingCommands;
    await expect(occlusion(ctx, image, { window: 2, stride: 1, signal: aborted.signal })).rejects.toThrow(AbortedError);
    expect(rt.pendingCommands, 'no GPU work recorded').toBe(pending);
    const controller = new AbortController();
    const done: number[] = [];
    await expect(occlusion(ctx, image, { window: 2, stride: 1, signal: controller.signal, onProgress: (p) => { done.push(p.done); controller.abort(); } })).rejects.toThrow(/cancelled/);
    expect(done).toEqual([4]);
    await rt.flush();
    expect(rt.pool.buffersInUse).toBe(inUse);
  });

  it('rejects bad windows, strides, fills and targets before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(occlusion(ctx, image, { window: 0 })).rejects.toThrow(/window height must be an integer in 1\.\.9, got 0/);
    await expect(occlusion(ctx, image, { window: [3, 8] })).rejects.toThrow(/window width must be an integer in 1\.\.7, got 8/);
    await expect(occlusion(ctx, image, { window: 2.5 })).rejects.toThrow(OptionError);
    await expect(occlusion(ctx, image, { window: [3] as never })).rejects.toThrow(/window must be a number or \[height, width\]/);
    await expect(occlusion(ctx, image, { window: 3, stride: 0 })).rejects.toThrow(/stride height/);
    await expect(occlusion(ctx, image, { window: 3, stride: [1, -2] })).rejects.toThrow(/stride width/);
    await expect(occlusion(ctx, image, { window: 3, fill: Number.NaN })).rejects.toThrow(/fill must be a finite number/);
    await expect(occlusion(ctx, image, { window: 3, target: 7 })).rejects.toThrow(/target 7 is out of range/);
    await expect(occlusion(ctx, { data: new Float32Array(10), shape: [2, 5] }, { window: 3 })).rejects.toThrow(/does not match/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });

  it('geometry: defaults are 1/8 of the shorter side and half of that as stride', () => {
    expect(occlusionGeometry(224, 224, {})).toMatchObject({ window: [28, 28], stride: [14, 14], grid: [15, 15], windows: 225 });
    expect(occlusionGeometry(9, 7, { window: 3, stride: 2 })).toMatchObject({ grid: [4, 3], windows: 12 });
    expect(occlusionGeometry(9, 7, {})).toMatchObject({ window: [1, 1], stride: [1, 1], windows: 63 });
  });
});
