/**
 * Feature visualization by gradient ascent (src/explain/visualize.ts): one step against a float64
 * CPU composition (reference executor + the update formula, replaying the GPU's Philox start
 * images and the CPU jitter offsets), the whole loop without readbacks, that the ascent actually
 * raises each unit, chunking, progress, abort and option errors.
 */
import { expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import type { ExplainContext } from '../../src/explain/context.js';
import { AbortedError, type Progress } from '../../src/explain/progress.js';
import { jitterOffsets, visualizeClass, visualizeFilters, VISUALIZE_STREAM, type AscentOptions, type Visualization } from '../../src/explain/visualize.js';
import { Model } from '../../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import { randomSource, relativeError, GPU_TOLERANCE } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, tinyCnn } from '../model/fixtures.js';
import { referenceForward, referenceScoreGradient } from '../reference/model.js';
import { gaussian } from '../reference/random.js';
import { rollRef } from '../reference/roll.js';
import { refTensor, type RefTensor } from '../reference/tensor.js';

type Conv = Extract<LayerSpec, { kind: 'conv2d' }>;

function context(rt: Runtime, spec: ModelSpec, inputRange: [number, number] = [-1, 1], maxChunk = 256): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange, maxChunk };
}

// ---- float64 composition of one ascent step -------------------------------------------------

/** Separable Gaussian blur, in-bounds taps renormalised (shaders/blur.wgsl). */
function blurRef(t: RefTensor, sigma: number): RefTensor {
  const [n, h, w, c] = t.shape;
  const radius = Math.ceil(3 * sigma);
  const pass = (input: RefTensor, alongY: boolean) => {
    const out = refTensor(input.shape);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let k = 0; k < c; k++) {
            let total = 0;
            let norm = 0;
            for (let s = -radius; s <= radius; s++) {
              const yy = alongY ? y + s : y;
              const xx = alongY ? x : x + s;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              const weight = Math.exp(-(s * s) / (2 * sigma * sigma));
              total += weight * input.data[((b * h + yy) * w + xx) * c + k];
              norm += weight;
            }
            out.data[((b * h + y) * w + x) * c + k] = total / norm;
          }
    return out;
  };
  return pass(pass(t, true), false);
}

interface StepSettings {
  seed: number;
  startNoise: number;
  learningRate: number;
  l2: number;
  l1: number;
  totalVariation: number;
  jitter: number;
  blurSigma: number;
}

/** The start images (GPU Philox replayed) and one step of visualize.ts's update, in float64. */
function referenceOneStep(spec: ModelSpec, node: string, units: number[], scale: number, range: [number, number], s: StepSettings): { start: RefTensor; next: RefTensor; clipped: number } {
  const shape = [units.length, ...inputShapeOf(spec)];
  const [n, h, w, c] = shape;
  const elements = h * w * c;
  const [low, high] = range;
  const center = (low + high) / 2;
  const clip = (v: number) => Math.min(high, Math.max(low, v));
  const start = refTensor(shape);
  for (let k = 0; k < n; k++)
    for (let e = 0; e < elements; e++) start.data[k * elements + e] = clip(center + s.startNoise * (high - low) * gaussian(s.seed, VISUALIZE_STREAM, k, e));

  const [[dy, dx]] = jitterOffsets(s.seed, 1, s.jitter);
  const gradient = rollRef(referenceScoreGradient(spec, rollRef(start, dy, dx), node, units, scale), -dy, -dx);
  const next = refTensor(shape);
  let clipped = 0;
  const at = (b: number, y: number, x: number, k: number) => start.data[((b * h + y) * w + x) * c + k];
  for (let b = 0; b < n; b++) {
    let squares = 0;
    for (let e = 0; e < elements; e++) squares += gradient.data[b * elements + e] ** 2;
    // as shaders/ascent.wgsl norm_finish: an all-zero gradient (a dead unit) stays zero
    const rms = Math.max(Math.sqrt(squares / elements), 1e-20);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) {
          const i = ((b * h + y) * w + x) * c + k;
          const v = start.data[i];
          // d/dv of sum of squared differences to the in-image 4-neighbours
          let tv = 0;
          if (y > 0) tv += 2 * (v - at(b, y - 1, x, k));
          if (y < h - 1) tv += 2 * (v - at(b, y + 1, x, k));
          if (x > 0) tv += 2 * (v - at(b, y, x - 1, k));
          if (x < w - 1) tv += 2 * (v - at(b, y, x + 1, k));
          const d = v - center;
          const updated = v + s.learningRate * (gradient.data[i] / rms - s.l2 * d - s.l1 * Math.sign(d) - s.totalVariation * tv);
          if (updated !== clip(updated)) clipped++;
          next.data[i] = clip(updated);
        }
  }
  return { start, next: blurRef(next, s.blurSigma), clipped };
}

/** Mean over positions of channel units[i] of image i of `node`. */
function referenceObjective(spec: ModelSpec, x: RefTensor, node: string, units: number[]): number[] {
  const value = referenceForward(spec, x).get(node)!;
  const channels = value.shape[value.shape.length - 1];
  const perItem = value.data.length / value.shape[0];
  return units.map((unit, i) => {
    let total = 0;
    for (let p = unit; p < perItem; p += channels) total += value.data[i * perItem + p];
    return total / (perItem / channels);
  });
}

function logTime(what: string, result: Visualization): void {
  console.log(`[time] ${what} ${result.shape[0]} channels, steps ${result.steps}: ${result.milliseconds.toFixed(0)} ms (${(result.milliseconds / result.steps).toFixed(2)} ms/step)`);
}

/**
 * tinyCnn whose conv1 and conv2 start every channel slightly above zero: inputRange [-1, 1] puts
 * the start image at 0, conv1's biases are 0.02 (so conv1 = ReLU(0.02 + ...)), and conv2's biases
 * are chosen so that its pre-activation at an all-0.02 pool1 is 0.02. With a start image of
 * exactly 0 (startNoise 0) every channel of both layers then starts at exactly 0.02: none is dead
 * (a channel at zero has no gradient through its ReLU and a "10x" ratio of zero would be
 * meaningless), and each has room to grow by two orders of magnitude (conv2's ReLU6 caps at 6).
 */
function liveTinyCnn(random: () => number): ModelSpec {
  const spec = tinyCnn(random);
  const conv1 = spec.layers.find((l) => l.name === 'conv1') as Conv;
  const conv2 = spec.layers.find((l) => l.name === 'conv2') as Conv;
  conv1.bias!.data.fill(0.02);
  const [kh, kw, cin, cout] = conv2.filter.shape;
  for (let o = 0; o < cout; o++) {
    let sum = 0;
    for (let i = 0; i < kh * kw * cin; i++) sum += conv2.filter.data[i * cout + o];
    conv2.bias!.data[o] = 0.02 - 0.02 * sum;
  }
  return spec;
}

describeGpu('visualize', () => {
  it('one step of filters conv2 [3 ch] and class logits [2] on tinyCnn [N, 9, 7, 3] equals the float64 composition', async () => {
    const { seed, random } = randomSource();
    const spec = liveTinyCnn(random);
    const rt = testRuntime();
    const cases: Array<{ name: string; range: [number, number]; startNoise: number; node: string; units: number[]; run: (ctx: ExplainContext, o: AscentOptions) => Promise<Visualization> }> = [
      { name: 'filters conv2 [0, 3, 5]', range: [-1, 1], startNoise: 0.05, node: 'conv2', units: [0, 3, 5], run: (ctx, o) => visualizeFilters(ctx, { ...o, layer: 'conv2', channels: [0, 3, 5] }) },
      { name: 'class logits [4, 1]', range: [-1, 2], startNoise: 0.1, node: 'logits', units: [4, 1], run: (ctx, o) => visualizeClass(ctx, { ...o, target: [4, 1] }) },
    ];
    for (const c of cases) {
      const ctx = context(rt, spec, c.range);
      const scale = c.node === 'logits' ? 1 : 1 / (3 * 2);
      // a large step, every regularizer on, with weights that matter; the step seed (start noise,
      // jitter) is the first from the run's seed whose first jitter offset moves both axes (so the
      // roll and its adjoint are exercised) and whose reference step clips some pixels
      const settings = (stepSeed: number): StepSettings => ({ seed: stepSeed, startNoise: c.startNoise, learningRate: 0.5, l2: 0.05, l1: 0.02, totalVariation: 0.01, jitter: 2, blurSigma: 0.7 });
      const suitable = (s: StepSettings, clipped: number) => clipped > 0 && jitterOffsets(s.seed, 1, 2)[0].every((v) => v !== 0);
      let s = settings(seed);
      let expected = referenceOneStep(spec, c.node, c.units, scale, c.range, s);
      for (let tries = 0; tries < 50 && !suitable(s, expected.clipped); tries++) {
        s = settings((s.seed + 1) >>> 0);
        expected = referenceOneStep(spec, c.node, c.units, scale, c.range, s);
      }
      const result = await c.run(ctx, {
        steps: 1, seed: s.seed, startNoise: s.startNoise, learningRate: s.learningRate,
        regularize: { l2: s.l2, l1: s.l1, totalVariation: s.totalVariation, jitter: s.jitter, blurEvery: 1, blurSigma: s.blurSigma },
      });
      expect(result.shape).toEqual(expected.next.shape);
      expect(result.channels).toEqual(c.units);
      // compare the change of the images (the images themselves are dominated by the start)
      const change = Float64Array.from(result.images, (v, i) => v - expected.start.data[i]);
      const expectedChange = expected.next.data.map((v, i) => v - expected.start.data[i]);
      const error = relativeError(change, expectedChange);
      console.log(`[op-error] visualize one step ${c.name} (seed ${seed}, step seed ${s.seed}, jitter ${jitterOffsets(s.seed, 1, 2)[0]}) ${error.toExponential(2)}`);
      expect(error, `${c.name}, seed ${seed}`).toBeLessThanOrEqual(GPU_TOLERANCE);
      expect(relativeError(result.images, expected.next.data)).toBeLessThanOrEqual(GPU_TOLERANCE);
      expect(expected.clipped, 'the step pushes some pixels out of the input range, so clipping is exercised').toBeGreaterThan(0);
      expect(jitterOffsets(s.seed, 1, 2)[0].every((v) => v !== 0), 'the jitter moves both axes').toBe(true);
      expect(expected.next.data.some((v, i) => Math.abs(v - expected.start.data[i]) > 0.1), 'the step moves pixels').toBe(true);
      // the objectives read back with the images
      const start = referenceObjective(spec, expected.start, c.node, c.units);
      const final = referenceObjective(spec, expected.next, c.node, c.units);
      expect(relativeError(result.activations.start, start), `start objectives, seed ${seed}`).toBeLessThanOrEqual(GPU_TOLERANCE);
      expect(relativeError(result.activations.final, final), `final objectives, seed ${seed}`).toBeLessThanOrEqual(GPU_TOLERANCE);
      ctx.model.dispose();
    }
  });

  it('256 steps of filters conv1 [4 ch] on tinyCnn [N, 9, 7, 3] read back once, at the end', async () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const ctx = context(rt, liveTinyCnn(random));
    const before = { ...rt.stats };
    const progress: Progress[] = [];
    const result = await visualizeFilters(ctx, { layer: 'conv1', channels: 'all', steps: 256, onProgress: (p) => progress.push(p) });
    logTime('visualizeFilters conv1', result);
    expect(rt.stats.mapCalls - before.mapCalls, 'one packed readback (images + objectives)').toBe(1);
    expect(rt.stats.submits - before.submits, 'submitted every 8 steps').toBeGreaterThanOrEqual(256 / 8);
    expect(progress.length).toBe(256 / 8);
    expect(progress.map((p) => p.done)).toEqual([...Array.from({ length: 31 }, (_, i) => 8 * (i + 1)), 256]);
    expect(progress.every((p) => p.total === 256)).toBe(true);
    expect(result.images.length).toBe(4 * 9 * 7 * 3);
    expect(result.images.every((v) => v >= -1 && v <= 1)).toBe(true);
    ctx.model.dispose();
  });

  it('filters conv1 [4 ch] and conv2 [6 ch] of tinyCnn rise at least 10x from a start just above zero', async () => {
    const { seed, random } = randomSource();
    const spec = liveTinyCnn(random);
    const rt = testRuntime();
    const ctx = context(rt, spec);
    // startNoise 0: the start image is exactly the range's middle (0), where liveTinyCnn puts
    // every channel of conv1 and conv2 at exactly 0.02. Default blur, TV and L2; jitter 1 on
    // conv1 and 0 on conv2, not the default 4 (meant for images of 100+ pixels): on a 9 x 7 image
    // a 4-pixel roll wraps half of it around, and conv2's 3 x 2 map sits behind a stride-2 max
    // pool, so even a 1-pixel roll changes which pixels the pooling picks and the ascent optimizes
    // an average over quite different images. Worst ratio of any channel over 64 random weight
    // seeds at 128 steps: conv1 (jitter 1) 25x, conv2 (jitter 0) 26x; conv2 with jitter 1 fell
    // below 10x for 2 seeds (9.5x, 9.8x). Jitter itself is checked by the one-step test.
    for (const [layer, jitter] of [['conv1', 1], ['conv2', 0]] as const) {
      const result = await visualizeFilters(ctx, { layer, steps: 128, startNoise: 0, regularize: { jitter } });
      logTime(`visualizeFilters ${layer}`, result);
      const { start, final } = result.activations;
      console.log(`[visualize] ${layer} start ${start.map((v) => v.toFixed(3)).join(' ')} final ${final.map((v) => v.toFixed(3)).join(' ')}`);
      start.forEach((s, c) => {
        expect(s, `${layer} channel ${c} starts alive (seed ${seed})`).toBeGreaterThan(0);
        expect(final[c], `${layer} channel ${c}: ${s} -> ${final[c]} (seed ${seed})`).toBeGreaterThanOrEqual(10 * s);
      });
      // the reported objectives are those of the returned images
      const x = refTensor(result.shape, result.images);
      expect(relativeError(final, referenceObjective(spec, x, layer, result.channels))).toBeLessThanOrEqual(GPU_TOLERANCE);
    }
    ctx.model.dispose();
  });

  it('class visualization of tinyCnn logits [5] raises every target logit', async () => {
    const { seed, random } = randomSource();
    const rt = testRuntime();
    // liveTinyCnn, not tinyCnn: with random biases every ReLU channel of conv1 (or conv2) can be
    // off on a near-gray image (2 of 16 seeds in a sweep), and then no gradient reaches the
    // logits and nothing moves. jitter 1, not the default 4: on a 9 x 7 image a 4-pixel roll
    // wraps half of the image around, and the ascent then maximizes the logit averaged over
    // shifts so large that a position-dependent dense head cannot keep the unshifted image's
    // logit high. Start logits are within about +-0.5; over 16 seeds the smallest rise of any
    // class was 0.57 (64 steps, default blur and TV), hence the 0.2 bound.
    const ctx = context(rt, liveTinyCnn(random));
    const result = await visualizeClass(ctx, { target: [0, 1, 2, 3, 4], steps: 64, regularize: { jitter: 1 } });
    logTime('visualizeClass logits', result);
    const { start, final } = result.activations;
    console.log(`[visualize] logits start ${start.map((v) => v.toFixed(3)).join(' ')} final ${final.map((v) => v.toFixed(3)).join(' ')}`);
    start.forEach((s, c) => expect(final[c], `class ${c}: ${s} -> ${final[c]} (seed ${seed})`).toBeGreaterThan(s + 0.2));
    ctx.model.dispose();
  });

  it('a batch split into chunks of 2 equals the whole batch [5 ch of conv2]', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const rt = testRuntime();
    const whole = context(rt, spec);
    const split = context(rt, spec, [-1, 1], 2);
    const options = { layer: 'conv2', channels: [5, 1, 2, 0, 4], steps: 12 };
    const a = await visualizeFilters(whole, options);
    const before = rt.stats.mapCalls;
    const progress: number[] = [];
    const b = await visualizeFilters(split, { ...options, onProgress: (p) => progress.push(p.done) });
    expect(rt.stats.mapCalls - before).toBe(1);
    expect(progress).toEqual([8, 12, 20, 24, 32, 36]);
    expect(relativeError(b.images, a.images)).toBeLessThanOrEqual(1e-6);
    expect(relativeError(b.activations.final, a.activations.final)).toBeLessThanOrEqual(1e-6);
    whole.model.dispose();
    split.model.dispose();
  });

  it('onPreview reads the images every previewEvery steps (opt-in readbacks)', async () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const ctx = context(rt, tinyCnn(random));
    const before = rt.stats.mapCalls;
    const previews: Array<{ step: number; length: number }> = [];
    const result = await visualizeFilters(ctx, { layer: 'conv1', channels: [1, 2], steps: 8, previewEvery: 4, onPreview: (images, info) => previews.push({ step: info.step, length: images.length }) });
    expect(previews).toEqual([{ step: 4, length: 2 * 9 * 7 * 3 }, { step: 8, length: 2 * 9 * 7 * 3 }]);
    expect(rt.stats.mapCalls - before).toBe(3);
    expect(result.images.length).toBe(2 * 9 * 7 * 3);
    ctx.model.dispose();
  });

  it('an AbortSignal stops the loop with AbortedError', async () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const ctx = context(rt, tinyCnn(random));
    const controller = new AbortController();
    const progress: number[] = [];
    const run = visualizeFilters(ctx, {
      layer: 'conv2', steps: 256, signal: controller.signal,
      onProgress: (p) => {
        progress.push(p.done);
        if (p.done >= 16) controller.abort('user');
      },
    });
    await expect(run).rejects.toBeInstanceOf(AbortedError);
    expect(progress, 'stopped at the first check after the abort').toEqual([8, 16]);
    // aborted before any GPU work
    const dispatches = rt.stats.dispatches;
    const pending = rt.pendingCommands;
    await expect(visualizeClass(ctx, { target: 0, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(rt.stats.dispatches).toBe(dispatches);
    expect(rt.pendingCommands).toBe(pending);
    // the runtime still works afterwards
    const after = await visualizeClass(ctx, { target: 2, steps: 2 });
    expect(after.images.every(Number.isFinite)).toBe(true);
    ctx.model.dispose();
  });

  it('bad options throw OptionError before any GPU work (tinyCnn)', async () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const ctx = context(rt, tinyCnn(random));
    const bad: Array<[string, () => Promise<Visualization>, RegExp]> = [
      ['steps 0', () => visualizeFilters(ctx, { layer: 'conv1', steps: 0 }), /steps/],
      ['steps 1.5', () => visualizeFilters(ctx, { layer: 'conv1', steps: 1.5 }), /steps/],
      ['unknown layer', () => visualizeFilters(ctx, { layer: 'conv9' }), /Unknown layer 'conv9'.*conv1/],
      ['the input', () => visualizeFilters(ctx, { layer: 'input' }), /model input/],
      ['a dense layer', () => visualizeFilters(ctx, { layer: 'logits' }), /not NHWC.*visualizeClass/],
      ['channel 4 of 4', () => visualizeFilters(ctx, { layer: 'conv1', channels: [0, 4] }), /channel 4 is out of range.*4 channels/],
      ['channel -1', () => visualizeFilters(ctx, { layer: 'conv1', channels: [-1] }), /channel -1/],
      ['channel 0.5', () => visualizeFilters(ctx, { layer: 'conv1', channels: [0.5] }), /channel 0.5/],
      ['no channels', () => visualizeFilters(ctx, { layer: 'conv1', channels: [] }), /empty/],
      ['learningRate 0', () => visualizeFilters(ctx, { layer: 'conv1', learningRate: 0 }), /learningRate/],
      ['learningRate NaN', () => visualizeFilters(ctx, { layer: 'conv1', learningRate: Number.NaN }), /learningRate/],
      ['l2 -1', () => visualizeFilters(ctx, { layer: 'conv1', regularize: { l2: -1 } }), /regularize.l2/],
      ['totalVariation Infinity', () => visualizeFilters(ctx, { layer: 'conv1', regularize: { totalVariation: Infinity } }), /totalVariation/],
      ['blurSigma 0', () => visualizeFilters(ctx, { layer: 'conv1', regularize: { blurSigma: 0 } }), /blurSigma/],
      ['blurEvery 1.5', () => visualizeFilters(ctx, { layer: 'conv1', regularize: { blurEvery: 1.5 } }), /blurEvery/],
      ['jitter -2', () => visualizeFilters(ctx, { layer: 'conv1', regularize: { jitter: -2 } }), /jitter/],
      ['seed -1', () => visualizeFilters(ctx, { layer: 'conv1', seed: -1 }), /seed/],
      ['startNoise -1', () => visualizeFilters(ctx, { layer: 'conv1', startNoise: -1 }), /startNoise/],
      ['preview without previewEvery', () => visualizeFilters(ctx, { layer: 'conv1', onPreview: () => {} }), /previewEvery/],
      ['class 5 of 5', () => visualizeClass(ctx, { target: 5 }), /target 5 is out of range.*5 classes/],
      ['no classes', () => visualizeClass(ctx, { target: [] }), /empty/],
    ];
    const dispatches = rt.stats.dispatches;
    const pending = rt.pendingCommands;
    for (const [name, call, message] of bad) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error, name).toBeInstanceOf(OptionError);
      expect((error as Error).message, name).toMatch(message);
    }
    expect(rt.stats.dispatches).toBe(dispatches);
    expect(rt.pendingCommands).toBe(pending);
    // blurSigma is not checked when blurring is off
    await expect(visualizeFilters(ctx, { layer: 'conv1', steps: 1, regularize: { blurEvery: 0, blurSigma: 0 } })).resolves.toBeDefined();
    ctx.model.dispose();
  });
});
