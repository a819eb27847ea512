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

/** Uploads (or checks) the image; rejects wrong shapes and NaN/Inf before any GPU work. */
export function prepareImage(ctx: ExplainContext, image: ImageInput): { tensor: Tensor; owned: boolean; data?: ArrayLike<number> } {
  const expected = ctx.model.inputShape;
  if (image instanceof Tensor) {
    ctx.model.checkInputShape(image.shape);
    if (image.shape[0] !== 1) throw new ShapeError(`Explain one image at a time: got a batch of ${image.shape[0]}`);
    return { tensor: image, owned: false };
  }
  const shape = image.shape.length === expected.length + 1 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(`Input [${image.shape.join(', ')}] does not match the model's input [${expected.join(', ')}]: resize the image first (see loadImage)`);
  }
  for (let i = 0; i < image.data.length; i++) {
    if (!Number.isFinite(image.data[i])) {
      throw new InputError(`The input image has ${Number.isNaN(image.data[i]) ? 'NaN' : 'an infinite value'} at element ${i}: attributions of it would be meaningless`);
    }
  }
  return { tensor: ctx.rt.upload([1, ...expected], image.data, 'image'), owned: true, data: image.data };
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
