/** Where the demo's models and pictures come from: URLs, dropped or chosen files. */
import {
  ModelLoadError, browserImagePixels, cropImage, filesFromMemory, filesFromUrl, loadModelSpec,
  type ModelFiles, type ModelSpec, type RgbaImage,
} from '../src/index.js';

/** A TF.js model.json (either format) at `url`, relative to the page. */
export function modelFromUrl(url: string): Promise<ModelSpec> {
  return loadModelSpec(filesFromUrl(new URL(url, document.baseURI)));
}

/** model.json and its weight shards from files a user chose or dropped (matched by file name). */
export async function modelFromFiles(files: readonly File[]): Promise<ModelSpec> {
  const jsons = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  if (jsons.length !== 1) {
    throw new ModelLoadError(`Choose one model.json and its weight files together; got ${jsons.length} .json files (${files.map((f) => f.name).join(', ') || 'none'})`);
  }
  const [json] = jsons;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await json.text());
  } catch (cause) {
    throw new ModelLoadError(`${json.name} is not valid JSON: ${String(cause)}`, { cause });
  }
  const shards = new Map<string, ArrayBuffer>();
  for (const file of files) if (file !== json) shards.set(file.name, await file.arrayBuffer());
  const memory: ModelFiles = filesFromMemory(json.name, parsed, shards);
  return loadModelSpec(memory);
}

/** Decoded RGBA pixels of a picture at a URL. */
export async function imageFromUrl(url: string): Promise<RgbaImage> {
  const image = new Image();
  image.decoding = 'async';
  image.src = new URL(url, document.baseURI).href;
  try {
    await image.decode();
  } catch (cause) {
    throw new Error(`Could not load the picture ${url}`, { cause });
  }
  return browserImagePixels(image);
}

/** Decoded RGBA pixels of a picture file. */
export async function imageFromFile(file: File): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (cause) {
    throw new Error(`${file.name} is not a picture this browser can decode`, { cause });
  }
  try {
    return browserImagePixels(bitmap);
  } finally {
    bitmap.close();
  }
}

/** The largest centred rectangle of `image` with the aspect ratio width : height. */
export function cropToAspect(image: RgbaImage, width: number, height: number): RgbaImage {
  const scale = Math.min(image.width / width, image.height / height);
  const w = Math.max(1, Math.min(image.width, Math.round(width * scale)));
  const h = Math.max(1, Math.min(image.height, Math.round(height * scale)));
  if (w === image.width && h === image.height) return image;
  return cropImage(image, Math.floor((image.width - w) / 2), Math.floor((image.height - h) / 2), w, h);
}

/** Draws RGBA pixels onto a canvas, scaled to fit it. */
export function drawPixels(canvas: HTMLCanvasElement, image: RgbaImage): void {
  const source = new OffscreenCanvas(image.width, image.height);
  source.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  const context = canvas.getContext('2d')!;
  context.clearRect(0, 0, canvas.width, canvas.height);
  const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
  const w = image.width * scale;
  const h = image.height * scale;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
}
