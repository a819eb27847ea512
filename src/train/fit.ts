/**
 * Training on the engine's own backward passes: mini-batch gradient descent on a Model's weights,
 * in place on the GPU. Per step: the batch is gathered (and augmented) from the dataset tensor,
 * run forward and backward to the weights, the loss kernel seeds the logits' gradient, and the
 * optimizer updates every weight tensor. Only the running loss and accuracy ([2] floats) are read
 * back, every `logEvery` steps and at the end of an epoch.
 */
import { InputError, LimitError, OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { gatherBatch } from '../ops/batch_gather.js';
import { accumulateLossStats, lossWithGradient, type LossKind } from '../ops/loss.js';
import { randomUniform } from '../ops/random.js';
import type { Model } from '../model/model.js';
import { AbortedError, throwIfAborted } from '../explain/progress.js';
import { Optimizer, resolveOptimizer, type OptimizerOptions } from './optimizer.js';
import { seededPermutation } from './shuffle.js';

export interface TrainingData {
  /** Images [N, H, W, C] row-major, in the model's input range. */
  images: ArrayLike<number>;
  /** Class indices [N] (softmax cross-entropy) or targets [N, K] in [0, 1] (sigmoid cross-entropy). */
  labels: ArrayLike<number>;
}

export interface TrainingProgress {
  epoch: number;
  /** Steps done in all epochs, and their total. */
  step: number;
  steps: number;
  /** Mean loss and accuracy of the steps since the last report. */
  loss: number;
  accuracy: number;
  elapsed: number;
  /** Estimated milliseconds left. */
  eta: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  validationLoss?: number;
  validationAccuracy?: number;
  /** Training throughput of the epoch (examples per second, augmentation and updates included). */
  imagesPerSecond: number;
}

export interface FitOptions {
  epochs: number;
  /** Examples per step. Default 32. */
  batchSize?: number;
  /** Default Adam (learning rate 1e-3). */
  optimizer?: OptimizerOptions;
  /**
   * 'cosine': the learning rate falls from its value to 0 along half a cosine over all steps
   * (Loshchilov and Hutter 2017, SGDR without restarts). Default 'constant'.
   */
  schedule?: 'constant' | 'cosine';
  /** SGD: L2 penalty on the gradient; Adam: decoupled decay (AdamW). Default 0. */
  weightDecay?: number;
  /** Default: softmax cross-entropy, or sigmoid cross-entropy when the model ends in a sigmoid. */
  loss?: LossKind;
  /** Fraction of the data held out (after a seeded shuffle) to validate each epoch. */
  validationSplit?: number;
  /** Held-out data (instead of validationSplit). */
  validationData?: TrainingData;
  /** Seeds the shuffles and the augmentation. Default 0. */
  seed?: number;
  augment?: { flip?: boolean; maxShift?: number };
  /** Read the running loss back every this many steps (progress). Default 20. */
  logEvery?: number;
  onProgress?: (progress: TrainingProgress) => void;
  onEpochEnd?: (stats: EpochStats) => void;
  signal?: AbortSignal;
}

export interface Evaluation {
  loss: number;
  accuracy: number;
}

/** The cosine schedule's factor at step `step` (0-based) of `steps`: 1 at the start, 0 at the end. */
export function cosineDecay(step: number, steps: number): number {
  return 0.5 * (1 + Math.cos((Math.PI * step) / steps));
}

/** Random stream of the augmentation uniforms (step s uses stream AUGMENT_STREAM + s). */
const AUGMENT_STREAM = 1 << 20;

interface Prepared {
  kind: LossKind;
  count: number;
  /** Values per example of the labels (1 for class indices, K for targets). */
  labelWidth: number;
}

function prepare(model: Model, data: TrainingData, loss: LossKind | undefined, what: string): Prepared {
  const imageSize = model.inputShape.reduce((a, b) => a * b, 1);
  if (data.images.length === 0 || data.images.length % imageSize !== 0) {
    throw new ShapeError(`${what}: ${data.images.length} image values are not a whole number of [${model.inputShape.join(', ')}] images`);
  }
  const count = data.images.length / imageSize;
  const classes = model.shapes(1).get(model.logitsName)!;
  if (classes.length !== 2) throw new ShapeError(`${what}: training needs logits [N, classes]; the model's logits '${model.logitsName}' are [${classes.join(', ')}]`);
  const endsInSigmoid = model.logitsName !== model.outputName && model.layer(model.outputName).spec.kind === 'activation';
  const kind = loss ?? (endsInSigmoid ? 'sigmoid-cross-entropy' : 'softmax-cross-entropy');
  const labelWidth = kind === 'softmax-cross-entropy' ? 1 : classes[1];
  if (data.labels.length !== count * labelWidth) {
    throw new ShapeError(`${what}: ${count} images need ${count * labelWidth} label values for ${kind}, got ${data.labels.length}`);
  }
  for (let i = 0; i < data.images.length; i++) {
    if (!Number.isFinite(data.images[i]) || Math.abs(data.images[i]) > 3.4e38) throw new InputError(`${what}: image value ${i} is ${data.images[i]}, not a finite float32`);
  }
  for (let i = 0; i < data.labels.length; i++) {
    const v = data.labels[i];
    const ok = kind === 'softmax-cross-entropy' ? Number.isInteger(v) && v >= 0 && v < classes[1] : v >= 0 && v <= 1;
    if (!ok) throw new InputError(`${what}: label ${i} is ${v}; ${kind === 'softmax-cross-entropy' ? `class indices must be integers in 0..${classes[1] - 1}` : 'targets must be in [0, 1]'}`);
  }
  return { kind, count, labelWidth };
}

function checkFits(rt: Runtime, values: number, what: string): void {
  const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
  if (values * 4 > limit) throw new LimitError(`${what} needs ${values * 4} bytes in one buffer, more than this device's ${limit}; train on a subset or shards of it`);
}

function pick(data: ArrayLike<number>, width: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) for (let j = 0; j < width; j++) out[r * width + j] = data[rows[r] * width + j];
  return out;
}

interface BatchAugmentation {
  flip: boolean;
  maxShift: number;
  seed: number;
  stream: number;
}

/** Records one step: gather, forward, loss, backward to the weights, optimizer update. */
function trainStep(model: Model, optimizer: Optimizer, images: Tensor, rows: Int32Array, labels: Float32Array, prepared: Prepared, stats: Tensor, augmentation: BatchAugmentation): void {
  const rt = model.runtime;
  const indices = rt.upload([rows.length], rows, 'batch.indices');
  const augmented = augmentation.flip || augmentation.maxShift > 0;
  const uniforms = augmented ? randomUniform(rt, [rows.length, 3], 0, 1, augmentation) : undefined;
  const x = gatherBatch(rt, images, indices, uniforms && { uniforms, flip: augmentation.flip, maxShift: augmentation.maxShift });
  const target = rt.upload(prepared.labelWidth === 1 ? [rows.length] : [rows.length, prepared.labelWidth], labels, 'batch.labels');
  const pass = model.forward(x, { forBackward: true, keep: [model.logitsName] });
  const logits = pass.value(model.logitsName);
  const { loss, logitsGrad } = lossWithGradient(rt, prepared.kind, logits, target);
  accumulateLossStats(rt, prepared.kind, logits, target, loss, stats);
  optimizer.beginStep();
  const { weights } = model.backward(pass, new Map([[model.logitsName, logitsGrad]]), { to: [], weights: true });
  for (const [layerName, grads] of weights) {
    const layer = model.layer(layerName);
    for (const [name, grad] of Object.entries(grads)) {
      optimizer.update(layer.weights[name], grad);
      grad.dispose();
    }
  }
  for (const t of [indices, x, target, loss]) t.dispose();
  uniforms?.dispose();
  pass.dispose();
}

/** Mean loss and accuracy over the rows 0..N-1 of an uploaded dataset, in batches; nothing trained. */
async function evaluateUploaded(model: Model, images: Tensor, labels: ArrayLike<number>, prepared: Prepared, batchSize: number): Promise<Evaluation> {
  const rt = model.runtime;
  const stats = rt.empty([2], 'evaluation.stats');
  rt.fill(stats, 0);
  try {
    for (let start = 0; start < prepared.count; start += batchSize) {
      const count = Math.min(batchSize, prepared.count - start);
      const rows = Int32Array.from({ length: count }, (_, i) => start + i);
      const indices = rt.upload([count], rows, 'evaluation.indices');
      const x = gatherBatch(rt, images, indices);
      const target = rt.upload(prepared.labelWidth === 1 ? [count] : [count, prepared.labelWidth], pick(labels, prepared.labelWidth, rows), 'evaluation.labels');
      const pass = model.forward(x, { keep: [model.logitsName] });
      const logits = pass.value(model.logitsName);
      const { loss, logitsGrad } = lossWithGradient(rt, prepared.kind, logits, target);
      accumulateLossStats(rt, prepared.kind, logits, target, loss, stats);
      for (const t of [indices, x, target, loss, logitsGrad]) t.dispose();
      pass.dispose();
      await rt.flush();
    }
    const [lossSum, correct] = await rt.read(stats);
    return { loss: lossSum / prepared.count, accuracy: correct / prepared.count };
  } finally {
    stats.dispose();
  }
}

/** Mean loss and accuracy of `model` on `data` (loss as in `fit`). */
export async function evaluate(model: Model, data: TrainingData, options: { batchSize?: number; loss?: LossKind } = {}): Promise<Evaluation> {
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > model.maxBatch()) throw new OptionError(`batchSize must be an integer in 1..${model.maxBatch()}, got ${batchSize}`);
  const prepared = prepare(model, data, options.loss, 'evaluate');
  checkFits(model.runtime, data.images.length, 'The evaluation set');
  const images = model.runtime.upload([prepared.count, ...model.inputShape], data.images, 'evaluation.images');
  try {
    return await evaluateUploaded(model, images, data.labels, prepared, batchSize);
  } finally {
    images.dispose();
  }
}

/** Trains `model`'s weights in place; returns each epoch's numbers. */
export async function fit(model: Model, data: TrainingData, options: FitOptions): Promise<EpochStats[]> {
  const rt = model.runtime;
  const epochs = options.epochs;
  if (!Number.isInteger(epochs) || epochs < 1) throw new OptionError(`epochs must be an integer >= 1, got ${epochs}`);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > model.maxBatch()) throw new OptionError(`batchSize must be an integer in 1..${model.maxBatch()}, got ${batchSize}`);
  const logEvery = options.logEvery ?? 20;
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new OptionError(`logEvery must be an integer >= 1, got ${logEvery}`);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new OptionError(`seed must be an integer in 0..2^32-1, got ${seed}`);
  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new OptionError(`validationSplit must be in [0, 1), got ${split}`);
  if (split > 0 && options.validationData) throw new OptionError('Give validationSplit or validationData, not both');
  const maxShift = options.augment?.maxShift ?? 0;
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new OptionError(`augment.maxShift must be an integer >= 0, got ${maxShift}`);
  const resolved = resolveOptimizer(options.optimizer, options.weightDecay ?? 0);
  const schedule = options.schedule ?? 'constant';
  if (schedule !== 'constant' && schedule !== 'cosine') throw new OptionError(`schedule must be 'constant' or 'cosine', got '${String(schedule)}'`);
  const prepared = prepare(model, data, options.loss, 'fit');
  const imageSize = data.images.length / prepared.count;

  // a seeded split: the validation rows are the last `split` of one shuffle
  const order = seededPermutation(prepared.count, seed);
  const held = Math.round(prepared.count * split);
  const trainRows = order.slice(0, prepared.count - held);
  if (trainRows.length === 0) throw new OptionError(`validationSplit ${split} leaves no training examples of ${prepared.count}`);
  const heldRows = order.slice(prepared.count - held);
  const validationData = options.validationData ?? (held > 0 ? { images: pick(data.images, imageSize, heldRows), labels: pick(data.labels, prepared.labelWidth, heldRows) } : undefined);
  const validation = validationData && prepare(model, validationData, prepared.kind, 'fit validation data');
  checkFits(rt, data.images.length, 'The training set');
  throwIfAborted(options.signal);

  const stepsPerEpoch = Math.ceil(trainRows.length / batchSize);
  const steps = epochs * stepsPerEpoch;
  const images = rt.upload([prepared.count, ...model.inputShape], data.images, 'training.images');
  const validationImages = validationData && rt.upload([validation!.count, ...model.inputShape], validationData.images, 'validation.images');
  const stats = rt.empty([2], 'training.stats');
  rt.fill(stats, 0);
  const optimizer = new Optimizer(rt, resolved);
  const history: EpochStats[] = [];
  const started = performance.now();
  let step = 0;
  let inFlight: Promise<unknown> | undefined;
  let report = { loss: 0, correct: 0, examples: 0 };
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const epochStarted = performance.now();
      const shuffled = seededPermutation(trainRows.length, (seed + Math.imul(0x9e3779b9, epoch + 1)) >>> 0).map((i) => trainRows[i]);
      let epochLoss = 0;
      let epochCorrect = 0;
      for (let start = 0; start < shuffled.length; start += batchSize) {
        throwIfAborted(options.signal);
        const rows = shuffled.subarray(start, start + batchSize);
        if (schedule === 'cosine') optimizer.learningRateScale = cosineDecay(step, steps);
        trainStep(model, optimizer, images, rows, pick(data.labels, prepared.labelWidth, rows), prepared, stats, { flip: !!options.augment?.flip, maxShift, seed, stream: AUGMENT_STREAM + step });
        step++;
        report.examples += rows.length;
        await rt.flush();
        // at most two steps in flight: progress counts finished work and an abort lands at once
        await inFlight;
        inFlight = rt.device.queue.onSubmittedWorkDone();
        if (step % logEvery !== 0 && start + batchSize < shuffled.length) continue;
        const [lossSum, correct] = await rt.read(stats);
        rt.fill(stats, 0);
        if (!Number.isFinite(lossSum)) throw new InputError(`Training diverged at step ${step}: the loss is ${lossSum}. Lower the learning rate or check the data's range.`);
        epochLoss += lossSum;
        epochCorrect += correct;
        const elapsed = performance.now() - started;
        options.onProgress?.({
          epoch, step, steps, loss: (report.loss + lossSum) / report.examples, accuracy: (report.correct + correct) / report.examples,
          elapsed, eta: (elapsed / step) * (steps - step),
        });
        report = { loss: 0, correct: 0, examples: 0 };
      }
      const seconds = (performance.now() - epochStarted) / 1000;
      const epochStats: EpochStats = { epoch, loss: epochLoss / shuffled.length, accuracy: epochCorrect / shuffled.length, imagesPerSecond: shuffled.length / seconds };
      if (validationImages) {
        const v = await evaluateUploaded(model, validationImages, validationData!.labels, validation!, batchSize);
        epochStats.validationLoss = v.loss;
        epochStats.validationAccuracy = v.accuracy;
      }
      history.push(epochStats);
      options.onEpochEnd?.(epochStats);
    }
  } catch (error) {
    // leave nothing queued: the next call starts on an idle GPU
    if (error instanceof AbortedError) await rt.finish().catch(() => {});
    throw error;
  } finally {
    optimizer.dispose();
    images.dispose();
    validationImages?.dispose();
    stats.dispose();
  }
  return history;
}
