/**
 * The explanation the `explain` command runs, for one image or many: its options parsed once
 * (before any GPU work) and `explainBatch`, the one place that calls the Explainer. It calls the
 * Explainer's batch API with every image of a chunk at once.
 */
import { INTEGRATION_RULES, type Attribution, type Explainer, type ImageInput, type IntegrationRule, type Progress, type Target } from '../index.js';
import { choiceOption, integerOption, numberOption, UsageError } from './args.js';

export const METHODS = ['saliency', 'smoothgrad', 'ig', 'gradientshap', 'deeplift', 'gradcam', 'occlusion', 'guided-backprop', 'layercam', 'scorecam', 'rise', 'lime', 'kernelshap'] as const;
export type Method = (typeof METHODS)[number];

/** What to explain and how: the method and only the settings it uses (they go into the summary). */
export type MethodSettings =
  | { method: 'saliency' }
  | { method: 'smoothgrad'; samples: number; noise: number; seed: number }
  // adaptive: the completeness tolerance of adaptive IG (steps is then its first round's)
  | { method: 'ig'; steps: number; baseline: 'black' | 'white' | 'blur' | 'uniform'; rule: IntegrationRule; seed: number; adaptive?: number }
  // a named baseline set; baselineCount only with 'uniform' (the library's 16 unless given)
  | { method: 'gradientshap'; samples: number; noise: number; baseline: CliBaselines; baselineCount?: number; seed: number }
  | { method: 'deeplift'; baseline: CliBaselines; baselineCount?: number; seed: number }
  | { method: 'gradcam'; layer?: string }
  // window and stride: the library's defaults (1/8 of the shorter side, half the window) unless given
  | { method: 'occlusion'; window?: number; stride?: number }
  | { method: 'guided-backprop' }
  | { method: 'layercam' | 'scorecam'; layer?: string }
  // the perturbation methods with their library defaults (RISE 4000 masks, LIME 1000 samples, KernelSHAP 'auto')
  | { method: 'rise' | 'lime' | 'kernelshap'; seed: number };
/** The baseline sets the command line names (the API also takes images). */
export type CliBaselines = 'black' | 'white' | 'uniform';

/** --baseline and --baseline-count of GradientSHAP and DeepLIFT (--baseline-count only with uniform). */
function baselineSettings(text: (name: string) => string | undefined, fallback: CliBaselines): { baseline: CliBaselines; baselineCount?: number } {
  const baseline = choiceOption(text('baseline'), 'baseline', ['black', 'white', 'uniform'] as const, fallback);
  if (text('baseline-count') === undefined) return { baseline };
  if (baseline !== 'uniform') throw new UsageError(`--baseline-count sets the number of uniform noise baselines; it needs --baseline uniform (got ${baseline})`);
  return { baseline, baselineCount: integerOption(text('baseline-count'), 'baseline-count', 16) };
}

/** The command line scores a class's logit or probability (the API's node/channel score specs are not offered). */
export type CliScore = 'logit' | 'probability';
/** One target for every image, or one per image (evaluate explains perturbed copies for their image's class). */
export type MethodRequest = MethodSettings & { target: Target | readonly Target[]; score: CliScore };

type Values = Record<string, string | boolean | string[] | undefined>;

/** The command-line options methodSettings reads: explain and evaluate both take them. */
export const METHOD_OPTIONS = {
  samples: { type: 'string' }, noise: { type: 'string' }, seed: { type: 'string' },
  steps: { type: 'string' }, baseline: { type: 'string' }, 'baseline-count': { type: 'string' }, rule: { type: 'string' }, adaptive: { type: 'string' },
  layer: { type: 'string' }, window: { type: 'string' }, stride: { type: 'string' },
} as const;

/** The method and its settings from the parsed command line; throws UsageError for bad values. */
export function methodSettings(values: Values): MethodSettings {
  const text = (name: string) => values[name] as string | undefined;
  const seed = () => integerOption(text('seed'), 'seed', 0, 0);
  // 'integrated-gradients' is the method's full name, as the Explainer and the papers say it
  const method = choiceOption(text('method') === 'integrated-gradients' ? 'ig' : text('method'), 'method', METHODS, 'saliency');
  if (text('adaptive') !== undefined && method !== 'ig') throw new UsageError(`--adaptive is a completeness tolerance of Integrated Gradients (--method ig), not of ${method}`);
  switch (method) {
    case 'saliency': return { method };
    case 'smoothgrad': return { method, samples: integerOption(text('samples'), 'samples', 50), noise: numberOption(text('noise'), 'noise', 0.15), seed: seed() };
    case 'ig': {
      const adaptive = adaptiveOption(text('adaptive'));
      const rule = choiceOption(text('rule'), 'rule', INTEGRATION_RULES, 'gauss-legendre' as IntegrationRule);
      if (adaptive !== undefined && rule !== 'gauss-legendre') throw new UsageError(`--adaptive adds Gauss-Legendre points; it cannot use --rule ${rule}`);
      return {
        method,
        // adaptive IG starts at 16 points (the library's default) and doubles them
        steps: integerOption(text('steps'), 'steps', adaptive === undefined ? 64 : 16),
        baseline: choiceOption(text('baseline'), 'baseline', ['black', 'white', 'blur', 'uniform'] as const, 'black'),
        rule,
        seed: seed(),
        ...(adaptive !== undefined ? { adaptive } : {}),
      };
    }
    case 'gradientshap': return {
      method,
      samples: integerOption(text('samples'), 'samples', 50),
      noise: numberOption(text('noise'), 'noise', 0),
      ...baselineSettings(text, 'uniform'),
      seed: seed(),
    };
    case 'deeplift': return { method, ...baselineSettings(text, 'black'), seed: seed() };
    case 'gradcam': return text('layer') ? { method, layer: text('layer') } : { method };
    case 'occlusion': {
      const window = text('window') === undefined ? undefined : integerOption(text('window'), 'window', 8);
      const stride = text('stride') === undefined ? undefined : integerOption(text('stride'), 'stride', 4);
      return { method, ...(window !== undefined ? { window } : {}), ...(stride !== undefined ? { stride } : {}) };
    }
    case 'guided-backprop': return { method };
    case 'layercam':
    case 'scorecam': return text('layer') ? { method, layer: text('layer') } : { method };
    case 'rise':
    case 'lime':
    case 'kernelshap': return { method, seed: seed() };
  }
}

/** --adaptive TOL: a relative completeness error in (0, 1). */
function adaptiveOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const tolerance = Number(value);
  if (!(tolerance > 0 && tolerance < 1)) throw new UsageError(`--adaptive takes the completeness error to reach, a number in (0, 1) such as 0.01; got '${value}'`);
  return tolerance;
}

export const scoreOption = (values: Values): CliScore => choiceOption(values.score as string | undefined, 'score', ['logit', 'probability'] as const, 'logit');

/** Gradients and CAMs are magnitudes per pixel; IG, GradientSHAP, DeepLIFT, occlusion, LIME and KernelSHAP maps are signed contributions. */
export const isSigned = (method: Method) => ['ig', 'gradientshap', 'deeplift', 'occlusion', 'lime', 'kernelshap'].includes(method);

export interface ExplainedImage {
  attribution: Attribution;
  /** The explained score (logit or probability, per request.score) of the target class. */
  score: number;
  /** The model's output for the image (probabilities when it ends in softmax or sigmoid). */
  output: Float32Array;
  /** The image's share of the call: its wall time (explanation and outputs) divided by the images in it. */
  milliseconds: number;
}

/** The request's method on the images: the one dispatch from a method name to the Explainer (explain and evaluate use it). */
export function explainMany(xai: Explainer, images: ImageInput[], request: MethodRequest, onProgress?: (p: Progress) => void): Promise<Attribution[]> {
  const { target, score } = request;
  switch (request.method) {
    case 'saliency': return xai.saliency(images, { target, score, onProgress });
    case 'smoothgrad': return xai.smoothGrad(images, { target, score, onProgress, samples: request.samples, noise: request.noise, seed: request.seed });
    case 'ig': {
      const ig = { target, score, onProgress, steps: request.steps, baseline: request.baseline, rule: request.rule, seed: request.seed };
      const { adaptive } = request;
      if (adaptive !== undefined) return xai.adaptiveIntegratedGradients(images, { ...ig, tolerance: adaptive });
      return xai.integratedGradients(images, ig);
    }
    case 'gradientshap': return xai.gradientShap(images, { target, score, onProgress, samples: request.samples, noise: request.noise, baselines: request.baseline, baselineCount: request.baselineCount, seed: request.seed });
    case 'deeplift': return xai.deepLift(images, { target, score, onProgress, baselines: request.baseline, baselineCount: request.baselineCount, seed: request.seed });
    case 'gradcam': return xai.gradCam(images, { target, score, onProgress, layer: request.layer });
    case 'occlusion': return xai.occlusion(images, { target, score, onProgress, window: request.window, stride: request.stride });
    case 'guided-backprop': return xai.guidedBackprop(images, { target, score, onProgress });
    case 'layercam': return xai.layerCam(images, { target, score, onProgress, layer: request.layer });
    case 'scorecam': return xai.scoreCam(images, { target, score, onProgress, layer: request.layer });
    case 'rise': return xai.rise(images, { target, score, onProgress, seed: request.seed });
    case 'lime': return xai.lime(images, { target, score, onProgress, seed: request.seed });
    case 'kernelshap': return xai.kernelShap(images, { target, score, onProgress, seed: request.seed });
  }
}

/**
 * One result per image, in order: the images' copies (noisy samples, path points, windows, masks) run
 * together as the GPU batches the Explainer plans. `onProgress` reports that work as it finishes.
 */
export async function explainBatch(xai: Explainer, images: readonly ImageInput[], request: MethodRequest, onProgress?: (p: Progress) => void): Promise<ExplainedImage[]> {
  if (!images.length) return [];
  const started = performance.now();
  const { model } = xai;
  const many = [...images];
  const attributions = await explainMany(xai, many, request, onProgress);
  const outputs = await xai.activations(many, { layer: model.outputName });
  const scored = request.score === 'logit' && model.logitsName !== model.outputName ? await xai.activations(many, { layer: model.logitsName }) : outputs;
  // every result of a batched call carries the whole call's time
  const milliseconds = (performance.now() - started) / many.length;
  return attributions.map((attribution, i) => ({ attribution, score: scored[i].values[attribution.target], output: outputs[i].values, milliseconds }));
}
