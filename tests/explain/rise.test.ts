import { expect, it } from 'vitest';
import type { ExplainContext } from '../../src/explain/context.js';
import { AbortedError } from '../../src/explain/progress.js';
import { rise, riseGeometry, riseMasks, riseNoise, RISE_STREAM, type RiseGeometry } from '../../src/explain/rise.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, tinyCnn } from '../model/fixtures.js';
import { referenceForward } from '../reference/model.js';
import { uniforms } from '../reference/random.js';
import { refTensor, relativeL2, type RefTensor } from '../reference/tensor.js';
import { argmax } from './reference.js';

function context(rt: Runtime, spec: ModelSpec, maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk };
}

/** The masks in float64 from the uniforms: binary grid, half-pixel bilinear resize clamped at the edges, crop at the shift. */
function referenceMasks(noise: ArrayLike<number>, g: RiseGeometry, p: number, count: number): Float64Array {
  const s = g.gridSize;
  const per = s * s + 2;
  const out = new Float64Array(count * g.height * g.width);
  const axis = (i: number, up: number) => {
    const src = (i + 0.5) * (s / up) - 0.5;
    const f = Math.floor(src);
    return [Math.min(Math.max(f, 0), s - 1), Math.min(Math.max(f + 1, 0), s - 1), src - f];
  };
  for (let n = 0; n < count; n++) {
    const cell = (y: number, x: number) => (noise[n * per + y * s + x] < p ? 1 : 0);
    const dy = Math.min(Math.floor(Math.fround(noise[n * per + s * s] * g.cell[0])), g.cell[0] - 1);
    const dx = Math.min(Math.floor(Math.fround(noise[n * per + s * s + 1] * g.cell[1])), g.cell[1] - 1);
    for (let y = 0; y < g.height; y++) {
      const [y0, y1, ly] = axis(y + dy, g.up[0]);
      for (let x = 0; x < g.width; x++) {
        const [x0, x1, lx] = axis(x + dx, g.up[1]);
        const top = cell(y0, x0) + (cell(y0, x1) - cell(y0, x0)) * lx;
        const bottom = cell(y1, x0) + (cell(y1, x1) - cell(y1, x0)) * lx;
        out[(n * g.height + y) * g.width + x] = top + (bottom - top) * ly;
      }
    }
  }
  return out;
}

/** sum_i f(x * M_i)[target] M_i / (N p) in float64, with the masks the GPU made. */
function referenceRise(spec: ModelSpec, x: RefTensor, masks: ArrayLike<number>, count: number, p: number, node: string, target: number): Float64Array {
  const [, height, width, channels] = x.shape;
  const pixels = height * width;
  const map = new Float64Array(pixels);
  for (let n = 0; n < count; n++) {
    const copy = refTensor(x.shape, x.data.map((v, e) => Math.fround(v * masks[n * pixels + Math.floor(e / channels)])));
    const score = referenceForward(spec, copy).get(node)!.data[target];
    for (let q = 0; q < pixels; q++) map[q] += (score * masks[n * pixels + q]) / (count * p);
  }
  return map;
}

describeGpu('rise', () => {
  it('masks [40, 9, 7] from s=3 grids at p=0.3: the Philox uniforms replayed, the resize in float64; mean near p over 2000 masks', async () => {
    const rt = testRuntime();
    const { seed } = randomSource();
    const g = riseGeometry(9, 7, 3);
    expect(g).toEqual({ height: 9, width: 7, gridSize: 3, cell: [3, 3], up: [12, 12] });
    const noise = riseNoise(rt, 2000, 3, seed);
    const values = await rt.read(noise);
    const replayed = values.map((_, i) => Math.fround(1 - uniforms(seed, RISE_STREAM, 0, i)[2]));
    expect(relativeL2(values, replayed), `noise seed=${seed}`).toBe(0);
    // masks 17..56: a chunk that does not start at 0
    const masks = riseMasks(rt, noise, g, Math.fround(0.3), 17, 40);
    const gpu = await rt.read(masks);
    const expected = referenceMasks(values.subarray(17 * 11), g, Math.fround(0.3), 40);
    const error = relativeL2(gpu, expected);
    console.log(`[explain-error] rise masks seed=${seed} ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-6);
    expect(gpu.some((v) => v > 0 && v < 1), 'smooth (interpolated) values').toBe(true);
    masks.dispose();
    const allMasks = riseMasks(rt, noise, g, Math.fround(0.3), 0, 2000);
    const all = await rt.read(allMasks);
    allMasks.dispose();
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    console.log(`[rise] mean mask ${mean.toFixed(4)} (p = 0.3)`);
    expect(Math.abs(mean - 0.3)).toBeLessThan(0.02);
    noise.dispose();
  });

  for (const maxChunk of [256, 16]) {
    it(`tinyCnn x=[1,9,7,3], 50 masks s=3 p=0.5, probability and logit scores, chunks of ${maxChunk}, against float64 with the GPU's masks`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = tinyCnn(random);
      const ctx = context(rt, spec, maxChunk);
      const x = randomInput(spec, 1, random);
      const image = { data: x.data, shape: x.shape.slice(1) };
      const g = riseGeometry(9, 7, 3);
      const noise = riseNoise(rt, 50, 3, seed);
      const maskTensor = riseMasks(rt, noise, g, 0.5, 0, 50);
      const masks = await rt.read(maskTensor);
      maskTensor.dispose();
      noise.dispose();
      const inUse = rt.pool.buffersInUse;
      for (const [score, target] of [['probability', 'top'], ['logit', 2]] as const) {
        const node = score === 'logit' ? 'logits' : 'probs';
        const label = `rise tinyCnn score=${score} target=${target} maxChunk=${maxChunk} seed=${seed}`;
        const progress: number[] = [];
        const reads = rt.stats.mapCalls;
        const result = await rise(ctx, image, { masks: 50, gridSize: 3, seed, score, target, onProgress: (p) => progress.push(p.done) });
        expect(rt.stats.mapCalls - reads, `${label}: one read`).toBe(1);
        const t = target === 'top' ? argmax(referenceForward(spec, x).get('logits')!.data) : target;
        expect(result.target).toBe(t);
        expect(progress.at(-1)).toBe(50);
        if (maxChunk === 16) expect(progress.length).toBe(4);
        const error = relativeL2(result.values, referenceRise(spec, x, masks, 50, 0.5, node, t));
        console.log(`[explain-error] ${label} ${error.toExponential(2)}`);
        expect(error, label).toBeLessThan(1e-5);
      }
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }

  it('rejects bad options before any GPU work; an aborted signal stops it', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const ctx = context(rt, tinyCnn(random));
    const image = { data: new Float32Array(9 * 7 * 3), shape: [9, 7, 3] };
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    await expect(rise(ctx, image, { masks: 0 })).rejects.toThrow(/masks must be an integer/);
    await expect(rise(ctx, image, { gridSize: 8 })).rejects.toThrow(/gridSize must be an integer in 1..7/);
    await expect(rise(ctx, image, { probability: 0 })).rejects.toThrow(/probability must be a number in \(0, 1\]/);
    await expect(rise(ctx, image, { seed: -1 })).rejects.toThrow(/seed/);
    await expect(rise(ctx, image, { target: 9 })).rejects.toThrow(/out of range/);
    await expect(rise(ctx, image, { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
  });
});
