/** Browser: pixels of ImageData, ImageBitmap, <img>, <canvas> or OffscreenCanvas as RGBA. */
import type { RgbaImage } from './image.js';

export type BrowserImageSource = ImageData | ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

export function browserImagePixels(source: BrowserImageSource): RgbaImage {
  if (typeof ImageData !== 'undefined' && source instanceof ImageData) {
    return { width: source.width, height: source.height, data: source.data };
  }
  const width = 'naturalWidth' in source ? source.naturalWidth : source.width;
  const height = 'naturalHeight' in source ? source.naturalHeight : source.height;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(source as CanvasImageSource, 0, 0);
  const data = context.getImageData(0, 0, width, height);
  return { width, height, data: data.data };
}
