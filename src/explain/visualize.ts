/**
 * Feature visualization by gradient ascent on the input (Erhan et al. 2009, "Visualizing
 * higher-layer features of a deep network"): start from a faint random image and follow the
 * gradient of one unit's score, here a channel's mean activation or a class logit (Simonyan et
 * al. 2014, "argmax_I S_c(I) - R(I)"), under the image priors of Yosinski et al. 2015
 * ("Understanding neural networks through deep visualization": L2 decay, periodic Gaussian blur)
 * and Olah et al. 2017 ("Feature visualization": jitter, total variation).
 *
 * Every requested unit gets its own image and all of them are optimized together as one batch,
 * split where the batch planner's byte budget says (planner.ts). The whole loop stays on the GPU:
 * the start images come from the Philox generator, jitter offsets are uniforms from a seeded CPU
 * generator, the per-image gradient normalization is a GPU reduction, and the only readback is
 * one packed tensor (images + start and final activations) at the very end. Every
 * `FLUSH_EVERY` steps the recorded work is submitted and waited for (`rt.finish()`: no
 * `mapAsync`), which is where progress is reported and an AbortSignal is honoured. The opt-in
 * `onPreview` hook is the one exception: it reads the current images back.
 *
 * One step, with x the batch of images, s = (s_y, s_x) the step's jitter and roll_s the circular
 * shift by s:
 *   g  = roll_{-s}( d score / d input at roll_s(x) )       (un-jittered gradient)
 *   g /= RMS_n(g)                                           (per image n: sqrt(mean of g^2))
 *   x  = clip(x + lr * (g - l2 * d - l1 * sign(d) - tv * dTV/dx), inputRange),  d = x - center
 *   x  = blur_sigma(x)                                      (every `blurEvery` steps)
 * where center is the middle of the input range (decay pulls towards gray, as Yosinski et al.'s
 * decay of mean-subtracted images pulls towards the mean) and TV is the beta = 2 total variation
 * of Mahendran & Vedaldi 2015 ("Understanding deep image representations by inverting them"):
 * squared differences of neighbouring pixels. RMS normalization (not max-abs) makes lr the
 * root-mean-square change per pixel and step, whatever the model's gradient scale, and cannot be
 * dominated by a single outlier pixel.
 *
 * `parametrization: 'fourier'` optimizes each image's Fourier spectrum instead, in a decorrelated
 * colour space, through a sigmoid (Olah et al. 2017; fourier_image.ts) with Adam: the same loop,
 * jitter and objectives, without the pixel priors (decay, total variation, blur), which that
 * parametrization replaces by its 1/f spectrum scaling.
 */
import { LimitError, OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { INPUT } from '../model/model.js';
import { gaussianBlur } from '../ops/blur.js';
import { addGaussianNoise } from '../ops/random.js';
import { roll } from '../ops/roll.js';
import { nonNegative, positiveInteger, seedOption, type ExplainContext } from './context.js';
import { FourierParametrization, spectrumFloats, type ParametrizedImages } from './fourier_image.js';
import { planWork } from './planner.js';
import { chunks, throwIfAborted, type RunOptions } from './progress.js';
import { mulberry32 } from './random.js';
import { classCount, oneHotSeed } from './score.js';

/** Random stream of the start images (SmoothGrad uses 1, Integrated Gradients' baseline 2). */
export const VISUALIZE_STREAM = 3;
/** Steps recorded per submission: progress and abort are checked this often. */
export const FLUSH_EVERY = 8;
/** Elements one invocation sums in the first pass of the per-image gradient norm. */
const NORM_BLOCK = 256;
const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'ascent', entry, constants: { WORKGROUP_SIZE } });

export interface Regularization {
  /** Weight of the L2 decay towards the middle of the input range. Default 1e-4. */
  l2?: number;
  /** Weight of the L1 penalty on the distance from the middle of the input range. Default 0. */
  l1?: number;
  /** Weight of the (squared-difference) total variation penalty. Default 1e-3. */
  totalVariation?: number;
  /** Blur the images every this many steps (0: never). Default 4. */
  blurEvery?: number;
  /** Standard deviation of that blur, in pixels. Default 0.5. */
  blurSigma?: number;
  /**
   * Largest random roll per step, in pixels, along each of y and x (0: none). Default 4, meant for
   * images of ~100-300 pixels; keep it a small fraction of the image (on a 9 x 7 image a 4-pixel
   * roll wraps half of it around and the ascent maximizes an average over very different images).
   */
  jitter?: number;
}

export interface PreviewInfo {
  /** Steps done so far in this chunk. */
  step: number;
  /** Index (into the requested units) of the first image of `images`, and how many it holds. */
  first: number;
  count: number;
}

/**
 * What the ascent optimizes: the pixels, or each image's Fourier spectrum in a decorrelated colour
 * space behind a sigmoid (Olah et al. 2017, "Feature Visualization"; lucid's default).
 */
export type Parametrization = 'pixel' | 'fourier';

export interface AscentOptions extends RunOptions {
  /** Gradient-ascent steps. Default 256. */
  steps?: number;
  /**
   * Step size. Pixels: the RMS change of a pixel per step from the normalized gradient. Fourier:
   * Adam's learning rate on the spectrum (lucid's 0.05). Default 0.05.
   */
  learningRate?: number;
  /** Pixel-space priors; with 'fourier' only `jitter` applies (the others act on pixels). */
  regularize?: Regularization;
  /** Seeds the start images (GPU Philox) and the jitter offsets (CPU). Default 7. */
  seed?: number;
  /**
   * Pixels: standard deviation of the start images around the middle of the input range, as a
   * fraction of the range (default 0.02). Fourier: standard deviation of the start spectrum's
   * coefficients (default 0.01, lucid's).
   */
  startNoise?: number;
  /** Default 'pixel'. */
  parametrization?: Parametrization;
  /**
   * Fourier only: optimize colours in lucid's decorrelated colour space (ImageNet's colour
   * correlation). Default true for 3-channel models, false otherwise (and true needs 3 channels).
   */
  decorrelate?: boolean;
  /** Fourier only: the spectrum is scaled by 1 / |frequency|^decayPower (0: white). Default 1. */
  decayPower?: number;
  /**
   * Live preview for a UI: called with the current images ([count, H, W, C]) every
   * `previewEvery` steps. Opt-in, and the one place the loop reads back from the GPU.
   */
  onPreview?: (images: Float32Array, info: PreviewInfo) => void;
  /** Steps between previews. Required (no default) when `onPreview` is given. */
  previewEvery?: number;
}

export interface FilterVisualizationOptions extends AscentOptions {
  /** A node with NHWC output [N, H, W, C] (a convolution, pooling, activation ... layer). */
  layer: string;
  /** Channels of `layer` to visualize, one image each. Default 'all'. */
  channels?: 'all' | readonly number[];
}

export interface ClassVisualizationOptions extends AscentOptions {
  /** Class index (or indices, one image each) whose logit is maximized. */
  target: number | readonly number[];
}

export interface Visualization {
  method: 'filters' | 'class';
  parametrization: Parametrization;
  /** The node whose unit was maximized: the layer, or the logits node. */
  node: string;
  /** One image per unit, [n, H, W, C] row-major, values within the context's input range. */
  images: Float32Array;
  shape: [number, number, number, number];
  /** The channel (or class) of each image. */
  channels: number[];
  /**
   * The objective per image (mean activation of its channel, or its class logit) at the start
   * image and at the result. A channel that is exactly zero on the start image (a ReLU dead
   * there) has no gradient and only feels the regularizers: a start of 0 flags it.
   */
  activations: { start: number[]; final: number[] };
  steps: number;
  milliseconds: number;
}

/** What one run maximizes: for image i, scale * sum over positions of node[i, ..., units[i]]. */
interface Objective {
  method: Visualization['method'];
  node: string;
  units: number[];
  /** Positions per image of the node's output (1 for logits). */
  spatial: number;
  channels: number;
}

interface Settings {
  parametrization: Parametrization;
  decorrelate: boolean;
  decayPower: number;
  steps: number;
  learningRate: number;
  l2: number;
  l1: number;
  totalVariation: number;
  blurEvery: number;
  blurSigma: number;
  jitter: number;
  seed: number;
  startNoise: number;
  previewEvery: number;
}

function finite(value: number, name: string, positive: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive ? value <= 0 : value < 0)) {
    throw new OptionError(`${name} must be a finite number ${positive ? '> 0' : '>= 0'}, got ${String(value)}`);
  }
  return value;
}

function nonNegativeInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0) throw new OptionError(`${name} must be an integer >= 0, got ${String(value)}`);
  return value;
}

const PIXEL_PRIORS = ['l2', 'l1', 'totalVariation', 'blurEvery', 'blurSigma'] as const;

function resolveSettings(ctx: ExplainContext, options: AscentOptions): Settings {
  const r = options.regularize ?? {};
  const parametrization = options.parametrization ?? 'pixel';
  if (parametrization !== 'pixel' && parametrization !== 'fourier') throw new OptionError(`parametrization must be 'pixel' or 'fourier', got ${String(parametrization)}`);
  const fourier = parametrization === 'fourier';
  const channels = ctx.model.inputShape[ctx.model.inputShape.length - 1];
  if (fourier) {
    const prior = PIXEL_PRIORS.find((name) => r[name] !== undefined);
    if (prior) throw new OptionError(`regularize.${prior} acts on pixels and does not apply to parametrization 'fourier' (its prior is the 1/f spectrum scaling: see decayPower); only regularize.jitter does`);
    if (ctx.model.inputShape.length !== 3) throw new OptionError(`parametrization 'fourier' needs images [H, W, C]; the model takes [${ctx.model.inputShape.join(', ')}]`);
    if (options.decorrelate && channels !== 3) throw new OptionError(`decorrelate needs 3-channel (RGB) images; the model takes ${channels} channel(s): leave it off`);
  } else {
    if (options.decorrelate !== undefined) throw new OptionError("decorrelate applies to parametrization 'fourier' only");
    if (options.decayPower !== undefined) throw new OptionError("decayPower applies to parametrization 'fourier' only");
  }
  const blurEvery = nonNegativeInteger(r.blurEvery ?? 4, 'regularize.blurEvery');
  const blurSigma = r.blurSigma ?? 0.5;
  if (blurEvery > 0) finite(blurSigma, 'regularize.blurSigma', true);
  const seed = seedOption(options.seed, 7);
  let previewEvery = 0;
  if (options.onPreview) {
    if (typeof options.onPreview !== 'function') throw new OptionError('onPreview must be a function');
    if (options.previewEvery === undefined) throw new OptionError('onPreview needs previewEvery (steps between previews; each preview reads the images back)');
    previewEvery = positiveInteger(options.previewEvery, 'previewEvery');
  }
  return {
    parametrization,
    decorrelate: fourier && (options.decorrelate ?? channels === 3),
    decayPower: fourier ? finite(options.decayPower ?? 1, 'decayPower', false) : 0,
    steps: positiveInteger(options.steps ?? 256, 'steps', 1 << 20),
    learningRate: finite(options.learningRate ?? 0.05, 'learningRate', true),
    l2: finite(r.l2 ?? 1e-4, 'regularize.l2', false),
    l1: finite(r.l1 ?? 0, 'regularize.l1', false),
    totalVariation: finite(r.totalVariation ?? 1e-3, 'regularize.totalVariation', false),
    blurEvery,
    blurSigma,
    jitter: nonNegativeInteger(r.jitter ?? 4, 'regularize.jitter'),
    seed,
    startNoise: nonNegative(options.startNoise ?? (fourier ? 0.01 : 0.02), 'startNoise'),
    previewEvery,
  };
}

/**
 * The jitter of each step, [dy, dx] with both in -jitter..jitter: a seeded CPU generator
 * (mulberry32), shared by every image of the batch and every chunk, so chunked runs equal
 * unchunked ones. Exported so that tests can replay a run.
 */
export function jitterOffsets(seed: number, steps: number, jitter: number): Array<[number, number]> {
  const next = mulberry32(seed ^ 0x6a177e5);
  const span = 2 * jitter + 1;
  return Array.from({ length: steps }, () => [Math.floor(next() * span) - jitter, Math.floor(next() * span) - jitter]);
}

/** Checks the layer and channels of a filter visualization; throws OptionError before any GPU work. */
function filterObjective(ctx: ExplainContext, options: FilterVisualizationOptions): Objective {
  const { model } = ctx;
  const layer = options?.layer;
  if (typeof layer !== 'string' || !model.layers.has(layer)) {
    throw new OptionError(`Unknown layer '${String(layer)}' (layers: ${model.order.filter((n) => n !== model.inputName).join(', ')})`);
  }
  if (layer === model.inputName) throw new OptionError(`'${layer}' is the model input: pick a layer after it`);
  const shape = model.shapes(1).get(layer)!;
  if (shape.length !== 4) {
    throw new OptionError(`Layer '${layer}' has output [${shape.join(', ')}], not NHWC [N, H, W, C]: visualizeFilters needs a convolutional feature map (use visualizeClass for class scores)`);
  }
  const channels = shape[3];
  const requested = options.channels ?? 'all';
  let units: number[];
  if (requested === 'all') units = Array.from({ length: channels }, (_, c) => c);
  else if (Array.isArray(requested)) units = [...requested];
  else throw new OptionError(`channels must be 'all' or an array of channel indices, got ${String(requested)}`);
  if (units.length === 0) throw new OptionError('channels is empty: give at least one channel index, or \'all\'');
  for (const c of units) {
    if (!Number.isInteger(c) || c < 0 || c >= channels) throw new OptionError(`channel ${String(c)} is out of range: layer '${layer}' has ${channels} channels (0..${channels - 1})`);
  }
  return { method: 'filters', node: layer, units, spatial: shape[1] * shape[2], channels };
}

function classObjective(ctx: ExplainContext, options: ClassVisualizationOptions): Objective {
  const { model } = ctx;
  const node = model.logitsName;
  const classes = classCount(model, node);
  const target = options?.target;
  const units = typeof target === 'number' ? [target] : Array.isArray(target) ? [...target] : undefined;
  if (!units) throw new OptionError(`target must be a class index or an array of class indices, got ${String(target)}`);
  if (units.length === 0) throw new OptionError('target is empty: give at least one class index');
  for (const c of units) {
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new OptionError(`target ${String(c)} is out of range: the model has ${classes} classes (0..${classes - 1})`);
  }
  const shape = model.shapes(1).get(node)!;
  return { method: 'class', node, units, spatial: shape.slice(1, -1).reduce((a, b) => a * b, 1), channels: classes };
}

/** Maximizes the mean activation of each requested channel of `layer`, one image per channel. */
export function visualizeFilters(ctx: ExplainContext, options: FilterVisualizationOptions): Promise<Visualization> {
  try {
    return ascend(ctx, filterObjective(ctx, options), resolveSettings(ctx, options), options);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Maximizes the logit of each target class, one image per class. */
export function visualizeClass(ctx: ExplainContext, options: ClassVisualizationOptions): Promise<Visualization> {
  try {
    return ascend(ctx, classObjective(ctx, options), resolveSettings(ctx, options), options);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** means[offset + i] = the objective of image i of `x`. */
function recordObjective(ctx: ExplainContext, x: Tensor, objective: Objective, targets: Tensor, means: Tensor, offset: number): void {
  const pass = ctx.model.forward(x, { keep: [objective.node] });
  const count = x.shape[0];
  ctx.rt.dispatch(spec('channel_mean'), {
    bindings: { activation: pass.value(objective.node), targets, means },
    uniforms: { spatial: objective.spatial, channels: objective.channels, count, offset, scale: 1 / objective.spatial },
    workgroups: ctx.rt.grid(count, WORKGROUP_SIZE),
  });
  pass.dispose();
}

/** 1 / RMS of each image's gradient, [N], in two passes (block sums, then one invocation per image). */
function inverseRms(rt: Runtime, gradient: Tensor): Tensor {
  const n = gradient.shape[0];
  const elements = gradient.size / n;
  const blocks = Math.ceil(elements / NORM_BLOCK);
  const uniforms = { elements, block: NORM_BLOCK, blocks };
  const partial = rt.empty([n, blocks], 'visualize.norm_partial');
  rt.dispatch(spec('norm_partial'), { bindings: { gradient, partial }, uniforms, workgroups: rt.grid(partial.size, WORKGROUP_SIZE) });
  const invNorm = rt.empty([n], 'visualize.inv_norm');
  rt.dispatch(spec('norm_finish'), { bindings: { partial, inv_norm: invNorm }, uniforms, workgroups: rt.grid(n, WORKGROUP_SIZE) });
  partial.dispose();
  return invNorm;
}

/**
 * The pixel parametrization: the images themselves, moved by the `update` kernel (normalized
 * gradient and the priors) and blurred every `blurEvery` steps. Start images are numbered from
 * `first`, so a chunk equals its slice of the whole batch.
 */
function pixelImages(ctx: ExplainContext, settings: Settings, shape: number[], first: number): ParametrizedImages {
  const { rt } = ctx;
  const [low, high] = ctx.inputRange;
  const gray = rt.empty([1, ...shape.slice(1)], 'visualize.gray');
  rt.fill(gray, (low + high) / 2);
  const uniforms = {
    shape, learning_rate: settings.learningRate, l2: settings.l2, l1: settings.l1, total_variation: settings.totalVariation, center: (low + high) / 2, low, high,
  };
  // start images: center + startNoise * range * N(0, 1)
  const noisy = addGaussianNoise(rt, gray, shape[0], settings.startNoise * (high - low), { seed: settings.seed, stream: VISUALIZE_STREAM }, first);
  let x = rt.empty(shape, 'visualize.images');
  rt.dispatch(spec('clip'), { bindings: { image: noisy, image_next: x }, uniforms: { ...uniforms, gradient_shift_y: 0, gradient_shift_x: 0 }, workgroups: rt.grid(x.size, WORKGROUP_SIZE) });
  for (const t of [noisy, gray]) t.dispose();
  return {
    image: () => x,
    step(gradient, shiftY, shiftX, step) {
      const invNorm = inverseRms(rt, gradient);
      const next = rt.empty(shape, 'visualize.images');
      rt.dispatch(spec('update'), {
        bindings: { image: x, gradient, inv_norm: invNorm, image_next: next },
        uniforms: { ...uniforms, gradient_shift_y: shiftY, gradient_shift_x: shiftX },
        workgroups: rt.grid(next.size, WORKGROUP_SIZE),
      });
      for (const t of [x, gradient, invNorm]) t.dispose();
      x = next;
      if (settings.blurEvery > 0 && step % settings.blurEvery === 0) {
        const blurred = gaussianBlur(rt, x, settings.blurSigma);
        x.dispose();
        x = blurred;
      }
    },
    dispose: () => x.dispose(),
  };
}

async function ascend(ctx: ExplainContext, objective: Objective, settings: Settings, options: AscentOptions): Promise<Visualization> {
  const started = performance.now();
  const { rt, model } = ctx;
  const [low, high] = ctx.inputRange;
  const total = objective.units.length;
  const imageShape = model.inputShape;
  const elements = imageShape.reduce((a, b) => a * b, 1);
  const packedBytes = (total * elements + 2 * total) * 4;
  if (packedBytes > rt.limits.maxBufferSize) {
    const most = Math.floor((rt.limits.maxBufferSize / 4) / (elements + 2));
    throw new LimitError(`${total} images of [${imageShape.join(', ')}] (${packedBytes} bytes) exceed this device's ${rt.limits.maxBufferSize}-byte buffer limit: request at most ${most} units per call`);
  }
  throwIfAborted(options.signal);
  const { steps } = settings;
  const offsets = jitterOffsets(settings.seed, steps, settings.jitter);
  const isFourier = settings.parametrization === 'fourier';
  // per unit: its image in the packed result; per copy the parametrization's state beside the
  // pass (pixels: the current and next image; Fourier: spectrum, Adam's moments, the spectrum's
  // gradient and partial transform, the image, its pre-sigmoid values and its gradient)
  const copyFloats = isFourier ? 5 * spectrumFloats(imageShape) + 3 * elements + 4 : 2 * elements + 4;
  const chunk = planWork(ctx, {
    images: 1,
    jobsPerImage: total,
    copiesPerJob: 1,
    pass: { backward: { seedNode: objective.node, to: model.inputName }, keep: [objective.node] },
    imageFloats: 0,
    jobFloats: elements + 2,
    copyFloats,
  }).copiesPerChunk;
  const chunkCount = Math.ceil(total / chunk);
  const units = steps * chunkCount;
  const report = (done: number) => options.onProgress?.({ done, total: units, elapsed: performance.now() - started });
  const fourier = isFourier
    ? new FourierParametrization(rt, {
      imageShape, range: [low, high], decorrelate: settings.decorrelate, decayPower: settings.decayPower, startNoise: settings.startNoise,
      learningRate: settings.learningRate, random: { seed: settings.seed, stream: VISUALIZE_STREAM },
    })
    : undefined;
  // the objective's sign in the backward seed: the pixel update ascends, Adam descends
  const sign = fourier ? fourier.objectiveSign : 1;

  // images, then start objectives [total], then final objectives [total]: one readback at the end
  const packed = rt.empty([total * elements + 2 * total], 'visualize.result');
  const means = rt.empty([2 * total], 'visualize.objectives');
  const live = new Set<{ dispose(): void }>();
  const own = <T extends { dispose(): void }>(t: T) => (live.add(t), t);
  const drop = (t: { dispose(): void }) => (live.delete(t), t.dispose());
  try {
    for (const [chunkIndex, { start, count }] of [...chunks(total, chunk)].entries()) {
      const shape = [count, ...imageShape];
      const targets = own(rt.upload([count], objective.units.slice(start, start + count), 'visualize.targets'));
      const images = own(fourier ? fourier.start(count, start) : pixelImages(ctx, settings, shape, start));
      recordObjective(ctx, images.image(), objective, targets, means, start);
      const seedShape = model.shapes(count).get(objective.node)!;

      for (let step = 0; step < steps; step++) {
        const [dy, dx] = offsets[step];
        const x = images.image();
        const jittered = dy === 0 && dx === 0 ? x : own(roll(rt, x, dy, dx));
        const pass = model.forward(jittered, { forBackward: true });
        const seed = oneHotSeed(rt, seedShape, targets, sign / objective.spatial);
        const { gradients } = model.backward(pass, new Map([[objective.node, seed]]), { to: [INPUT] });
        pass.dispose();
        if (jittered !== x) drop(jittered);
        // the gradient at the jittered image; rolling it by minus the jitter maps it back
        images.step(gradients.get(INPUT)!, -dy, -dx, step + 1);
        if (settings.previewEvery > 0 && (step + 1) % settings.previewEvery === 0) {
          options.onPreview!(await rt.read(images.image()), { step: step + 1, first: start, count });
          throwIfAborted(options.signal);
        }
        if ((step + 1) % FLUSH_EVERY === 0 && step + 1 < steps) {
          // submit and wait for the GPU (onSubmittedWorkDone, not a readback): progress is real
          // and an abort stops the work within FLUSH_EVERY steps
          await rt.finish();
          throwIfAborted(options.signal);
          report(chunkIndex * steps + step + 1);
        }
      }
      const x = images.image();
      recordObjective(ctx, x, objective, targets, means, total + start);
      rt.copy(x, packed, x.size, 0, start * elements);
      drop(images);
      drop(targets);
      if (start + count < total) {
        await rt.finish();
        throwIfAborted(options.signal);
        report((chunkIndex + 1) * steps);
      }
    }
    rt.copy(means, packed, 2 * total, 0, total * elements);
    const values = await rt.read(packed);
    report(units);
    const objectives = values.subarray(total * elements);
    return {
      method: objective.method,
      parametrization: settings.parametrization,
      node: objective.node,
      images: values.slice(0, total * elements),
      shape: [total, ...imageShape] as [number, number, number, number],
      channels: [...objective.units],
      activations: { start: Array.from(objectives.subarray(0, total)), final: Array.from(objectives.subarray(total)) },
      steps,
      milliseconds: performance.now() - started,
    };
  } finally {
    for (const t of live) t.dispose();
    for (const t of [packed, means]) t.dispose();
    fourier?.dispose();
  }
}
