/**
 * `webgpu-xai explain --images DIR|GLOB|LIST.txt --out-dir DIR`: one overlay PNG and one .npy per
 * image (`<key>.png`, `<key>.npy`), a summary row per image, resumable and shardable.
 *
 * Everything a user can get wrong (the image source, the shard, the out dir, options that clash
 * with an earlier run there) is checked before the model is loaded. Each image's files are
 * written atomically and its summary row appended once both exist, so a crash loses no finished
 * image; the next run skips images whose files and row exist (unless --force).
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, encodeNpy, imageToInput, type AdaptiveAttribution, type Attribution, type Explainer, type KernelShapAttribution, type LimeAttribution, type RgbaImage } from '../index.js';
import { decodeImageFile, encodePng } from '../node.js';
import { integerOption } from './args.js';
import { listImages, type DatasetImage } from './dataset.js';
import { explainBatch, type ExplainedImage, type MethodRequest } from './explain-batch.js';
import { OutputError, ensureWritableDir, writeAtomic } from './files.js';
import { explainedPicture } from './picture.js';
import { itemProgress } from './progress-bar.js';
import { resolveShard, shardItems, shardLabel, type Shard } from './shard.js';
import { SummaryFiles, jsonLine, readSummary, summaryBase, type SummaryRow } from './summary.js';

/** A dataset run's command line: where the pictures are and the results go, and how the work is split and logged. */
export interface DatasetOptions {
  images: string;
  outDir: string;
  /** --shard, --shards (the environment fills in the rest). */
  shard: string | undefined;
  shards: string | undefined;
  force: boolean;
  json: boolean;
  /** Images explained per explainBatch call, and per progress line off a terminal. */
  batch: string | undefined;
  every: string | undefined;
}

/** What the maps depend on (the summary's `options`, checked on resume) and how classes are named. */
export interface ExplainSetup {
  model: string;
  /** --output: the model output explained, for models with several. */
  output?: string;
  inputRange: readonly [number, number];
  request: MethodRequest;
  labels: readonly string[] | undefined;
}

/** A run's work, checked before the model is read: the shard, its pictures, the out dir and its summary files. */
export interface DatasetPlan {
  options: DatasetOptions;
  shard: Shard;
  /** Every picture of --images (sorted), and this shard's. */
  all: DatasetImage[];
  mine: DatasetImage[];
  files: SummaryFiles;
  batch: number;
  every: number;
}

export async function planDataset(options: DatasetOptions): Promise<DatasetPlan> {
  const batch = integerOption(options.batch, 'batch', 8);
  const every = integerOption(options.every, 'every', 10);
  const shard = resolveShard(options.shard, options.shards);
  const all = await listImages(options.images);
  await ensureWritableDir(options.outDir);
  return { options, shard, all, mine: shardItems(all, shard), files: new SummaryFiles(options.outDir, summaryBase(shard)), batch, every };
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** What a map depends on (the summary's `options`): a resumed run must use the same. */
export function runOptions(run: Omit<ExplainSetup, 'labels'>): Record<string, unknown> {
  const { method: _method, target, score, ...settings } = run.request;
  return { model: run.model, ...(run.output !== undefined ? { output: run.output } : {}), inputRange: [...run.inputRange], score, target, ...settings };
}

/** Adaptive IG's steps used and whether it met the tolerance; nothing for other methods. */
function adaptiveSteps(attribution: Attribution): Pick<SummaryRow, 'steps' | 'converged'> {
  const { steps, converged } = attribution as Partial<AdaptiveAttribution>;
  return converged === undefined ? {} : { steps, converged };
}

/** The fit's own numbers of LIME (R^2) and KernelSHAP (additivity error); nothing for other methods. */
function fitNumbers(attribution: Attribution): Pick<SummaryRow, 'r2' | 'additivityError' | 'exact' | 'samples'> {
  if (attribution.method === 'lime') {
    const { r2, samples } = attribution as LimeAttribution;
    return { r2, samples };
  }
  if (attribution.method === 'kernelshap') {
    const { additivityError, exact, samples } = attribution as KernelShapAttribution;
    return { additivityError, exact, samples };
  }
  return {};
}

/** The summary row (and `--json` line) of one explained image. */
export function summaryRow(
  files: Pick<SummaryRow, 'image' | 'path' | 'png' | 'npy'>,
  { attribution, score, milliseconds }: ExplainedImage,
  run: ExplainSetup,
  shard: string,
): SummaryRow {
  return {
    ...files, method: run.request.method, target: attribution.target, className: run.labels?.[attribution.target] ?? null,
    score, options: runOptions(run), completenessError: attribution.completenessError ?? null,
    ...adaptiveSteps(attribution),
    ...fitNumbers(attribution),
    milliseconds, shard,
  };
}

/** What was done before: rows of this shard's pictures whose files still exist; throws when they came from other settings. */
async function finishedRows({ options, files, mine }: DatasetPlan, setup: ExplainSetup): Promise<SummaryRow[]> {
  if (options.force) return [];
  const { rows } = await readSummary(files.jsonl);
  const wanted = JSON.stringify(runOptions(setup));
  const { method } = setup.request;
  const other = rows.find((row) => row.method !== method || JSON.stringify(row.options) !== wanted);
  if (other) {
    throw new OutputError(`${files.jsonl} holds results of other settings (${other.method} ${JSON.stringify(other.options)}; now ${method} ${wanted}): use another --out-dir, or --force to recompute`);
  }
  const keys = new Set(mine.map((image) => image.key));
  const kept: SummaryRow[] = [];
  for (const row of rows) {
    if (keys.has(row.image) && (await exists(join(options.outDir, row.png))) && row.npy && (await exists(join(options.outDir, row.npy)))) kept.push(row);
  }
  return kept;
}

/** The chunk's pictures, decoded; one that cannot be is named in `failed` and left out (the run goes on). */
export async function decodeChunk(chunk: readonly DatasetImage[], failed: string[]): Promise<{ image: DatasetImage; photo: RgbaImage }[]> {
  const photos: { image: DatasetImage; photo: RgbaImage }[] = [];
  for (const image of chunk) {
    try {
      photos.push({ image, photo: await decodeImageFile(image.path) });
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      failed.push(error.message);
      console.error(`webgpu-xai: skipped ${image.path}: ${error.message}`);
    }
  }
  return photos;
}

/** Explains the plan's pictures not done before, each written as it finishes; `openModel` is called only if there are any. */
export async function explainDataset(plan: DatasetPlan, setup: ExplainSetup, openModel: () => Promise<Explainer>): Promise<void> {
  const started = performance.now();
  const { options, shard, all, mine, files } = plan;
  const { request } = setup;
  const done = await finishedRows(plan, setup);
  // a clean start: cut lines, rows of vanished files and (with --force) every row go
  await files.rewrite(done);
  const finished = new Set(done.map((row) => row.image));
  const todo = mine.filter((image) => !finished.has(image.key));
  const where = shard.count > 1 ? ` (shard ${shardLabel(shard)} of ${all.length} images, from ${shard.source})` : '';
  const log = (line: string) => (options.json ? console.error(line) : console.log(line));

  const failed: string[] = [];
  if (todo.length) {
    const xai = await openModel();
    const named = { ...setup, labels: setup.labels ?? xai.model.labels };
    const squashed = xai.model.outputName !== xai.model.logitsName;
    const progress = itemProgress(`explain ${request.method}`, plan.every);
    const computeStarted = performance.now(); // the rate and time left leave out listing and model loading
    let computed = 0;
    for (let at = 0; at < todo.length; at += plan.batch) {
      const photos = await decodeChunk(todo.slice(at, at + plan.batch), failed);
      const inputs = photos.map(({ photo }) => imageToInput(photo, { shape: xai.model.inputShape, inputRange: setup.inputRange }));
      const results = await explainBatch(xai, inputs, request);
      for (const [i, { image, photo }] of photos.entries()) {
        const { attribution } = results[i];
        const [h, w, c] = attribution.shape;
        const row = summaryRow({ image: image.key, path: image.path, png: `${image.key}.png`, npy: `${image.key}.npy` }, results[i], named, shardLabel(shard));
        const picture = explainedPicture(photo, attribution, request, { output: results[i].output, squashed, label: row.className ?? undefined });
        await writeAtomic(join(options.outDir, row.png), encodePng(picture));
        await writeAtomic(join(options.outDir, row.npy!), encodeNpy(attribution.values, [1, h, w, c]));
        await files.append(row);
        if (options.json) process.stdout.write(jsonLine(row));
        progress({ done: ++computed, total: todo.length, elapsed: performance.now() - computeStarted });
      }
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  log(`explain: ${mine.length} images${where}: ${todo.length - failed.length} computed, ${done.length} done before${failed.length ? `, ${failed.length} unreadable` : ''}, ${seconds} s -> ${files.jsonl}, ${files.csv}`);
  if (failed.length) throw new InputError(`${failed.length} image(s) could not be read (the others are done; fix or remove these and run again): ${failed.slice(0, 3).join('; ')}${failed.length > 3 ? '; ...' : ''}`);
}
