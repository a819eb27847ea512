/**
 * Training a VAE (train/vae.ts: an encoder and a decoder model) on the engine's backward passes. Per
 * step, for a batch x of images in [0, 1] (Kingma and Welling 2014, eq. 10 with one sample per image
 * and the Gaussian KL of their appendix B):
 *   [mu, logvar] = E(x);  z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) (Philox, seeded per step)
 *   -ELBO(x) = sum over pixels of BCE(sigmoid(D'(z)), x) + KL(N(mu, exp(logvar)) || N(0, I))
 * where D' is the decoder before its sigmoid (its logits), averaged over the batch. The gradient: the
 * sigmoid cross-entropy kernel seeds d/d logits and the gaussian_kl kernel d/d [mu, logvar]; the
 * decoder's backward gives d/dz and its weights' gradients; the reparameterization's backward carries
 * d/dz on to [mu, logvar], where it adds to the KL's; the encoder's backward gives its weights'
 * gradients. One optimizer updates both models. `fit` (one model, a classification-style loss) is
 * unchanged; this is its two-model sibling, with the same optimizer, schedule and progress shape.
 */
import { InputError, LimitError, OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { add } from '../ops/add.js';
import { gatherBatch } from '../ops/batch_gather.js';
import { accumulateLossSum, gaussianKlWithGradient, lossWithGradient, type LossResult } from '../ops/loss.js';
import { randomNormal } from '../ops/random.js';
import { reparameterize, reparameterizeBackward } from '../ops/reparameterize.js';
import { reshape } from '../ops/reshape.js';
import { INPUT, type ForwardPass, type Model } from '../model/model.js';
import { AbortedError, throwIfAborted } from '../explain/progress.js';
import { cosineDecay } from './fit.js';
import { Optimizer, resolveOptimizer, type OptimizerOptions } from './optimizer.js';
import { seededPermutation } from './shuffle.js';

/** Random streams of the noise eps: training step s uses TRAIN_STREAM + s, evaluation batch b EVALUATION_STREAM + b. */
const TRAIN_STREAM = 1 << 21;
const EVALUATION_STREAM = 1 << 22;

export interface VaeEvaluation {
  /** Mean over images of the summed pixel binary cross-entropy (nats per image). */
  reconstruction: number;
  /** Mean KL(q(z|x) || N(0, I)) (nats per image). */
  kl: number;
  /** reconstruction + kl: the negative ELBO per image, an upper bound of -log p(x). */
  loss: number;
}

export interface VaeEpochStats extends VaeEvaluation {
  epoch: number;
  validation?: VaeEvaluation;
  imagesPerSecond: number;
}

export interface VaeProgress {
  epoch: number;
  step: number;
  steps: number;
  /** Mean negative ELBO of the steps since the last report. */
  loss: number;
  elapsed: number;
  eta: number;
}

export interface VaeFitOptions {
  epochs: number;
  /** Images per step. Default 32. */
  batchSize?: number;
  /** Default Adam (learning rate 1e-3). */
  optimizer?: OptimizerOptions;
  /** As in `fit`. Default 'constant'. */
  schedule?: 'constant' | 'cosine';
  /** Seeds the shuffles and the noise. Default 0. */
  seed?: number;
  /** Held-out images [N, H, W, C], evaluated after each epoch. */
  validationImages?: ArrayLike<number>;
  /** Read the running loss back every this many steps. Default 20. */
  logEvery?: number;
  onProgress?: (progress: VaeProgress) => void;
  onEpochEnd?: (stats: VaeEpochStats) => void;
  signal?: AbortSignal;
}

/** One recorded step's losses and gradients (owned by the caller). */
export interface ElboGradients {
  /** [B]: each image's summed pixel cross-entropy. */
  reconstruction: Tensor;
  /** [B]: each image's KL term. */
  kl: Tensor;
  /** Weight tensor of either model -> gradient of the batch-mean negative ELBO. */
  gradients: Map<Tensor, Tensor>;
}

/** Latent units, checked: the encoder gives [2L], the decoder takes [L] and ends in a sigmoid that gives the encoder's input shape. */
function checkPair(encoder: Model, decoder: Model): number {
  if (encoder.runtime !== decoder.runtime) throw new OptionError('The encoder and the decoder must be created on the same runtime');
  const stats = encoder.shapes(1).get(encoder.outputName)!;
  if (stats.length !== 2 || stats[1] % 2 !== 0) throw new ShapeError(`The encoder's output must be [N, 2 * latent] (mu, then log-variance), got [${stats.join(', ')}]`);
  const latent = stats[1] / 2;
  if (decoder.inputShape.length !== 1 || decoder.inputShape[0] !== latent) throw new ShapeError(`The decoder must take codes [${latent}] (half the encoder's output), it takes [${decoder.inputShape.join(', ')}]`);
  const made = decoder.shapes(1).get(decoder.outputName)!.slice(1);
  if (made.join() !== encoder.inputShape.join()) throw new ShapeError(`The decoder makes [${made.join(', ')}], the encoder reads [${encoder.inputShape.join(', ')}]`);
  const last = decoder.layer(decoder.outputName).spec;
  if (decoder.logitsName === decoder.outputName || last.kind !== 'activation' || last.activation !== 'sigmoid') {
    throw new ShapeError(`The decoder must end in a sigmoid (its input is the pixels' Bernoulli logits); '${decoder.outputName}' is a ${last.kind} layer`);
  }
  return latent;
}

interface ElboForward {
  encoded: ForwardPass;
  decoded: ForwardPass;
  stats: Tensor;
  z: Tensor;
  /** d(mean BCE)/d logits, [B, pixels]. */
  pixels: LossResult;
  kl: LossResult;
}

/** The forward half of a step: both passes and both loss kernels (their gradients included: one dispatch each). */
function elboForward(encoder: Model, decoder: Model, x: Tensor, eps: Tensor, forBackward: boolean): ElboForward {
  const rt = encoder.runtime;
  checkPair(encoder, decoder);
  const batch = x.shape[0];
  const encoded = encoder.forward(x, { forBackward });
  const stats = encoded.value(encoder.outputName);
  const z = reparameterize(rt, stats, eps);
  const decoded = decoder.forward(z, { forBackward, keep: [decoder.logitsName] });
  // the loss kernels read rows [B, pixels]: flattened copies (the pass and the caller keep their tensors)
  const flatLogits = reshape(rt, decoded.value(decoder.logitsName), [batch, -1]);
  const target = reshape(rt, x, [batch, -1]);
  const pixels = lossWithGradient(rt, 'sigmoid-cross-entropy', flatLogits, target);
  flatLogits.dispose();
  target.dispose();
  return { encoded, decoded, stats, z, pixels, kl: gaussianKlWithGradient(rt, stats) };
}

/**
 * Records the negative ELBO of the batch `x` [B, H, W, C] with noise `eps` [B, L] and its gradient
 * with respect to every weight of both models; nothing is updated.
 */
export function elboGradients(encoder: Model, decoder: Model, x: Tensor, eps: Tensor): ElboGradients {
  const rt = encoder.runtime;
  const { encoded, decoded, stats, z, pixels, kl } = elboForward(encoder, decoder, x, eps, true);
  const gradients = new Map<Tensor, Tensor>();
  const collect = (model: Model, weights: Map<string, Record<string, Tensor>>) => {
    for (const [layerName, grads] of weights) for (const [name, grad] of Object.entries(grads)) gradients.set(model.layer(layerName).weights[name], grad);
  };
  const toLogits = pixels.logitsGrad.reshapeMove(decoded.value(decoder.logitsName).shape);
  const fromDecoder = decoder.backward(decoded, new Map([[decoder.logitsName, toLogits]]), { to: [INPUT], weights: true });
  collect(decoder, fromDecoder.weights);
  const toCode = fromDecoder.gradients.get(INPUT)!;
  const throughSample = reparameterizeBackward(rt, stats, eps, toCode);
  const toStats = add(rt, throughSample, kl.logitsGrad);
  collect(encoder, encoder.backward(encoded, new Map([[encoder.outputName, toStats]]), { to: [], weights: true }).weights);
  for (const t of [z, toCode, throughSample, kl.logitsGrad]) t.dispose();
  decoded.dispose();
  encoded.dispose();
  return { reconstruction: pixels.loss, kl: kl.loss, gradients };
}

function checkImages(encoder: Model, images: ArrayLike<number>, what: string): number {
  const size = encoder.inputShape.reduce((a, b) => a * b, 1);
  if (images.length === 0 || images.length % size !== 0) throw new ShapeError(`${what}: ${images.length} image values are not a whole number of [${encoder.inputShape.join(', ')}] images`);
  for (let i = 0; i < images.length; i++) {
    if (!(images[i] >= 0 && images[i] <= 1)) throw new InputError(`${what}: image value ${i} is ${images[i]}; a VAE with Bernoulli pixels needs values in [0, 1]`);
  }
  const limit = Math.min(encoder.runtime.limits.maxStorageBufferBindingSize, encoder.runtime.limits.maxBufferSize);
  if (images.length * 4 > limit) throw new LimitError(`${what} needs ${images.length * 4} bytes in one buffer, more than this device's ${limit}; train on a subset`);
  return images.length / size;
}

async function evaluateUploaded(encoder: Model, decoder: Model, images: Tensor, batchSize: number, seed: number): Promise<VaeEvaluation> {
  const rt = encoder.runtime;
  const latent = decoder.inputShape[0];
  const count = images.shape[0];
  const totals = [rt.empty([1], 'vae.reconstruction_sum'), rt.empty([1], 'vae.kl_sum')];
  for (const t of totals) rt.fill(t, 0);
  try {
    for (let start = 0, b = 0; start < count; start += batchSize, b++) {
      const rows = Math.min(batchSize, count - start);
      const indices = rt.upload([rows], Int32Array.from({ length: rows }, (_, i) => start + i), 'vae.indices');
      const x = gatherBatch(rt, images, indices);
      const eps = randomNormal(rt, [rows, latent], 0, 1, { seed, stream: EVALUATION_STREAM + b });
      const { encoded, decoded, z, pixels, kl } = elboForward(encoder, decoder, x, eps, false);
      accumulateLossSum(rt, pixels.loss, totals[0]);
      accumulateLossSum(rt, kl.loss, totals[1]);
      for (const t of [indices, x, eps, z, pixels.loss, pixels.logitsGrad, kl.loss, kl.logitsGrad]) t.dispose();
      decoded.dispose();
      encoded.dispose();
      await rt.flush();
    }
    const [reconstruction] = await rt.read(totals[0]);
    const [kl] = await rt.read(totals[1]);
    return { reconstruction: reconstruction / count, kl: kl / count, loss: (reconstruction + kl) / count };
  } finally {
    for (const t of totals) t.dispose();
  }
}

/** Mean reconstruction, KL and negative ELBO of `images` (one seeded sample of z per image); nothing trained. */
export async function evaluateVae(encoder: Model, decoder: Model, images: ArrayLike<number>, options: { batchSize?: number; seed?: number } = {}): Promise<VaeEvaluation> {
  checkPair(encoder, decoder);
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > Math.min(encoder.maxBatch(), decoder.maxBatch())) throw new OptionError(`batchSize must be an integer in 1..${Math.min(encoder.maxBatch(), decoder.maxBatch())}, got ${batchSize}`);
  const count = checkImages(encoder, images, 'evaluateVae');
  const uploaded = encoder.runtime.upload([count, ...encoder.inputShape], images, 'vae.evaluation_images');
  try {
    return await evaluateUploaded(encoder, decoder, uploaded, batchSize, options.seed ?? 0);
  } finally {
    uploaded.dispose();
  }
}

/** Trains the encoder's and the decoder's weights in place on `images` [N, H, W, C] in [0, 1]; returns each epoch's numbers. */
export async function fitVae(encoder: Model, decoder: Model, images: ArrayLike<number>, options: VaeFitOptions): Promise<VaeEpochStats[]> {
  const rt: Runtime = encoder.runtime;
  const latent = checkPair(encoder, decoder);
  const epochs = options.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new OptionError(`epochs must be an integer >= 1, got ${epochs}`);
  const maxBatch = Math.min(encoder.maxBatch(), decoder.maxBatch());
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > maxBatch) throw new OptionError(`batchSize must be an integer in 1..${maxBatch}, got ${batchSize}`);
  const logEvery = options.logEvery ?? 20;
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new OptionError(`logEvery must be an integer >= 1, got ${logEvery}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new OptionError(`seed must be an integer in 0..2^32-1, got ${seed}`);
  const schedule = options.schedule ?? 'constant';
  if (schedule !== 'constant' && schedule !== 'cosine') throw new OptionError(`schedule must be 'constant' or 'cosine', got '${String(schedule)}'`);
  const resolved = resolveOptimizer(options.optimizer, 0);
  const count = checkImages(encoder, images, 'fitVae');
  const heldCount = options.validationImages && checkImages(encoder, options.validationImages, 'fitVae validation images');
  throwIfAborted(options.signal);

  const stepsPerEpoch = Math.ceil(count / batchSize);
  const steps = epochs * stepsPerEpoch;
  const data = rt.upload([count, ...encoder.inputShape], images, 'vae.images');
  const held = heldCount ? rt.upload([heldCount, ...encoder.inputShape], options.validationImages!, 'vae.validation_images') : undefined;
  const totals = [rt.empty([1], 'vae.reconstruction_sum'), rt.empty([1], 'vae.kl_sum')];
  for (const t of totals) rt.fill(t, 0);
  const optimizer = new Optimizer(rt, resolved);
  const history: VaeEpochStats[] = [];
  const started = performance.now();
  let step = 0;
  let inFlight: Promise<unknown> | undefined;
  let reported = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const epochStarted = performance.now();
      const order = seededPermutation(count, (seed + Math.imul(0x9e3779b9, epoch + 1)) >>> 0);
      let reconstructionSum = 0;
      let klSum = 0;
      for (let start = 0; start < count; start += batchSize) {
        throwIfAborted(options.signal);
        const rows = order.subarray(start, start + batchSize);
        if (schedule === 'cosine') optimizer.learningRateScale = cosineDecay(step, steps);
        const indices = rt.upload([rows.length], rows, 'vae.indices');
        const x = gatherBatch(rt, data, indices);
        const eps = randomNormal(rt, [rows.length, latent], 0, 1, { seed, stream: TRAIN_STREAM + step });
        const recorded = elboGradients(encoder, decoder, x, eps);
        accumulateLossSum(rt, recorded.reconstruction, totals[0]);
        accumulateLossSum(rt, recorded.kl, totals[1]);
        optimizer.beginStep();
        for (const [weights, grad] of recorded.gradients) {
          optimizer.update(weights, grad);
          grad.dispose();
        }
        for (const t of [indices, x, eps, recorded.reconstruction, recorded.kl]) t.dispose();
        step++;
        reported += rows.length;
        await rt.flush();
        // at most two steps in flight, as in fit
        await inFlight;
        inFlight = rt.device.queue.onSubmittedWorkDone();
        if (step % logEvery !== 0 && start + batchSize < count) continue;
        const [reconstruction] = await rt.read(totals[0]);
        const [kl] = await rt.read(totals[1]);
        for (const t of totals) rt.fill(t, 0);
        if (!Number.isFinite(reconstruction + kl)) throw new InputError(`VAE training diverged at step ${step}: the loss is ${reconstruction + kl}. Lower the learning rate.`);
        reconstructionSum += reconstruction;
        klSum += kl;
        const elapsed = performance.now() - started;
        options.onProgress?.({ epoch, step, steps, loss: (reconstruction + kl) / reported, elapsed, eta: (elapsed / step) * (steps - step) });
        reported = 0;
      }
      const stats: VaeEpochStats = {
        epoch, reconstruction: reconstructionSum / count, kl: klSum / count, loss: (reconstructionSum + klSum) / count,
        imagesPerSecond: count / ((performance.now() - epochStarted) / 1000),
      };
      if (held) stats.validation = await evaluateUploaded(encoder, decoder, held, batchSize, seed);
      history.push(stats);
      options.onEpochEnd?.(stats);
    }
  } catch (error) {
    if (error instanceof AbortedError) await rt.finish().catch(() => {});
    throw error;
  } finally {
    optimizer.dispose();
    data.dispose();
    held?.dispose();
    for (const t of totals) t.dispose();
  }
  return history;
}
