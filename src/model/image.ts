/**
 * Turning pictures into model inputs: RGBA pixels -> resized (bilinear, half-pixel centres like
 * tf.image.resizeBilinear with halfPixelCenters) -> 1 or 3 channels (ITU-R 601 luma for one) ->
 * values mapped linearly from 0..255 onto the model's input range.
 */
import { OptionError } from '../errors.js';

/** Decoded pixels: 4 bytes per pixel, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface ImageToInputOptions {
  /** Target [height, width, channels]; channels 1 (grayscale) or 3 (RGB). */
  shape: readonly number[];
  /** Values 0..255 map linearly onto this range. Default [0, 1]. */
  inputRange?: readonly [number, number];
}

/** A model input [H, W, C] as float32 in `inputRange`. */
export function imageToInput(image: RgbaImage, options: ImageToInputOptions): { data: Float32Array; shape: number[] } {
  const [height, width, channels] = options.shape;
  if (channels !== 1 && channels !== 3) throw new OptionError(`Images feed models with 1 or 3 input channels; this model has ${channels}`);
  if (image.data.length !== image.width * image.height * 4) throw new OptionError(`RGBA image of ${image.width}x${image.height} needs ${image.width * image.height * 4} bytes, got ${image.data.length}`);
  const [low, high] = options.inputRange ?? [0, 1];
  const scale = (high - low) / 255;
  const out = new Float32Array(height * width * channels);
  const sy = image.height / height;
  const sx = image.width / width;
  const pixel = (x: number, y: number, c: number) => image.data[(y * image.width + x) * 4 + c];
  const sample = (fx: number, fy: number, c: number) => {
    const x0 = Math.floor(fx);
    const y0 = Math.floor(fy);
    const tx = fx - x0;
    const ty = fy - y0;
    const xa = Math.min(Math.max(x0, 0), image.width - 1);
    const xb = Math.min(Math.max(x0 + 1, 0), image.width - 1);
    const ya = Math.min(Math.max(y0, 0), image.height - 1);
    const yb = Math.min(Math.max(y0 + 1, 0), image.height - 1);
    const top = pixel(xa, ya, c) * (1 - tx) + pixel(xb, ya, c) * tx;
    const bottom = pixel(xa, yb, c) * (1 - tx) + pixel(xb, yb, c) * tx;
    return top * (1 - ty) + bottom * ty;
  };
  for (let y = 0; y < height; y++) {
    const fy = (y + 0.5) * sy - 0.5;
    for (let x = 0; x < width; x++) {
      const fx = (x + 0.5) * sx - 0.5;
      const r = sample(fx, fy, 0);
      const g = sample(fx, fy, 1);
      const b = sample(fx, fy, 2);
      const at = (y * width + x) * channels;
      if (channels === 1) out[at] = low + scale * (0.299 * r + 0.587 * g + 0.114 * b);
      else {
        out[at] = low + scale * r;
        out[at + 1] = low + scale * g;
        out[at + 2] = low + scale * b;
      }
    }
  }
  return { data: out, shape: [height, width, channels] };
}

/** The rectangle [x, x + width) x [y, y + height) of `image`. */
export function cropImage(image: RgbaImage, x: number, y: number, width: number, height: number): RgbaImage {
  if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > image.width || y + height > image.height) {
    throw new OptionError(`crop ${x},${y},${width},${height} does not lie inside the ${image.width}x${image.height} image`);
  }
  const data = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 4;
    data.set(image.data.subarray(from, from + width * 4), row * width * 4);
  }
  return { width, height, data };
}
