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
  Explainer, INTEGRATION_RULES, Model, Runtime, XaiError, absPercentile, cropImage, encodeNpy, imageToInput, loadModelSpec, modelFiles,
  normalizeByPercentile, reduceChannels, type Attribution, type ChannelReduction, type IntegrationRule, type ModelSpec, type OcclusionAttribution,
} from '../index.js';
import { decodeImageFile, encodePng, requestNodeDevice } from '../node.js';
import { UsageError, channelsOption, choiceOption, cropOption, integerOption, labelsOption, numberOption, parseOptions, rangeOption, targetOption } from './args.js';
import { checkWritable } from './output.js';
import { formatValue, imageGrid, overlay, withLegend, type Legend } from './overlay.js';
import { progressBar } from './progress-bar.js';

const METHODS = ['saliency', 'smoothgrad', 'ig', 'gradcam', 'occlusion'] as const;
type Method = (typeof METHODS)[number];
const METHOD_NAMES: Record<Method, string> = { saliency: 'Saliency', smoothgrad: 'SmoothGrad', ig: 'Integrated Gradients', gradcam: 'Grad-CAM', occlusion: 'Occlusion' };
const REPOSITORY = 'https://github.com/webgpu-xai/webgpu-xai';

const HELP: Record<string, string> = {
  main: `webgpu-xai <command> [options]

Commands:
  explain     attribution map of an image under a TF.js model (PNG overlay with a legend, optional .npy)
  visualize   gradient-ascent images of a layer's filters (PNG grid, numbered by channel)

Run 'webgpu-xai <command> --help' for a command's options, 'webgpu-xai --version' for the version.
The benchmark runs from a clone of the repository: npm run bench (${REPOSITORY}/blob/main/bench/README.md).`,
  explain: `webgpu-xai explain --model model.json --image in.png --out map.png [options]

  --model PATH|URL       TF.js model.json (Layers or graph-model format)
  --output NODE          the output to explain, for models with several (graph node or layer name)
  --image PATH           PNG or JPEG; resized to the model input, grayscale for 1-channel models
  --out PATH             heatmap overlay PNG with a legend (colour bar, method, class, scale)
  --npy PATH             raw attributions [1,H,W,C] as float32 .npy
  --method M             saliency (default) | smoothgrad | ig | gradcam | occlusion
  --target N|NAME|top    class to explain: index, a name from the labels, or top (default)
  --score S              logit (default) | probability
  --input-range a,b      pixels 0..255 map linearly onto [a,b] (default 0,1; e.g. --input-range -1,1)
  --crop x,y,w,h         explain this rectangle of the image (e.g. a face)
  --labels a,b,c         class names, one per class of the model
  --samples N --noise F --seed S           SmoothGrad (50, 0.15, 0)
  --steps N --baseline B --rule R          IG (64, black|white|blur|uniform, ${INTEGRATION_RULES.join('|')})
  --layer NAME                             Grad-CAM layer (default: last 4-D layer with h*w > 1)
  --window N --stride N                    occlusion (1/8 of the shorter side, half the window)`,
  visualize: `webgpu-xai visualize --model model.json --layer NAME --out grid.png [options]
       webgpu-xai visualize --model model.json --class 0-9 [--generator decoder.json] --out grid.png

  --channels 0-15|all    channels to visualize (default all)
  --class 3|0-9          class images instead of filters: gradient ascent on the class logits
  --generator PATH       with --class: ascend over this generator's latent code (x = G(z)) so the
                         images look like its data (e.g. models/digits-generator/model.json)
  --steps N              gradient-ascent steps (default 256; 200 with --generator)
  --learning-rate F      (default 0.05; 0.1 with --generator)
  --input-range a,b      (default 0,1)
  --seed S               (default 7)`,
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

/** How the map's values became colours, in words, for the legend. */
function scaleRule(method: Method, score: string, result: Attribution): string {
  const clip = 'clipped at the 99th percentile of |value| (the bar\'s end)';
  switch (method) {
    case 'saliency': return `colour: |d ${score} / d pixel|, max over channels, ${clip}`;
    case 'smoothgrad': return `colour: |mean d ${score} / d pixel| over noisy copies, max over channels, ${clip}`;
    case 'ig': return `colour: attribution summed over channels (red: raises the ${score}, blue: lowers it), ${clip}`;
    case 'gradcam': return `colour: Grad-CAM of layer ${(result as { layer?: string }).layer ?? '?'} (ReLU, upsampled), ${clip}`;
    case 'occlusion': {
      const { window, stride } = result as OcclusionAttribution;
      return `colour: drop of the ${score} when a ${window.join('x')} window (stride ${stride.join('x')}) covers the pixel (red: it falls, blue: it rises), ${clip}`;
    }
  }
}

async function explain(argv: string[]): Promise<void> {
  const values = parseOptions(argv, {
    model: { type: 'string' }, output: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, npy: { type: 'string' },
    method: { type: 'string' }, target: { type: 'string' }, score: { type: 'string' }, 'input-range': { type: 'string' },
    samples: { type: 'string' }, noise: { type: 'string' }, seed: { type: 'string' },
    steps: { type: 'string' }, baseline: { type: 'string' }, rule: { type: 'string' },
    layer: { type: 'string' }, window: { type: 'string' }, stride: { type: 'string' }, crop: { type: 'string' }, labels: { type: 'string' },
    help: { type: 'boolean' },
  });
  if (values.help) return void console.log(HELP.explain);
  // every option first, then the output paths, the model file and the image: all before the GPU
  const modelPath = required(values.model, 'model', 'explain');
  const imagePath = required(values.image, 'image', 'explain');
  const out = required(values.out, 'out', 'explain');
  const method: Method = choiceOption(values.method, 'method', METHODS, 'saliency');
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const score = choiceOption(values.score, 'score', ['logit', 'probability'] as const, 'logit');
  const crop = cropOption(values.crop);
  const seed = integerOption(values.seed, 'seed', 0, 0);
  const run = {
    samples: integerOption(values.samples, 'samples', 50), noise: numberOption(values.noise, 'noise', 0.15),
    steps: integerOption(values.steps, 'steps', 64),
    baseline: choiceOption(values.baseline, 'baseline', ['black', 'white', 'blur', 'uniform'] as const, 'black'),
    rule: choiceOption(values.rule, 'rule', INTEGRATION_RULES, 'gauss-legendre' as IntegrationRule),
    // the library's default window (1/8 of the shorter side) unless given
    window: values.window === undefined ? undefined : integerOption(values.window, 'window', 8),
    stride: values.stride === undefined ? undefined : integerOption(values.stride, 'stride', 4),
  };
  await checkWritable(out, 'out');
  if (values.npy) await checkWritable(values.npy, 'npy');
  const spec = await readModel(modelPath, values.output);
  const labels = labelsOption(values.labels) ?? spec.labels;
  const target = targetOption(values.target, labels);
  const decoded = await decodeImageFile(imagePath);
  const photo = crop ? cropImage(decoded, ...crop) : decoded;

  const xai = await openModel(spec, inputRange);
  const { model } = xai;
  const classes = model.shapes(1).get(model.outputName)!.at(-1)!;
  if (values.labels && labels!.length !== classes) {
    throw new UsageError(`--labels names ${labels!.length} classes but ${modelPath} has ${classes}: give one name per class, in the model's order`);
  }
  const image = imageToInput(photo, { shape: model.inputShape, inputRange });
  const onProgress = progressBar(method);
  let result: Attribution;
  switch (method) {
    case 'saliency':
      result = await xai.saliency(image, { target, score });
      break;
    case 'smoothgrad':
      result = await xai.smoothGrad(image, { target, score, onProgress, samples: run.samples, noise: run.noise, seed });
      break;
    case 'ig':
      result = await xai.integratedGradients(image, { target, score, onProgress, steps: run.steps, baseline: run.baseline, rule: run.rule, seed });
      break;
    case 'gradcam':
      result = await xai.gradCam(image, { target, score, layer: values.layer });
      break;
    case 'occlusion':
      result = await xai.occlusion(image, { target, score, onProgress, window: run.window, stride: run.stride });
      break;
  }
  const [h, w, c] = result.shape;
  // gradients: magnitude per pixel; IG and occlusion: signed contributions
  const signed = method === 'ig' || method === 'occlusion';
  const reduction: ChannelReduction = signed ? 'sum' : 'abs-max';
  const reduced = c === 1 ? result.values : reduceChannels(result, reduction);
  const map = normalizeByPercentile(reduced, 99);
  const label = labels?.[result.target];
  const outputs = (await xai.activations(image, { layer: model.outputName })).values;
  const squashed = model.outputName !== model.logitsName;
  const prediction = squashed ? `p = ${outputs[result.target].toFixed(3)}` : `output ${formatValue(outputs[result.target])}`;
  const notes: string[] = [];
  if (result.completenessError !== undefined && result.scores) {
    const sum = result.values.reduce((a, v) => a + v, 0);
    notes.push(`completeness: sum of attributions ${formatValue(sum)} vs ${score} f(x) - f(baseline) = ${formatValue(result.scores.input)} - ${formatValue(result.scores.baseline)} = ${formatValue(result.scores.input - result.scores.baseline)}: relative error ${result.completenessError.toExponential(1)} (${run.steps} steps, ${run.rule}, ${run.baseline} baseline)`);
  }
  const legend: Legend = {
    title: `${METHOD_NAMES[method]} - class ${result.target}${label ? ` '${label}'` : ''}, ${prediction}`,
    signed,
    scale: absPercentile(reduced, 99) || 1,
    rule: scaleRule(method, score, result),
    notes,
  };
  await writeOutput(out, encodePng(withLegend(overlay(photo, map, h, w, signed), legend)));
  if (values.npy) await writeOutput(values.npy, encodeNpy(result.values, [1, h, w, c]));
  const occluded = result as Partial<OcclusionAttribution>;
  const extra = result.completenessError !== undefined ? `, completeness error ${result.completenessError.toExponential(2)}`
    : occluded.window ? `, ${occluded.windows} windows of ${occluded.window.join('x')} at stride ${occluded.stride!.join('x')}` : '';
  console.log(`${method}: class ${result.target}${label ? ` (${label})` : ''} ${prediction}, ${result.milliseconds.toFixed(0)} ms${extra} -> ${out}${values.npy ? `, ${values.npy}` : ''}`);
}

async function visualize(argv: string[]): Promise<void> {
  const values = parseOptions(argv, {
    model: { type: 'string' }, layer: { type: 'string' }, out: { type: 'string' }, channels: { type: 'string' }, class: { type: 'string' }, generator: { type: 'string' },
    steps: { type: 'string' }, 'learning-rate': { type: 'string' }, 'input-range': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) return void console.log(HELP.visualize);
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const modelPath = required(values.model, 'model', 'visualize');
  const out = required(values.out, 'out', 'visualize');
  if (values.class === undefined && values.generator !== undefined) throw new UsageError('--generator goes with --class: it makes class images');
  if (values.class !== undefined && values.layer !== undefined) throw new UsageError('Give --layer (filter images) or --class (class images), not both');
  const layer = values.class === undefined ? required(values.layer, 'layer', 'visualize') : undefined;
  const classes = values.class === undefined ? undefined : channelsOption(values.class);
  if (classes === 'all') throw new UsageError('--class takes class numbers (3, 0-9 or 1,4,7), not all');
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
      ? await xai.visualizeClassWithGenerator(Model.create(xai.runtime, generatorSpec), { classes, ...common, onProgress: progressBar('visualize') })
      : await xai.visualizeClass({ target: classes, ...common, onProgress: progressBar('visualize') });
    const [n, h, w, c] = result.shape;
    await writeOutput(out, encodePng(imageGrid(result.images, n, h, w, c, inputRange, classes)));
    const probabilities = 'probabilities' in result ? `; probability of its class: ${result.probabilities.map((p) => p.toFixed(3)).join(', ')}` : '';
    console.log(`visualize: ${n} class images${generatorSpec ? ` through the generator ${values.generator}` : ''}, ${result.milliseconds.toFixed(0)} ms -> ${out}${probabilities}`);
    return;
  }
  const result = await xai.visualizeFilters({ layer: layer!, channels: channelsOption(values.channels), ...common, onProgress: progressBar('visualize') });
  const [n, h, w, c] = result.shape;
  await writeOutput(out, encodePng(imageGrid(result.images, n, h, w, c, inputRange, result.channels)));
  // a channel that is zero on the start image gets no gradient and stays grey: say so, not silently
  const dead = result.channels.filter((_, i) => !(result.activations.final[i] > 0));
  const note = dead.length ? `; ${dead.length} channel(s) never activated (zero gradient from the start image): ${dead.join(', ')}` : '';
  console.log(`visualize: ${n} channels of ${layer}, ${result.milliseconds.toFixed(0)} ms -> ${out}${note}`);
}

/** Runs one command; throws XaiError subclasses for everything a user can fix. */
export async function runCli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'explain': return explain(rest);
    case 'visualize': return visualize(rest);
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
      throw new UsageError(`Unknown command '${command}' (commands: explain, visualize; see --help)`);
  }
}
