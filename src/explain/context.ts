/** What every explanation method works with, and the checks they share before any GPU work. */
import { InputError, OptionError, ShapeError } from '../errors.js';
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
}

/**
 * Checks an image (or a stack of `count` images) without touching the GPU: shape [H, W, C] or
 * [count, H, W, C] equal to the model's input, finite values, and a device that can hold one
 * image's activations.
 */
export function checkImage(ctx: ExplainContext, image: ImageInput, count = 1): void {
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
  const values = count * expected.reduce((a, b) => a * b, 1);
  if (image.data.length !== values) throw new ShapeError(`Input data has ${image.data.length} values, but shape [${image.shape.join(', ')}] needs ${values}`);
  for (let i = 0; i < image.data.length; i++) {
    if (!Number.isFinite(image.data[i])) {
      throw new InputError(`The input image has ${Number.isNaN(image.data[i]) ? 'NaN' : 'an infinite value'} at element ${i}: attributions of it would be meaningless`);
    }
  }
}

export function positiveInteger(value: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) throw new OptionError(`${name} must be an integer in 1..${max}, got ${value}`);
  return value;
}

export function nonNegative(value: number, name: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new OptionError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}
