/** What every explanation method works with, and the checks they share before any GPU work. */
import { InputError, OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import { Tensor } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';

/** An image as values in the model's input range with shape [H, W, C] (or [1, H, W, C]), or a GPU tensor [1, H, W, C]. */
export type ImageInput = Tensor | { data: ArrayLike<number>; shape: readonly number[] };

export interface ExplainContext {
  model: Model;
  rt: Runtime;
  /** The range of valid input values, [low, high]: noise scales, baselines and clipping use it. */
  inputRange: readonly [number, number];
  /** Upper bound on the batch of one chunk; the model's device limits may lower it. */
  maxChunk: number;
}

/**
 * Checks an image without touching the GPU: shape [H, W, C] or [1, H, W, C] equal to the model's
 * input, finite values, and a device that can hold one image's activations.
 */
export function checkImage(ctx: ExplainContext, image: ImageInput): void {
  ctx.model.maxBatch(); // LimitError when not even one image fits the device's buffers
  const expected = ctx.model.inputShape;
  if (image instanceof Tensor) {
    ctx.model.checkInputShape(image.shape);
    if (image.shape[0] !== 1) throw new ShapeError(`Explain one image at a time: got a batch of ${image.shape[0]}`);
    return;
  }
  const shape = image.shape.length === expected.length + 1 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`Input [${image.shape.join(', ')}] does not match the model's input [${expected.join(', ')}]: resize the image first (imageToInput)`);
  }
  for (let i = 0; i < image.data.length; i++) {
    if (!Number.isFinite(image.data[i])) {
      throw new InputError(`The input image has ${Number.isNaN(image.data[i]) ? 'NaN' : 'an infinite value'} at element ${i}: attributions of it would be meaningless`);
    }
  }
}

/** Checks (see checkImage) and uploads the image; a tensor given by the caller stays the caller's. */
export function prepareImage(ctx: ExplainContext, image: ImageInput): { tensor: Tensor; owned: boolean; data?: ArrayLike<number> } {
  checkImage(ctx, image);
  if (image instanceof Tensor) return { tensor: image, owned: false };
  return { tensor: ctx.rt.upload([1, ...ctx.model.inputShape], image.data, 'image'), owned: true, data: image.data };
}

/** Batch size of one chunk for `total` copies of the image. */
export function chunkSize(ctx: ExplainContext, total: number): number {
  return Math.max(1, Math.min(total, ctx.maxChunk, ctx.model.maxBatch()));
}

export function positiveInteger(value: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value <= 0 || value > max) throw new OptionError(`${name} must be an integer in 1..${max}, got ${value}`);
  return value;
}

export function nonNegative(value: number, name: string): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new OptionError(`${name} must be a finite number >= 0, got ${value}`);
  return value;
}
