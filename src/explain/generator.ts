/**
 * Class images constrained by a generator (the course's "constraint from a generator"; Nguyen et
 * al. 2016, "Synthesizing the preferred inputs for neurons in neural networks via deep generator
 * networks"): instead of ascending a class score over pixels, ascend it over a generator's latent
 * code, x* = G(z*), z* = argmax_z S_c(G(z)) - lambda ||z||^2, so the image stays one the
 * generator can make, i.e. looks like data. Gradients go through the classifier to its input and
 * on through the generator to z, all on the GPU; z follows Adam (its decoupled decay is the
 * ||z||^2 prior pulling the code towards the generator's usual range around 0). All classes are one
 * batch; the only readbacks are the final images and probabilities.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { INPUT, type Model } from '../model/model.js';
import { adamStep } from '../ops/optimizer.js';
import { randomNormal } from '../ops/random.js';
import { reshape } from '../ops/reshape.js';
import { nonNegative, positiveInteger, type ExplainContext } from './context.js';
import { throwIfAborted, type RunOptions } from './progress.js';

/** Random stream of the starting codes (other methods use streams 1-3). */
export const GENERATOR_STREAM = 4;
/** Steps recorded per submission: progress and abort are checked this often. */
const FLUSH_EVERY = 10;

export interface GeneratorClassOptions extends RunOptions {
  /** Classes of the explained model to make images of. */
  classes: number[];
  /** Ascent steps. Default 200. */
  steps?: number;
  /** Adam's learning rate on z. Default 0.1. */
  learningRate?: number;
  /** Decay of z towards 0 per step (decoupled, times the learning rate). Default 0.1 (keeps a VAE decoder's codes near its N(0, I) prior; docs/training.md has the measurements). */
  latentDecay?: number;
  /**
   * Starting codes per class, all ascended in one batch; each class keeps the image of its most
   * probable start (a latent ascent can end in a local optimum another start avoids). Default 3
   * (with the default decay, 0 of 60 digit class images below probability 0.9, against 3 of 30 with one start).
   */
  restarts?: number;
  /** Standard deviation of the starting codes (a VAE decoder's prior is N(0, I); a plain autoencoder's codes also spread over units, not tenths). Default 1. */
  startDeviation?: number;
  seed?: number;
}

export interface GeneratorVisualization {
  method: 'generator-class';
  /** [B, H, W, C]: one image per requested class, in the model's input range when the generator's output is. */
  images: Float32Array;
  shape: [number, number, number, number];
  classes: number[];
  /** The explained model's probability (its output) of each class on its own image. */
  probabilities: number[];
  /** [B, latent]: the final codes. */
  latents: Float32Array;
  milliseconds: number;
}

export async function visualizeClassWithGenerator(ctx: ExplainContext, generator: Model, options: GeneratorClassOptions): Promise<GeneratorVisualization> {
  const started = performance.now();
  const { model, rt } = ctx;
  if (generator.runtime !== rt) throw new OptionError('The generator must be created on the explainer\'s runtime');
  const classes = options.classes;
  const count = model.shapes(1).get(model.logitsName)!;
  if (count.length !== 2) throw new ShapeError(`Class images need logits [N, classes]; '${model.logitsName}' is [${count.join(', ')}]`);
  if (!Array.isArray(classes) || classes.length === 0 || classes.some((c) => !Number.isInteger(c) || c < 0 || c >= count[1])) {
    throw new OptionError(`classes must be a non-empty list of class indices in 0..${count[1] - 1}, got ${JSON.stringify(classes)}`);
  }
  const steps = positiveInteger(options.steps ?? 200, 'steps', 100000);
  const learningRate = nonNegative(options.learningRate ?? 0.1, 'learningRate');
  const latentDecay = nonNegative(options.latentDecay ?? 0.1, 'latentDecay');
  const deviation = nonNegative(options.startDeviation ?? 1, 'startDeviation');
  const restarts = positiveInteger(options.restarts ?? 3, 'restarts', 1024);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new OptionError(`seed must be an integer in 0..2^32-1, got ${seed}`);
  const latent = generator.inputShape;
  const made = generator.shapes(1).get(generator.outputName)!;
  const imageSize = model.inputShape.reduce((a, b) => a * b, 1);
  if (made.slice(1).reduce((a, b) => a * b, 1) !== imageSize) {
    throw new ShapeError(`The generator makes [${made.slice(1).join(', ')}] (${made.slice(1).reduce((a, b) => a * b, 1)} values), the model takes [${model.inputShape.join(', ')}] (${imageSize})`);
  }
  // row b ascends class rows[b]: start r of class i is row i * restarts + r (restarts 1: one row per class)
  const rows = classes.flatMap((c) => new Array<number>(restarts).fill(c));
  const batch = rows.length;
  if (batch > Math.min(model.maxBatch(), generator.maxBatch())) throw new OptionError(`${classes.length} classes x ${restarts} starts at once exceed this device's batch limit; ask for fewer`);
  throwIfAborted(options.signal);

  // -one-hot rows: backward of -S_c, so that Adam's descent ascends the class score
  const seedValues = new Float32Array(batch * count[1]);
  rows.forEach((c, b) => (seedValues[b * count[1] + c] = -1));
  const negativeOneHot = rt.upload([batch, count[1]], seedValues, 'generator.seed');
  const z = randomNormal(rt, [batch, ...latent], 0, deviation, { seed, stream: GENERATOR_STREAM });
  const moments = [rt.empty(z.shape, 'generator.m'), rt.empty(z.shape, 'generator.v')];
  for (const m of moments) rt.fill(m, 0);
  const imageShape = [batch, ...model.inputShape];
  let inFlight: Promise<unknown> | undefined;
  try {
    for (let step = 1; step <= steps; step++) {
      const made = generator.forward(z, { forBackward: true });
      const images = reshape(rt, made.value(generator.outputName), imageShape);
      const scored = model.forward(images, { forBackward: true });
      const seedCopy = rt.empty(negativeOneHot.shape, 'generator.seed');
      rt.copy(negativeOneHot, seedCopy);
      const toImage = model.backward(scored, new Map([[model.logitsName, seedCopy]])).gradients.get(INPUT)!;
      scored.dispose();
      images.dispose();
      const toOutput = reshape(rt, toImage, made.value(generator.outputName).shape);
      toImage.dispose();
      const toCode = generator.backward(made, new Map([[generator.outputName, toOutput]])).gradients.get(INPUT)!;
      made.dispose();
      adamStep(rt, z, toCode, moments[0], moments[1], { learningRate, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: latentDecay, step });
      toCode.dispose();
      if (step % FLUSH_EVERY === 0 || step === steps) {
        await rt.flush();
        await inFlight;
        inFlight = rt.device.queue.onSubmittedWorkDone();
        options.onProgress?.({ done: step, total: steps, elapsed: performance.now() - started });
        if (step < steps) throwIfAborted(options.signal);
      }
    }
    const made = generator.forward(z);
    const images = reshape(rt, made.value(generator.outputName), imageShape);
    made.dispose();
    const scored = model.forward(images);
    const output = await rt.read(scored.value(model.outputName));
    scored.dispose();
    const allImages = await rt.read(images);
    const allLatents = await rt.read(z);
    images.dispose();
    const best = classes.map((c, i) => {
      let row = i * restarts;
      for (let b = row + 1; b < (i + 1) * restarts; b++) if (output[b * count[1] + c] > output[row * count[1] + c]) row = b;
      return row;
    });
    const latentSize = allLatents.length / batch;
    const pick = (all: Float32Array, size: number) => {
      const out = new Float32Array(classes.length * size);
      best.forEach((row, i) => out.set(all.subarray(row * size, (row + 1) * size), i * size));
      return out;
    };
    return {
      method: 'generator-class', images: pick(allImages, imageSize), latents: pick(allLatents, latentSize),
      probabilities: best.map((row, i) => output[row * count[1] + classes[i]]),
      shape: [classes.length, ...model.inputShape] as GeneratorVisualization['shape'], classes: [...classes], milliseconds: performance.now() - started,
    };
  } catch (error) {
    await rt.finish().catch(() => {});
    throw error;
  } finally {
    for (const t of [negativeOneHot, z, ...moments] as Tensor[]) t.dispose();
  }
}
