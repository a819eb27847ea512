/**
 * webgpu-xai command line: explain an image with a TF.js model, visualize filters.
 * Every failure prints one line (what was wrong, what to do) and exits non-zero; everything a
 * user can get wrong (options, output paths, the model file, the image) is checked before the
 * GPU device starts or any explanation is computed.
 *
 * It imports the engine only through the package's own entry points ('../index.js',
 * '../node.js'), which the Node build (vite.node.config.ts) maps to the library build, so the
 * package ships the engine once.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { version } from '../../package.json';
import {
  Explainer, INTEGRATION_RULES, Model, Runtime, XaiError, cropImage, encodeNpy, imageToInput, loadModelSpec, modelFiles, type AscentOptions, type ModelSpec, type OcclusionAttribution,
} from '../index.js';
import { decodeImageFile, encodePng, requestNodeDevice } from '../node.js';
import { UsageError, channelsOption, cropOption, integerOption, labelsOption, numberOption, parseOptions, rangeOption, targetOption } from './args.js';
import { METHOD_OPTIONS, explainBatch, methodSettings, scoreOption } from './explain-batch.js';
import { evaluate } from './evaluate.js';
import { explainDataset, planDataset, summaryRow } from './explain-dataset.js';
import { MERGE_HELP, merge } from './merge.js';
import { checkWritable } from './output.js';
import { imageGrid } from './overlay.js';
import { explainedPicture, predictionText, stepsText } from './picture.js';
import { progressBar } from './progress-bar.js';

const REPOSITORY = 'https://github.com/webgpu-xai/webgpu-xai';

const HELP: Record<string, string> = {
  main: `webgpu-xai <command> [options]

Commands:
  explain     attribution maps of an image or a dataset under a TF.js model (PNG overlays with a legend, .npy)
  evaluate    faithfulness of several methods' maps over images: deletion/insertion AUC, MuFidelity,
              infidelity, max-sensitivity, as a table (markdown, --json, --csv)
  merge       join the summaries of a sharded dataset run into one
  visualize   gradient-ascent images of a layer's filters (PNG grid, numbered by channel)

Run 'webgpu-xai <command> --help' for a command's options, 'webgpu-xai --version' for the version.
The benchmark runs from a clone of the repository: npm run bench (${REPOSITORY}/blob/main/bench/README.md).`,
  explain: `webgpu-xai explain --model model.json --image in.png --out map.png [options]
webgpu-xai explain --model model.json --images DIR|GLOB|LIST.txt --out-dir DIR [options]

  --model PATH|URL       TF.js model.json (Layers or graph-model format)
  --image PATH           PNG or JPEG; resized to the model input, grayscale for 1-channel models
  --out PATH             heatmap overlay PNG with a legend (colour bar, method, class, scale)
  --npy PATH             raw attributions [1,H,W,C] as float32 .npy
  --output NODE          the output to explain, for models with several (graph node or layer name)
  --json                 print the result as one JSON line per image (stdout; messages go to stderr)
Datasets (see docs/scale-out.md):
  --images SRC           a folder (recursive), a quoted glob ('data/**/*.png') or a .txt list, one path a line
  --out-dir DIR          <key>.png and <key>.npy per image (key: path below the root, no extension),
                         summary.jsonl and summary.csv (summary.shard-<i>-of-<n>.* for a shard)
  --force                recompute images already done (default: skip those with files and a summary row)
  --shard i/n            explain part i (0-based) of n of the sorted list; default from the environment:
                         JOB_COMPLETION_INDEX (Kubernetes Indexed Job; count --shards N or JOB_COMPLETIONS),
                         SLURM_ARRAY_TASK_ID/_COUNT/_MIN/_STEP (Slurm job array)
  --batch N              images per explanation call (default 8)   --every N   log line per N images off a terminal (10)
Methods:
  --method M             saliency (default) | smoothgrad | ig (integrated-gradients) | gradientshap | deeplift | gradcam
                         | occlusion | guided-backprop
                         | layercam | scorecam | rise | lime | kernelshap (the last five: one picture per call)
  --target N|NAME|top    class to explain: index, a name from the labels, or top (default)
  --score S              logit (default) | probability
  --input-range a,b      pixels 0..255 map linearly onto [a,b] (default 0,1; e.g. --input-range -1,1)
  --crop x,y,w,h         explain this rectangle of the image (e.g. a face)
  --labels a,b,c         class names, one per class of the model
  --samples N --noise F --seed S           SmoothGrad (50, 0.15, 0)
  --steps N --baseline B --rule R          IG (64, black|white|blur|uniform, ${INTEGRATION_RULES.join('|')})
  --samples N --noise F --baseline B --baseline-count N
                                           GradientSHAP (50, 0, uniform|black|white, 16 uniform noise images)
  --baseline B --baseline-count N          DeepLIFT (black|white|uniform; uniform: DeepSHAP over N noise references, 16)
  --adaptive TOL                           IG: double the Gauss-Legendre points (from --steps, default 16, up to
                                           1024) until the completeness error is <= TOL (e.g. 0.01); one picture per call
  --layer NAME                             Grad-CAM, LayerCAM, Score-CAM layer (default: last 4-D layer with h*w > 1)
  --seed S                                 also RISE (4000 masks), LIME (1000 samples), KernelSHAP (auto) over SLIC superpixels
  --window N --stride N                    occlusion (1/8 of the shorter side, half the window)`,
  visualize: `webgpu-xai visualize --model model.json --layer NAME --out grid.png [options]
       webgpu-xai visualize --model model.json --class 0-9 [--generator decoder.json] --out grid.png

  --channels 0-15|all    channels to visualize (default all)
  --class 3|0-9          class images instead of filters: gradient ascent on the class logits
  --generator PATH       with --class: ascend over this generator's latent code (x = G(z)) so the
                         images look like its data (e.g. models/digits-generator/model.json)
  --restarts N           with --generator: starting codes per class, the most probable kept (default 3)
  --latent-decay F       with --generator: pull of the code towards 0 per step (default 0.1: keeps a
                         VAE decoder's codes near its N(0, I) prior)
  --parametrization P    pixel (default) or fourier: optimize each image's Fourier spectrum (1/f
                         scaled), in decorrelated colours, behind a sigmoid (Olah et al. 2017)
  --decay-power F        fourier: the spectrum scaling 1/|f|^F (default 1; 0 is white)
  --no-decorrelate       fourier: optimize R, G, B directly (decorrelation is on for 3 channels)
  --jitter N             largest random shift per step, in pixels (default 4; ~1 for 28-pixel images)
  --steps N              gradient-ascent steps (default 256; 200 with --generator)
  --learning-rate F      (default 0.05, Adam's with fourier; 0.1 with --generator)
  --input-range a,b      (default 0,1)
  --seed S               (default 7)
  --json                 print the result as JSON on stdout`,
  merge: MERGE_HELP,
};

/** The model's files, read and parsed before any GPU device is requested: a bad path fails fast. */
function readModel(location: string, output?: string): Promise<ModelSpec> {
  return loadModelSpec(modelFiles(location), { output });
}

async function openModel(spec: ModelSpec, inputRange: [number, number]): Promise<Explainer> {
  const device = await requestNodeDevice();
  const rt = new Runtime(device);
  return Explainer.create(rt, Model.create(rt, spec), { inputRange });
}

async function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
  } catch (cause) {
    throw new XaiError(`Cannot write ${path}: ${(cause as Error).message}`, { cause });
  }
}

function required(value: string | undefined, name: string, command: string): string {
  if (!value) throw new UsageError(`${command} needs --${name} (see 'webgpu-xai ${command} --help')`);
  return value;
}

async function explain(argv: string[]): Promise<void> {
  const values = parseOptions(argv, {
    model: { type: 'string' }, output: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, npy: { type: 'string' },
    method: { type: 'string' }, target: { type: 'string' }, score: { type: 'string' }, 'input-range': { type: 'string' },
    ...METHOD_OPTIONS, crop: { type: 'string' }, labels: { type: 'string' },
    images: { type: 'string' }, 'out-dir': { type: 'string' }, shard: { type: 'string' }, shards: { type: 'string' }, force: { type: 'boolean' },
    batch: { type: 'string' }, every: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
  });
  if (values.help) return void console.log(HELP.explain);
  // every option first, then the output paths, the model file and the image(s): all before the GPU
  const modelPath = required(values.model, 'model', 'explain');
  const settings = methodSettings(values);
  const score = scoreOption(values);
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const dataset = values.images !== undefined;
  if (dataset) {
    const clash = (['image', 'out', 'npy', 'crop'] as const).find((name) => values[name] !== undefined);
    if (clash) throw new UsageError(`--${clash} is for one image (--image); with --images the outputs go to --out-dir`);
  }
  const imagePath = dataset ? undefined : required(values.image, 'image', 'explain');
  const out = dataset ? undefined : required(values.out, 'out', 'explain');
  const crop = cropOption(values.crop);
  if (out) await checkWritable(out, 'out');
  if (values.npy) await checkWritable(values.npy, 'npy');
  // a dataset's shard, pictures and out dir
  const plan = dataset ? await planDataset({
    images: values.images!, outDir: required(values['out-dir'], 'out-dir', 'explain'), shard: values.shard, shards: values.shards,
    force: !!values.force, json: !!values.json, batch: values.batch, every: values.every,
  }) : undefined;
  const spec = await readModel(modelPath, values.output);
  const labels = labelsOption(values.labels) ?? spec.labels;
  const request = { ...settings, score, target: targetOption(values.target, labels) };
  const checkLabels = (xai: Explainer) => {
    const classes = xai.model.shapes(1).get(xai.model.outputName)!.at(-1)!;
    if (values.labels && labels!.length !== classes) {
      throw new UsageError(`--labels names ${labels!.length} classes but ${modelPath} has ${classes}: give one name per class, in the model's order`);
    }
    return xai;
  };
  if (plan) return explainDataset(plan, { model: modelPath, output: values.output, inputRange, request, labels }, async () => checkLabels(await openModel(spec, inputRange)));
  const decoded = await decodeImageFile(imagePath!);
  const photo = crop ? cropImage(decoded, ...crop) : decoded;

  const xai = checkLabels(await openModel(spec, inputRange));
  const { model } = xai;
  const image = imageToInput(photo, { shape: model.inputShape, inputRange });
  const [explained] = await explainBatch(xai, [image], request, progressBar(settings.method));
  const { attribution: result, output } = explained;
  const [h, w, c] = result.shape;
  const label = labels?.[result.target];
  const squashed = model.outputName !== model.logitsName;
  await writeOutput(out!, encodePng(explainedPicture(photo, result, request, { output, squashed, label })));
  if (values.npy) await writeOutput(values.npy, encodeNpy(result.values, [1, h, w, c]));
  if (values.json) {
    const files = { image: imagePath!, path: imagePath!, png: out!, npy: values.npy ?? null };
    return void console.log(JSON.stringify(summaryRow(files, explained, { model: modelPath, output: values.output, inputRange, request, labels }, '')));
  }
  const occluded = result as Partial<OcclusionAttribution>;
  const extra = result.completenessError !== undefined && settings.method === 'ig' ? `, completeness error ${result.completenessError.toExponential(2)} (${stepsText(settings.steps, result)})`
    : occluded.window ? `, ${occluded.windows} windows of ${occluded.window.join('x')} at stride ${occluded.stride!.join('x')}` : '';
  console.log(`${settings.method}: class ${result.target}${label ? ` (${label})` : ''} ${predictionText(output, result.target, squashed)}, ${result.milliseconds.toFixed(0)} ms${extra} -> ${out}${values.npy ? `, ${values.npy}` : ''}`);
}

async function visualize(argv: string[]): Promise<void> {
  const values = parseOptions(argv, {
    model: { type: 'string' }, layer: { type: 'string' }, out: { type: 'string' }, channels: { type: 'string' }, class: { type: 'string' }, generator: { type: 'string' }, restarts: { type: 'string' }, 'latent-decay': { type: 'string' },
    steps: { type: 'string' }, 'learning-rate': { type: 'string' }, 'input-range': { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' },
    parametrization: { type: 'string' }, 'decay-power': { type: 'string' }, 'no-decorrelate': { type: 'boolean' }, jitter: { type: 'string' },
  });
  if (values.help) return void console.log(HELP.visualize);
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const modelPath = required(values.model, 'model', 'visualize');
  const out = required(values.out, 'out', 'visualize');
  if (values.class === undefined && values.generator !== undefined) throw new UsageError('--generator goes with --class: it makes class images');
  if (values.generator === undefined && (values.restarts !== undefined || values['latent-decay'] !== undefined)) throw new UsageError('--restarts and --latent-decay go with --generator');
  if (values.class !== undefined && values.layer !== undefined) throw new UsageError('Give --layer (filter images) or --class (class images), not both');
  const layer = values.class === undefined ? required(values.layer, 'layer', 'visualize') : undefined;
  const classes = values.class === undefined ? undefined : channelsOption(values.class);
  if (classes === 'all') throw new UsageError('--class takes class numbers (3, 0-9 or 1,4,7), not all');
  const ascent = ascentOptions(values);
  if (values.generator !== undefined && Object.keys(ascent).length > 0) {
    throw new UsageError('--parametrization, --decay-power, --no-decorrelate and --jitter shape a pixel or Fourier ascent; --generator ascends over its latent code instead');
  }
  const common = {
    steps: integerOption(values.steps, 'steps', values.generator ? 200 : 256),
    learningRate: numberOption(values['learning-rate'], 'learning-rate', values.generator ? 0.1 : 0.05),
    seed: integerOption(values.seed, 'seed', 7, 0),
  };
  await checkWritable(out, 'out');
  const spec = await readModel(modelPath);
  const generatorSpec = values.generator === undefined ? undefined : await readModel(values.generator);
  const xai = await openModel(spec, inputRange);
  if (classes) {
    const result = generatorSpec
      ? await xai.visualizeClassWithGenerator(Model.create(xai.runtime, generatorSpec), { classes, ...common, restarts: integerOption(values.restarts, 'restarts', 3), latentDecay: numberOption(values['latent-decay'], 'latent-decay', 0.1), onProgress: progressBar('visualize') })
      : await xai.visualizeClass({ target: classes, ...common, ...ascent, onProgress: progressBar('visualize') });
    const [n, h, w, c] = result.shape;
    await writeOutput(out, encodePng(imageGrid(result.images, n, h, w, c, inputRange, classes)));
    if (values.json) {
      const probabilities = 'probabilities' in result ? { probabilities: result.probabilities } : {};
      const parametrization = 'parametrization' in result ? { parametrization: result.parametrization } : {};
      return void console.log(JSON.stringify({ classes, shape: result.shape, png: out, generator: values.generator ?? null, ...parametrization, ...probabilities, milliseconds: result.milliseconds }));
    }
    const probabilities = 'probabilities' in result ? `; probability of its class: ${result.probabilities.map((p) => p.toFixed(3)).join(', ')}` : '';
    const how = generatorSpec ? ` through the generator ${values.generator}` : 'parametrization' in result ? ` (${result.parametrization})` : '';
    console.log(`visualize: ${n} class images${how}, ${result.milliseconds.toFixed(0)} ms -> ${out}${probabilities}`);
    return;
  }
  const result = await xai.visualizeFilters({ layer: layer!, channels: channelsOption(values.channels), ...common, ...ascent, onProgress: progressBar('visualize') });
  const [n, h, w, c] = result.shape;
  await writeOutput(out, encodePng(imageGrid(result.images, n, h, w, c, inputRange, result.channels)));
  // a channel that is zero on the start image gets no gradient and stays grey: say so, not silently
  const dead = result.channels.filter((_, i) => !(result.activations.final[i] > 0));
  if (values.json) {
    return void console.log(JSON.stringify({ layer, parametrization: result.parametrization, channels: result.channels, shape: result.shape, png: out, deadChannels: dead, finalActivations: result.activations.final, milliseconds: result.milliseconds }));
  }
  const note = dead.length ? `; ${dead.length} channel(s) never activated (zero gradient from the start image): ${dead.join(', ')}` : '';
  console.log(`visualize: ${n} channels of ${layer} (${result.parametrization}), ${result.milliseconds.toFixed(0)} ms -> ${out}${note}`);
}

/** The parametrization options of `visualize` (only those given, so the engine's defaults stay its own). */
function ascentOptions(values: { parametrization?: string; 'decay-power'?: string; 'no-decorrelate'?: boolean; jitter?: string }): Pick<AscentOptions, 'parametrization' | 'decayPower' | 'decorrelate' | 'regularize'> {
  const { parametrization } = values;
  if (parametrization !== undefined && parametrization !== 'pixel' && parametrization !== 'fourier') {
    throw new UsageError(`--parametrization must be pixel or fourier, got '${parametrization}'`);
  }
  const fourierOnly = values['decay-power'] !== undefined ? '--decay-power' : values['no-decorrelate'] ? '--no-decorrelate' : undefined;
  if (fourierOnly && parametrization !== 'fourier') throw new UsageError(`${fourierOnly} goes with --parametrization fourier`);
  return {
    ...(parametrization ? { parametrization } : {}),
    ...(values['decay-power'] !== undefined ? { decayPower: numberOption(values['decay-power'], 'decay-power', 1) } : {}),
    ...(values['no-decorrelate'] ? { decorrelate: false } : {}),
    ...(values.jitter !== undefined ? { regularize: { jitter: integerOption(values.jitter, 'jitter', 4, 0) } } : {}),
  };
}

/** Runs one command; throws XaiError subclasses for everything a user can fix. */
export async function runCli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'explain': return explain(rest);
    case 'visualize': return visualize(rest);
    case 'evaluate': return evaluate(rest, { readModel, openModel });
    case 'merge': return merge(rest);
    case 'bench':
      // the benchmark compares against TF.js and jax-js, development dependencies of the repository
      throw new UsageError(`The benchmark runs from a clone of the repository: git clone ${REPOSITORY} && npm ci && npm run bench -- --quick (see ${REPOSITORY}/blob/main/bench/README.md)`);
    case '--version':
    case '-v':
    case 'version':
      return void console.log(version);
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      return void console.log(HELP.main);
    default:
      throw new UsageError(`Unknown command '${command}' (commands: explain, evaluate, merge, visualize; see --help)`);
  }
}
