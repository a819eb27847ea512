/**
 * `webgpu-xai evaluate --model model.json --images SRC --methods saliency,gradcam,...`: which map
 * is faithful. For every chunk of --batch images and every method, the method's maps (through
 * explain's own dispatch, so every `explain --method` is offered here too), then, over the chunk's
 * images at once, their deletion and insertion AUC (Petsiuk et al. 2018), MuFidelity (Bhatt et al.
 * 2020), infidelity and, with --sensitivity, max-sensitivity (Yeh et al. 2019). The table goes to stdout as markdown with per-method means, and to --json
 * and --csv files. Everything a user can get wrong is checked before the model is loaded; progress
 * goes to stderr; SIGINT stops after the current step and still writes the rows done (marked
 * interrupted), then exits non-zero.
 */
import { AbortedError, InputError, Tensor, imageToInput, type Attribution, type Explainer, type ImageInput, type ModelSpec } from '../index.js';
import { UsageError, integerOption, labelsOption, parseOptions, rangeOption, targetOption } from './args.js';
import { listImages } from './dataset.js';
import { METHODS, METHOD_OPTIONS, explainMany, methodSettings, scoreOption, type MethodRequest } from './explain-batch.js';
import { decodeChunk } from './explain-dataset.js';
import { writeAtomic } from './files.js';
import { checkWritable } from './output.js';
import { csvTable, jsonTable, markdownTable, methodMeans, metricsOf, type EvaluationRow } from './evaluate-table.js';
import { itemProgress } from './progress-bar.js';

export const EVALUATE_HELP = `webgpu-xai evaluate --model model.json --images DIR|GLOB|LIST.txt [options]

Faithfulness of each method's map on each image, as a markdown table on stdout (per-method means last):
deletion AUC (low is faithful) and insertion AUC (high), Petsiuk et al. 2018; MuFidelity (high),
Bhatt et al. 2020; infidelity (low) and, with --sensitivity, max-sensitivity (low), Yeh et al. 2019.

  --model PATH|URL        TF.js model.json        --images SRC   a folder, a quoted glob or a .txt list
  --methods A,B,...       default saliency,smoothgrad,ig,gradcam; any of:
                          ${METHODS.join(' ')} (integrated-gradients = ig)
                          with their settings as for explain:
                          ${Object.keys(METHOD_OPTIONS).filter((o) => o !== 'seed').map((o) => `--${o}`).join(' ')}
  --json PATH --csv PATH  the table as JSON (rows, means) and CSV (rows, then one mean row per method)
  --sensitivity           also max-sensitivity: every map recomputed on --sensitivity-samples perturbed
                          copies (expensive)
  --curve-steps N         deletion/insertion steps (32)      --mufidelity-samples N  random subsets (200)
  --infidelity-samples N  Gaussian perturbations (64)        --sensitivity-samples N  copies (10)
  --target, --score, --input-range, --labels, --output, --seed (methods and metrics), --batch N (8),
  --every N (a progress line per N maps off a terminal, 10)
Interrupt (Ctrl-C) stops after the current step and writes the rows done.`;

type Values = Record<string, string | boolean | undefined>;

/** Each --methods entry's settings, checked like explain's --method (a bad name or value is a UsageError). */
function methodList(values: Values): MethodRequest['method'][] {
  const names = ((values.methods as string | undefined) ?? 'saliency,smoothgrad,ig,gradcam').split(',').map((m) => m.trim());
  const known = [...METHODS, 'integrated-gradients'] as string[];
  const unknown = names.filter((m) => !known.includes(m));
  if (unknown.length || !names.length) throw new UsageError(`--methods takes a comma-separated list of ${known.join(', ')}; got '${String(values.methods)}'`);
  const methods = [...new Set(names.map((m) => (m === 'integrated-gradients' ? 'ig' : m)))] as MethodRequest['method'][];
  if (values.adaptive !== undefined && !methods.includes('ig')) throw new UsageError('--adaptive is a tolerance of Integrated Gradients: add ig to --methods');
  return methods;
}

/** The command's ways to the model, shared with explain (main.ts). */
export interface EvaluateDeps {
  readModel(location: string, output?: string): Promise<ModelSpec>;
  openModel(spec: ModelSpec, inputRange: [number, number]): Promise<Explainer>;
}

/**
 * The maps of one method on a stack of images, as maxSensitivity hands them over (GPU tensors, with
 * the image each row belongs to), through explain's dispatch: each row is explained for its own
 * image's class (`targets`), since 'top' could pick another one for a perturbed copy.
 */
function explainCopies(xai: Explainer, request: MethodRequest, targets: readonly number[]) {
  return async (images: ImageInput | readonly ImageInput[], owners: readonly number[]): Promise<Attribution | Attribution[]> => {
    const input = images as ImageInput;
    const data = input instanceof Tensor ? await xai.runtime.read(input) : Float32Array.from(input.data);
    const size = xai.model.inputShape.reduce((a, b) => a * b, 1);
    const count = data.length / size;
    const list = Array.from({ length: count }, (_, i) => ({ data: data.subarray(i * size, (i + 1) * size), shape: [...xai.model.inputShape] }));
    const maps = await explainMany(xai, list, { ...request, target: owners.map((i) => targets[i]) });
    return count === 1 ? maps[0] : maps;
  };
}

export async function evaluate(argv: string[], deps: EvaluateDeps): Promise<void> {
  const values = parseOptions(argv, {
    model: { type: 'string' }, output: { type: 'string' }, images: { type: 'string' }, methods: { type: 'string' },
    json: { type: 'string' }, csv: { type: 'string' }, sensitivity: { type: 'boolean' },
    'curve-steps': { type: 'string' }, 'mufidelity-samples': { type: 'string' }, 'infidelity-samples': { type: 'string' }, 'sensitivity-samples': { type: 'string' },
    target: { type: 'string' }, score: { type: 'string' }, 'input-range': { type: 'string' }, labels: { type: 'string' },
    ...METHOD_OPTIONS, batch: { type: 'string' }, every: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) return void console.log(EVALUATE_HELP);
  // every option, the output paths, the images and the model file: all before the GPU
  if (!values.model) throw new UsageError("evaluate needs --model (see 'webgpu-xai evaluate --help')");
  if (!values.images) throw new UsageError("evaluate needs --images, a folder, a quoted glob or a .txt list (see 'webgpu-xai evaluate --help')");
  const methods = methodList(values);
  const settings = methods.map((method) => methodSettings({ ...values, method, adaptive: method === 'ig' ? values.adaptive : undefined }));
  const score = scoreOption(values);
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const seed = integerOption(values.seed, 'seed', 0, 0);
  const curveSteps = integerOption(values['curve-steps'], 'curve-steps', 32);
  const muSamples = integerOption(values['mufidelity-samples'], 'mufidelity-samples', 200, 2);
  const infidelitySamples = integerOption(values['infidelity-samples'], 'infidelity-samples', 64);
  const sensitivitySamples = integerOption(values['sensitivity-samples'], 'sensitivity-samples', 10);
  if (values['sensitivity-samples'] !== undefined && !values.sensitivity) throw new UsageError('--sensitivity-samples goes with --sensitivity');
  const batch = integerOption(values.batch, 'batch', 8);
  const every = integerOption(values.every, 'every', 10);
  if (values.json) await checkWritable(values.json, 'json');
  if (values.csv) await checkWritable(values.csv, 'csv');
  const images = await listImages(values.images);
  const spec = await deps.readModel(values.model, values.output);
  const labels = labelsOption(values.labels) ?? spec.labels;
  const target = targetOption(values.target, labels);
  const metrics = metricsOf(!!values.sensitivity);

  const xai = await deps.openModel(spec, inputRange);
  const classes = xai.model.shapes(1).get(xai.model.outputName)!.at(-1)!;
  if (values.labels && labels!.length !== classes) throw new UsageError(`--labels names ${labels!.length} classes but ${values.model} has ${classes}: give one name per class, in the model's order`);
  const controller = new AbortController();
  const interrupt = () => controller.abort('SIGINT');
  process.once('SIGINT', interrupt);
  const rows: EvaluationRow[] = [];
  const failed: string[] = [];
  const total = images.length * methods.length;
  const progress = itemProgress('evaluate', every, 'maps');
  const started = performance.now();
  try {
    for (let at = 0; at < images.length && !controller.signal.aborted; at += batch) {
      const photos = await decodeChunk(images.slice(at, at + batch), failed);
      const inputs = photos.map(({ photo }) => imageToInput(photo, { shape: xai.model.inputShape, inputRange }));
      for (const [m, setting] of settings.entries()) {
        if (controller.signal.aborted) break;
        const request: MethodRequest = { ...setting, target, score };
        const mapsStarted = performance.now();
        const maps = await explainMany(xai, inputs, request);
        // every metric runs over the chunk's images at once (one map and one target per image)
        const targets = maps.map((map) => map.target);
        const common = { target: targets, signal: controller.signal };
        const deletion = await xai.deletion(inputs, maps, { ...common, steps: curveSteps });
        const insertion = await xai.insertion(inputs, maps, { ...common, steps: curveSteps });
        const mu = await xai.muFidelity(inputs, maps, { ...common, score, samples: muSamples, seed });
        const infidelity = await xai.infidelity(inputs, maps, { ...common, score, samples: infidelitySamples, seed });
        const sensitivity = values.sensitivity ? await xai.maxSensitivity(inputs, explainCopies(xai, request, targets), { samples: sensitivitySamples, seed, signal: controller.signal }) : undefined;
        // each row's share of the chunk's maps and metrics
        const share = (performance.now() - mapsStarted) / inputs.length;
        for (const [i, map] of maps.entries()) {
          const row: EvaluationRow = {
            image: photos[i].image.key, path: photos[i].image.path, method: methods[m], target: map.target, className: labels?.[map.target] ?? null,
            deletionAuc: deletion[i].auc, insertionAuc: insertion[i].auc, muFidelity: mu[i].correlation, infidelity: infidelity[i].infidelity,
            milliseconds: share,
          };
          if (sensitivity) row.maxSensitivity = sensitivity[i].maxSensitivity;
          rows.push(row);
          progress({ done: rows.length, total, elapsed: performance.now() - started });
        }
      }
    }
  } catch (error) {
    if (!(error instanceof AbortedError && controller.signal.aborted)) throw error;
  } finally {
    process.off('SIGINT', interrupt);
  }
  const interrupted = controller.signal.aborted;
  // computed method by method per batch of images; listed image by image
  const order = new Map(images.map((image, i) => [image.key, i]));
  rows.sort((a, b) => order.get(a.image)! - order.get(b.image)! || methods.indexOf(a.method as MethodRequest['method']) - methods.indexOf(b.method as MethodRequest['method']));
  const means = methodMeans(rows, methods, metrics);
  process.stdout.write(markdownTable(rows, means, metrics));
  const table = { model: values.model, methods, metrics, interrupted, options: { score, target, inputRange, seed, curveSteps, muSamples, infidelitySamples, ...(values.sensitivity ? { sensitivitySamples } : {}) }, rows, means };
  if (values.json) await writeAtomic(values.json, jsonTable(table));
  if (values.csv) await writeAtomic(values.csv, csvTable(rows, means, metrics));
  const files = [values.json, values.csv].filter(Boolean).join(', ');
  console.error(`evaluate: ${rows.length} of ${total} maps evaluated, ${((performance.now() - started) / 1000).toFixed(1)} s${files ? ` -> ${files}` : ''}`);
  if (interrupted) throw new AbortedError(`evaluate interrupted: the table${files ? ` (${files})` : ''} holds the ${rows.length} of ${total} maps done`);
  if (failed.length) throw new InputError(`${failed.length} image(s) could not be read (the others are in the table): ${failed.slice(0, 3).join('; ')}`);
}
