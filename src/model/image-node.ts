/** Node: decode PNG and JPEG files into RGBA pixels (pngjs, jpeg-js: pure JavaScript, no native code). */
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../errors.js';
import type { RgbaImage } from './image.js';

export async function decodeImageFile(path: string): Promise<RgbaImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new InputError(`Cannot read image ${path}: ${(cause as Error).message}`, { cause });
  }
  return decodeImageBytes(bytes, path);
}

export function decodeImageBytes(bytes: Uint8Array, name = 'image'): RgbaImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (buffer.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      const png = PNG.sync.read(buffer);
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (buffer[0] === 0xff && buffer[1] === 0xd8) {
      const decoded = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true });
      return { width: decoded.width, height: decoded.height, data: decoded.data };
    }
  } catch (cause) {
    throw new InputError(`${name} could not be decoded: ${(cause as Error).message}`, { cause });
  }
  throw new InputError(`${name} is neither a PNG nor a JPEG file`);
}

/** Encodes RGBA pixels as a PNG file's bytes. */
export function encodePng(image: RgbaImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}
