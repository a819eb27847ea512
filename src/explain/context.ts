/** What every explanation method works with, and the checks they share before any GPU work. */
import { InputError, NonFiniteError, OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import { Tensor } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';
import type { Plan } from './planner.js';
import type { Pace } from './schedule.js';

/**
 * An image as values in the model's input range with shape [H, W, C] (or [1, H, W, C]), or a GPU
 * tensor [1, H, W, C]; a stack of N images [N, H, W, C] (data or tensor) is a batch.
 */
export type ImageInput = Tensor | { data: ArrayLike<number>; shape: readonly number[] };

export interface ExplainContext {
  model: Model;
  rt: Runtime;
  /** The range of valid input values, [low, high]: noise scales, baselines and clipping use it. */
  inputRange: readonly [number, number];
  /** Upper bound on the batch of one chunk; the model's device limits may lower it. */
  maxChunk: number;
  /** Byte budget of one call's GPU buffers (see planner.ts); default defaultMaxBytes(limits). */
  maxBytes?: number;
  /** Measured milliseconds per copy by kind of work, filled by the schedule. */
  pace?: Pace;
  /** Told every plan a call makes, before any GPU work (tests compare it with the pool's peak). */
  onPlan?: (plan: Plan) => void;
  /** Pixels far outside inputRange throw instead of warning. Default false. */
  strictRange?: boolean;
  /** Says a warning (pixels far outside inputRange) at most once per explainer. Default console.warn. */
  warnOnce?: (message: string) => void;
}

/** The largest finite float32: the GPU computes in float32, so larger inputs become infinities there. */
export const FLOAT32_MAX = 3.4028234663852886e38;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return `an object with keys [${Object.keys(value).join(', ')}]`;
  return `${typeof value} ${String(value)}`;
}

/** The image's own shape, data and values, with no model in view: what every method needs first. */
function checkImageValue(image: unknown, what: string): asserts image is ImageInput {
  if (image instanceof Tensor) return;
  if (Array.isArray(image)) {
    throw new InputError(`Expected one ${what} ({ data, shape } or a Tensor), got an array of ${image.length}: a list of images is the call's first argument, each entry one image`);
  }
  if (image === null || typeof image !== 'object') throw new InputError(`Expected ${what} as { data, shape } or a Tensor, got ${describeValue(image)}`);
  const { data, shape } = image as { data?: unknown; shape?: unknown };
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new InputError(`The ${what} needs shape: [H, W, C] (positive integers) and data: the values (Float32Array or number[]); got ${describeValue(image)}`);
  }
  if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
    throw new InputError(`The ${what}'s data must be an array of numbers (Float32Array or number[]), got ${describeValue(data)}`);
  }
  const size = shape.reduce((a: number, b: number) => a * b, 1);
  if ((data as ArrayLike<number>).length !== size) {
    throw new ShapeError(`The ${what} has ${(data as ArrayLike<number>).length} values but its shape [${shape.join(', ')}] needs ${size}`);
  }
}

/**
 * Checks an image (or a stack of `count` images) without touching the GPU: one image (not null, an
 * array or a bare object), shape [H, W, C] or [count, H, W, C] equal to the model's input and
 * filled by its data, finite float32 values near the input range, and a device that can hold one
 * image's activations.
 */
export function checkImage(ctx: ExplainContext, image: ImageInput, what = 'input image', count = 1): void {
  checkImageValue(image, what);
  ctx.model.maxBatch(); // LimitError when not even one image fits the device's buffers
  const expected = ctx.model.inputShape;
  if (image instanceof Tensor) {
    ctx.model.checkInputShape(image.shape);
    if (image.shape[0] !== count) throw new ShapeError(`Expected ${count} image(s), got a tensor with a batch of ${image.shape[0]}`);
    return;
  }
  const shape = image.shape.length === expected.length + 1 && image.shape[0] === count ? image.shape.slice(1) : image.shape;
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`Input [${image.shape.join(', ')}] does not match the model's input [${expected.join(', ')}]: resize the image first (imageToInput)`);
  }
  checkValues(ctx, image.data, what);
}

/**
 * Finite in float32 terms (a float64 1e39 passes Number.isFinite but is Infinity on the GPU), and
 * not far outside the input range: values beyond it by more than the range's own width are the
 * usual mistake of raw 0..255 pixels fed to a [0, 1] or [-1, 1] model. That warns once per
 * explainer, or throws with strictRange.
 */
function checkValues(ctx: ExplainContext, data: ArrayLike<number>, what: string): void {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(Math.abs(v) <= FLOAT32_MAX)) {
      const why = typeof v !== 'number' ? `a ${typeof v}` : Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `${v}, beyond float32's range (±3.4e38) in which the GPU computes` : 'an infinite value';
      throw new InputError(`The ${what} has ${why} at element ${i}: attributions of it would be meaningless`);
    }
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const [low, high] = ctx.inputRange;
  const width = high - low;
  if (min < low - width || max > high + width) {
    const message = `The ${what}'s values span [${min}, ${max}], far outside this explainer's inputRange [${low}, ${high}] (raw 0..255 pixels?): map them onto the range (imageToInput does) or create the Explainer with the right inputRange`;
    if (ctx.strictRange) throw new InputError(message);
    (ctx.warnOnce ?? console.warn)(`${message}. Continuing; strictRange: true makes this an error.`);
  }
}

/**
 * A method's final map (or scores) read back, checked on the CPU: a model can overflow float32 on
 * an input with finite weights and pixels, and a map holding NaN or Inf is no explanation.
 */
export function checkFiniteResult(values: ArrayLike<number>, what: string): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad) {
    throw new NonFiniteError(`The ${what} holds ${bad} non-finite value(s) of ${values.length} (first at element ${first}: ${values[first]}): the model overflows float32 on this input. Check the weights' scale and the inputRange`);
  }
}

/** A seed of the GPU generator: an unsigned 32-bit integer (NaN, strings or 2^32 would silently mean another seed). */
export function seedOption(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new OptionError(`seed must be an integer in 0..2^32-1 (a uint32), got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  }
  return value;
}

export function positiveInteger(value: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) throw new OptionError(`${name} must be an integer in 1..${max}, got ${value}`);
  return value;
}

export function nonNegative(value: number, name: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new OptionError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}
