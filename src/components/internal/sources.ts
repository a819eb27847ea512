/**
 * Where the components' inputs come from: a WebGPU device shared by every component on the page
 * (when no Explainer is given), models from a URL, and pictures from elements or URLs.
 */
import {
  AbortedError, Explainer, browserImagePixels, imageToInput, loadModelSpec, modelFiles, requestBrowserDevice,
  type RgbaImage,
} from '../../index.js';
import type { ImageSource } from './types.js';

let device: Promise<GPUDevice> | undefined;

/** One device for every component that was not handed an Explainer; a lost device is replaced. */
export function sharedDevice(): Promise<GPUDevice> {
  if (!device) {
    const requested = requestBrowserDevice();
    device = requested;
    requested.then(
      (d) => d.lost.then(() => {
        if (device === requested) device = undefined;
      }),
      () => {
        if (device === requested) device = undefined;
      },
    );
  }
  return device;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new AbortedError('Superseded by a newer request');
}

/** A TF.js model (either format) from `url` on the shared device. */
export async function explainerFromUrl(url: string, inputRange: readonly [number, number] | undefined, signal: AbortSignal): Promise<Explainer> {
  const spec = await loadModelSpec(modelFiles(url));
  throwIfAborted(signal);
  const gpu = await sharedDevice();
  throwIfAborted(signal);
  return Explainer.create(gpu, spec, inputRange ? { inputRange } : {});
}

function isRgba(source: ImageSource): source is RgbaImage {
  // ImageData and plain { width, height, data } objects; elements and bitmaps have no `data`
  const data = (source as Partial<RgbaImage>).data;
  return data instanceof Uint8Array || data instanceof Uint8ClampedArray;
}

/** RGBA pixels of any accepted image (elements and bitmaps are drawn once on a canvas). */
export function pixelsOf(source: ImageSource): RgbaImage {
  if (isRgba(source)) return source;
  if (source instanceof HTMLImageElement && !(source.complete && source.naturalWidth > 0)) {
    throw new Error(`The image ${source.src || '(no src)'} has not loaded (or failed to load)`);
  }
  return browserImagePixels(source);
}

/** Loads the picture at `src` (decoded, CORS-enabled so its pixels can be read). */
export async function loadImage(src: string, signal: AbortSignal): Promise<HTMLImageElement> {
  const image = new Image();
  image.crossOrigin = 'anonymous';
  image.decoding = 'async';
  image.src = src;
  try {
    await image.decode();
  } catch (cause) {
    throw new Error(`Could not load the image ${src}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  throwIfAborted(signal);
  return image;
}

/** The model input [H, W, C] of a picture for `explainer`: resized, and mapped onto its input range. */
export function modelInput(explainer: Explainer, pixels: RgbaImage): { data: Float32Array; shape: number[] } {
  return imageToInput(pixels, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
}

/** Class names: the given ones, the model's own, or "class i". */
export function classNames(explainer: Explainer, labels: readonly string[] | undefined, count: number): string[] {
  const names = labels ?? explainer.model.labels;
  return Array.from({ length: count }, (_, i) => names?.[i] ?? `class ${i}`);
}

/** Nodes with a spatial [h, w, K] output (the input excluded): layers worth showing as images. */
export function spatialLayers(explainer: Explainer): string[] {
  const { model } = explainer;
  const shapes = model.shapes(1);
  return model.order.filter((name) => name !== model.inputName && shapes.get(name)?.length === 4);
}
