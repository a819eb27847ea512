/**
 * webgpu-xai command line: explain an image with a TF.js model, visualize filters, benchmark.
 * Every failure prints one line (what was wrong, what to do) and exits non-zero.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { reduceChannels, normalizeByPercentile, type Attribution, type ChannelReduction } from '../explain/attribution.js';
import { Explainer } from '../explain/explainer.js';
import { INTEGRATION_RULES, type IntegrationRule } from '../explain/integrated_gradients.js';
import { encodeNpy } from '../explain/npy.js';
import { requestNodeDevice } from '../gpu/node-device.js';
import { Runtime } from '../gpu/runtime.js';
import { cropImage, imageToInput } from '../model/image.js';
import { decodeImageFile, encodePng } from '../model/image-node.js';
import { loadModelSpec, modelFiles } from '../model/loaders/index.js';
import { Model } from '../model/model.js';
import { UsageError, channelsOption, choiceOption, integerOption, numberOption, rangeOption, targetOption } from './args.js';
import { imageGrid, overlay } from './overlay.js';
import { progressBar } from './progress-bar.js';

const METHODS = ['saliency', 'smoothgrad', 'ig', 'gradcam', 'occlusion'] as const;
type Method = (typeof METHODS)[number];

const HELP: Record<string, string> = {
  main: `webgpu-xai <command> [options]

Commands:
  explain     attribution map of an image under a TF.js model (PNG overlay, optional .npy)
  visualize   gradient-ascent images of a layer's filters (PNG grid)
  bench       explanation throughput benchmark (see bench/README.md)

Run 'webgpu-xai <command> --help' for a command's options.`,
  explain: `webgpu-xai explain --model model.json --image in.png --out map.png [options]

  --model PATH|URL       TF.js model.json (Layers or graph-model format)
  --image PATH           PNG or JPEG; resized to the model input, grayscale for 1-channel models
  --out PATH             heatmap overlay PNG
  --npy PATH             raw attributions [1,H,W,C] as float32 .npy
  --method M             saliency (default) | smoothgrad | ig | gradcam | occlusion
  --target N|top         class to explain (default top)
  --score S              logit (default) | probability
  --input-range a,b      pixels 0..255 map linearly onto [a,b] (default 0,1)
  --crop x,y,w,h         explain this rectangle of the image (e.g. a face)
  --labels a,b,c         class names to print
  --samples N --noise F --seed S           SmoothGrad (50, 0.15, 0)
  --steps N --baseline B --rule R          IG (64, black|white|blur|uniform, ${INTEGRATION_RULES.join('|')})
  --layer NAME                             Grad-CAM layer (default: last 4-D layer)
  --window N --stride N                    occlusion (8, 4)`,
  visualize: `webgpu-xai visualize --model model.json --layer NAME --out grid.png [options]

  --channels 0-15|all    channels to visualize (default all)
  --steps N              gradient-ascent steps (default 256)
  --learning-rate F      (default 0.05)
  --input-range a,b      (default 0,1)
  --seed S               (default 7)`,
};

async function openModel(location: string, inputRange: [number, number]) {
  const device = await requestNodeDevice();
  const rt = new Runtime(device);
  const model = Model.create(rt, await loadModelSpec(modelFiles(location)));
  return Explainer.create(rt, model, { inputRange });
}

async function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

function required(value: string | undefined, name: string, command: string): string {
  if (!value) throw new UsageError(`${command} needs --${name} (see 'webgpu-xai ${command} --help')`);
  return value;
}

async function explain(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, image: { type: 'string' }, out: { type: 'string' }, npy: { type: 'string' },
      method: { type: 'string' }, target: { type: 'string' }, score: { type: 'string' }, 'input-range': { type: 'string' },
      samples: { type: 'string' }, noise: { type: 'string' }, seed: { type: 'string' },
      steps: { type: 'string' }, baseline: { type: 'string' }, rule: { type: 'string' },
      layer: { type: 'string' }, window: { type: 'string' }, stride: { type: 'string' }, crop: { type: 'string' }, labels: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP.explain);
  const modelPath = required(values.model, 'model', 'explain');
  const imagePath = required(values.image, 'image', 'explain');
  const out = required(values.out, 'out', 'explain');
  const method: Method = choiceOption(values.method, 'method', METHODS, 'saliency');
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const target = targetOption(values.target);
  const score = choiceOption(values.score, 'score', ['logit', 'probability'] as const, 'logit');
  const decoded = await decodeImageFile(imagePath);
  const crop = values.crop?.split(',').map(Number);
  if (crop && crop.length !== 4) throw new UsageError(`--crop takes x,y,width,height; got '${values.crop}'`);
  const photo = crop ? cropImage(decoded, crop[0], crop[1], crop[2], crop[3]) : decoded;
  const xai = await openModel(modelPath, inputRange);
  const image = imageToInput(photo, { shape: xai.model.inputShape, inputRange });
  const onProgress = progressBar(method);
  let result: Attribution;
  switch (method) {
    case 'saliency':
      result = await xai.saliency(image, { target, score });
      break;
    case 'smoothgrad':
      result = await xai.smoothGrad(image, { target, score, onProgress, samples: integerOption(values.samples, 'samples', 50), noise: numberOption(values.noise, 'noise', 0.15), seed: integerOption(values.seed, 'seed', 0, 0) });
      break;
    case 'ig':
      result = await xai.integratedGradients(image, {
        target, score, onProgress, steps: integerOption(values.steps, 'steps', 64),
        baseline: choiceOption(values.baseline, 'baseline', ['black', 'white', 'blur', 'uniform'] as const, 'black'),
        rule: choiceOption(values.rule, 'rule', INTEGRATION_RULES, 'gauss-legendre' as IntegrationRule), seed: integerOption(values.seed, 'seed', 0, 0),
      });
      break;
    case 'gradcam':
      result = await xai.gradCam(image, { target, score, layer: values.layer });
      break;
    case 'occlusion':
      result = await xai.occlusion(image, { target, score, onProgress, window: integerOption(values.window, 'window', 8), stride: integerOption(values.stride, 'stride', 4) });
      break;
  }
  const [h, w, c] = result.shape;
  // gradients: magnitude per pixel; IG and occlusion: signed contributions
  const signed = method === 'ig' || method === 'occlusion';
  const reduction: ChannelReduction = signed ? 'sum' : 'abs-max';
  const map = normalizeByPercentile(c === 1 ? result.values : reduceChannels(result, reduction), 99);
  await writeOutput(out, encodePng(overlay(photo, map, h, w, signed)));
  if (values.npy) await writeOutput(values.npy, encodeNpy(result.values, [1, h, w, c]));
  const label = (values.labels?.split(',') ?? xai.model.labels)?.[result.target];
  const extra = result.completenessError !== undefined ? `, completeness error ${result.completenessError.toExponential(2)}` : '';
  console.log(`${method}: class ${result.target}${label ? ` (${label})` : ''}, ${result.milliseconds.toFixed(0)} ms${extra} -> ${out}${values.npy ? `, ${values.npy}` : ''}`);
}

async function visualize(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, layer: { type: 'string' }, out: { type: 'string' }, channels: { type: 'string' },
      steps: { type: 'string' }, 'learning-rate': { type: 'string' }, 'input-range': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) return void console.log(HELP.visualize);
  const inputRange = rangeOption(values['input-range'], 'input-range', [0, 1]);
  const xai = await openModel(required(values.model, 'model', 'visualize'), inputRange);
  const out = required(values.out, 'out', 'visualize');
  const result = await xai.visualizeFilters({
    layer: required(values.layer, 'layer', 'visualize'),
    channels: channelsOption(values.channels),
    steps: integerOption(values.steps, 'steps', 256),
    learningRate: numberOption(values['learning-rate'], 'learning-rate', 0.05),
    seed: integerOption(values.seed, 'seed', 7, 0),
    onProgress: progressBar('visualize'),
  });
  const [n, h, w, c] = result.shape;
  await writeOutput(out, encodePng(imageGrid(result.images, n, h, w, c, inputRange)));
  // a channel that is zero on the start image gets no gradient and stays grey: say so, not silently
  const dead = result.channels.filter((_, i) => !(result.activations.final[i] > 0));
  const note = dead.length ? `; ${dead.length} channel(s) never activated (zero gradient from the start image): ${dead.join(', ')}` : '';
  console.log(`visualize: ${n} channels of ${values.layer}, ${result.milliseconds.toFixed(0)} ms -> ${out}${note}`);
}

/** Runs one command; throws XaiError subclasses for everything a user can fix. */
export async function runCli(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'explain': return explain(rest);
    case 'visualize': return visualize(rest);
    case 'bench': {
      const { runBenchCli } = await import('../../bench/cli.js');
      return runBenchCli(rest);
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      return void console.log(HELP.main);
    default:
      throw new UsageError(`Unknown command '${command}' (commands: explain, visualize, bench; see --help)`);
  }
}
