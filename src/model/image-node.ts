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

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The last chunk of every PNG file: length 0, type IEND, its CRC. */
const PNG_END = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

export function decodeImageBytes(bytes: Uint8Array, name = 'image'): RgbaImage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const png = buffer.subarray(0, 8).equals(PNG_SIGNATURE);
  const jpg = buffer[0] === 0xff && buffer[1] === 0xd8;
  if (!png && !jpg) throw new InputError(`${name} is neither a PNG nor a JPEG file`);
  const kind = png ? 'PNG' : 'JPEG';
  // pngjs reports a cut-off file in its own terms ("read requests waiting on finished stream");
  // JPEGs are left to the decoder, since cameras may append data after the end-of-image marker
  if (png && buffer.lastIndexOf(PNG_END) < 0) {
    throw new InputError(`${name} is a truncated PNG file: it stops after ${buffer.length} bytes, before the IEND chunk that ends every PNG`);
  }
  try {
    if (png) {
      const decoded = PNG.sync.read(buffer);
      return { width: decoded.width, height: decoded.height, data: new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength) };
    }
    const decoded = jpeg.decode(buffer, { useTArray: true, formatAsRGBA: true });
    return { width: decoded.width, height: decoded.height, data: decoded.data };
  } catch (cause) {
    throw new InputError(`${name} is a corrupt ${kind} file (the decoder says: ${(cause as Error).message})`, { cause });
  }
}

/** Encodes RGBA pixels as a PNG file's bytes. */
export function encodePng(image: RgbaImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}
