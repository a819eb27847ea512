/**
 * The checks every explanation makes before touching the GPU (src/explain/context.ts and the
 * method-specific ones), the check of what comes back, and Explainer.dispose. A refused call must
 * hold no GPU buffer: the pool is counted around 50 refused calls of each kind.
 */
import { expect, it } from 'vitest';
import { InputError, NonFiniteError, OptionError, ShapeError, XaiError } from '../../src/errors.js';
import { Explainer } from '../../src/explain/explainer.js';
import type { ImageInput } from '../../src/explain/context.js';
import type { LayerSpec } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, tinyCnn } from '../model/fixtures.js';

async function setup(options: Parameters<typeof Explainer.create>[2] = {}) {
  const { seed, random } = randomSource();
  const spec = tinyCnn(random); // input [9, 7, 3], 5 classes
  const rt = testRuntime();
  const xai = await Explainer.create(rt, spec, { inputRange: [-1, 1], ...options });
  const image = { data: randomInput(spec, 1, random, 0.9).data, shape: inputShapeOf(spec) };
  return { seed, spec, rt, xai, image };
}

/** Awaits a call that must be refused and returns its error. */
async function refusal(call: Promise<unknown>, what = 'the call'): Promise<Error> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof Error)) expect.fail(`${what} was not refused`);
  return error;
}

describeGpu('explanation input checks', () => {
  it('tinyCnn [9,7,3]: 50 refused calls each (IG blurSigma, short baseline, SmoothGrad variant toString) hold no buffers', async () => {
    const { rt, xai, image } = await setup();
    await xai.saliency(image); // the pool at its steady size
    const live = rt.pool.liveBuffers;
    const inUse = rt.pool.buffersInUse;
    const short = { data: new Float32Array(10), shape: image.shape };
    for (let i = 0; i < 50; i++) {
      expect(await refusal(xai.integratedGradients(image, { baseline: 'blur', blurSigma: -1 }))).toBeInstanceOf(OptionError);
      expect(await refusal(xai.integratedGradients(image, { baseline: 'blur', blurSigma: Number.NaN }))).toBeInstanceOf(OptionError);
      expect(await refusal(xai.integratedGradients(image, { baseline: short }))).toBeInstanceOf(ShapeError);
      const variant = await refusal(xai.smoothGrad(image, { variant: 'toString' as 'mean' }));
      expect(variant).toBeInstanceOf(OptionError);
      expect(variant.message).toBe("Unknown SmoothGrad variant 'toString' (use mean, squared or vargrad)");
      expect(await refusal(xai.smoothGrad(image, { seed: Number.NaN }))).toBeInstanceOf(OptionError);
      expect(await refusal(xai.saliency(null as unknown as ImageInput))).toBeInstanceOf(InputError);
    }
    expect([rt.pool.liveBuffers, rt.pool.buffersInUse]).toEqual([live, inUse]);
  });

  it('null, {}, an array of images, a string, missing or short data: typed errors that say what an image is', async () => {
    const { xai, image } = await setup();
    const cases: Array<[unknown, RegExp]> = [
      [null, /Expected input image as \{ data, shape \} or a Tensor, got null/],
      [undefined, /got undefined/],
      [{}, /needs shape: \[H, W, C\].*got an object with keys \[\]/],
      // a list of images is a batch; a list inside it is not an image
      [[[image, image]], /Expected one list entry 0 .*got an array of 2: a list of images is the call's first argument/],
      [[image, null], /Expected list entry 1 as \{ data, shape \} or a Tensor, got null/],
      ['face.png', /got string face\.png/],
      [{ shape: image.shape }, /data must be an array of numbers/],
      [{ data: image.data.subarray(0, 63), shape: [9, 7, 1] }, /does not match the model's input \[9, 7, 3\]/],
      [{ data: image.data.subarray(1), shape: image.shape }, /has 188 values but its shape \[9, 7, 3\] needs 189/],
    ];
    for (const [bad, message] of cases) {
      const error = await refusal(xai.saliency(bad as ImageInput));
      expect(error).toBeInstanceOf(XaiError);
      expect(error.message).toMatch(message);
    }
  });

  it('values beyond float32 (1e39) are refused though finite in float64; NaN and Inf too', async () => {
    const { xai, image } = await setup();
    for (const [value, message] of [[1e39, /1e\+39, beyond float32's range/], [-Infinity, /an infinite value/], [Number.NaN, /NaN at element 5/]] as const) {
      const data = Array.from(image.data);
      data[5] = value;
      const error = await refusal(xai.saliency({ data, shape: image.shape }));
      expect(error).toBeInstanceOf(InputError);
      expect(error.message).toMatch(message);
    }
  });

  it('raw 0..255 pixels for a [-1, 1] model warn once per explainer; strictRange throws', async () => {
    const warnings: string[] = [];
    const { seed, spec, image } = await setup();
    const raw = { data: Float32Array.from(image.data, (v) => Math.round((v + 1) * 127.5)), shape: image.shape };
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1], onWarning: (m) => warnings.push(m) });
    await xai.saliency(raw);
    await xai.smoothGrad(raw, { samples: 2, seed });
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/values span \[\d+, \d+\], far outside this explainer's inputRange \[-1, 1\] \(raw 0\.\.255 pixels\?\)/);
    await xai.saliency(image); // in range: no warning
    expect(warnings.length).toBe(1);
    const strict = await Explainer.create(testRuntime(), spec, { inputRange: [-1, 1], strictRange: true });
    expect(await refusal(strict.saliency(raw))).toBeInstanceOf(InputError);
    await strict.saliency(image);
  });

  it("a string target '3' that is no label is a typed error saying to pass a number; 'happy' lists the labels", async () => {
    const { xai, image } = await setup();
    const error = await refusal(xai.saliency(image, { target: '3' }));
    expect(error).toBeInstanceOf(OptionError);
    expect(error.message).toMatch(/^target '3' is not a class name of .*: pass 3 as a number for a class index$/);
    expect((await refusal(xai.gradCam(image, { target: 'happy' }))).message).toMatch(/'happy' is not a class name .*\(labels: a, b, c, d, e\); use a class index or 'top'/);
  });

  it('seeds NaN, "abc", 2^32, -1 and 1.5 are OptionErrors for SmoothGrad, IG and visualizeClass', async () => {
    const { xai, image } = await setup();
    for (const seed of [Number.NaN, 'abc', 2 ** 32, -1, 1.5]) {
      const bad = seed as number;
      for (const call of [xai.smoothGrad(image, { seed: bad }), xai.integratedGradients(image, { baseline: 'uniform', seed: bad }), xai.visualizeClass({ target: 1, seed: bad })]) {
        const error = await refusal(call);
        expect(error).toBeInstanceOf(OptionError);
        expect(error.message).toMatch(/^seed must be an integer in 0\.\.2\^32-1 \(a uint32\), got/);
      }
    }
    await xai.smoothGrad(image, { samples: 2, seed: 2 ** 32 - 1 }); // the largest uint32 is a seed
  });

  it('a model that overflows float32 on a finite input: saliency, SmoothGrad, IG, Grad-CAM and occlusion raise NonFiniteError', async () => {
    const { random } = randomSource();
    const spec = tinyCnn(random);
    for (const name of ['conv1', 'conv2']) {
      const conv = spec.layers.find((l) => l.name === name) as Extract<LayerSpec, { kind: 'conv2d' }>;
      conv.filter.data.forEach((v, i) => (conv.filter.data[i] = Math.abs(v) * 1e20)); // finite weights, activations ~1e40
      conv.activation = 'relu'; // conv2's ReLU6 would clip the overflow away
    }
    const xai = await Explainer.create(testRuntime(), spec, { inputRange: [0, 1] });
    const image = { data: new Float32Array(9 * 7 * 3).fill(0.5), shape: [9, 7, 3] };
    const calls = { saliency: xai.saliency(image), smoothGrad: xai.smoothGrad(image, { samples: 2 }), ig: xai.integratedGradients(image, { steps: 2 }), gradCam: xai.gradCam(image), occlusion: xai.occlusion(image) };
    for (const [name, call] of Object.entries(calls)) {
      const error = await refusal(call, name);
      expect(error, name).toBeInstanceOf(NonFiniteError);
      expect(error.message).toMatch(/holds \d+ non-finite value\(s\) of \d+ .*overflows float32/);
    }
  });

  it('dispose() frees the weights of a model it made from a spec and refuses later calls; a Model passed in stays usable', async () => {
    const { rt, xai, image } = await setup();
    await xai.saliency(image);
    const inUse = rt.pool.buffersInUse;
    xai.dispose();
    expect(rt.pool.buffersInUse).toBeLessThan(inUse);
    expect(rt.pool.buffersInUse).toBe(0);
    expect(await refusal(xai.saliency(image))).toBeInstanceOf(OptionError);
    xai.dispose(); // twice is harmless
    const { spec } = await setup();
    const shared = await Explainer.create(rt, spec, { inputRange: [-1, 1] });
    const other = await Explainer.create(rt, shared.model, { inputRange: [-1, 1] });
    other.dispose();
    expect((await shared.saliency(image)).values.length).toBe(189);
  });
});
