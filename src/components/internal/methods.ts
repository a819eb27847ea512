/**
 * The explanation methods the components offer, as one table (no engine logic): a row per method
 * with its title, what its progress counts, which settings controls it uses, the Explainer call
 * that computes its map, and the numbers its result carries. Adding a method of the Explainer is
 * one row; the controls a row names are drawn by XaiMethodElement (method-element.ts).
 */
import type { AdaptiveAttribution, Attribution, Explainer, IntegrationRule, Progress, Target } from '../../index.js';

export type BaselineName = 'black' | 'white' | 'blur' | 'uniform';
export const BASELINES: readonly BaselineName[] = ['black', 'white', 'blur', 'uniform'];
/** What LIME's and KernelSHAP's "off" segments show (the engine's PerturbationBaseline less a constant). */
export type SegmentFill = 'mean' | 'blur' | 'black';
export const SEGMENT_FILLS: readonly SegmentFill[] = ['mean', 'blur', 'black'];
/** GradientSHAP's and DeepLIFT's reference images ('auto': the engine's default, uniform noise images and black respectively). */
export type ReferenceName = 'auto' | 'black' | 'white' | 'uniform';
export const REFERENCES: readonly ReferenceName[] = ['auto', 'black', 'white', 'uniform'];

export interface MethodSettings {
  target: Target;
  /** SmoothGrad: noisy copies and noise (fraction of the input range). */
  samples: number;
  noise: number;
  /** Integrated Gradients: path steps (with a tolerance: the first round's), baseline and quadrature rule. */
  steps: number;
  baseline: BaselineName;
  rule: IntegrationRule;
  /** Integrated Gradients: adaptive when set, Gauss-Legendre points doubled until the completeness error is under it. */
  tolerance: number | undefined;
  /** Occlusion window in pixels (undefined: the engine's default). */
  window: number | undefined;
  /** Grad-CAM, LayerCAM and Score-CAM layer (undefined: the last spatial layer). */
  layer: string | undefined;
  /** LIME and KernelSHAP: SLIC superpixels asked for, the masked copies (undefined: the engine's default), what off segments show. */
  segments: number;
  perturbations: number | undefined;
  segmentFill: SegmentFill;
  /** RISE: random masks (undefined: the engine's default, 4000). */
  masks: number | undefined;
  /** GradientSHAP and DeepLIFT: the references ('uniform' makes DeepLIFT DeepSHAP, the mean over noise images). */
  references: ReferenceName;
}

/** A setting a method's controls edit: every setting but the target (which every method has). */
export type ControlName = Exclude<keyof MethodSettings, 'target'>;

/** A number a result carries, shown beside its map (e.g. IG's completeness error). */
export interface MethodNumber {
  label: string;
  value: number | string;
  /** Shown as a percentage. */
  percent?: boolean;
}

type Input = { data: Float32Array; shape: number[] };
type Run = { signal: AbortSignal; onProgress: (p: Progress) => void };

export interface MethodRow<A extends Attribution = Attribution> {
  title: string;
  /** What the method's progress counts. */
  unit: string;
  /** The settings it reads, in the order its controls are shown. */
  controls: readonly ControlName[];
  /**
   * Its maps for the images and the settings, one per image in order: one Explainer call for the
   * list, which the engine runs as its batches (chunks across images, progress counting every
   * image's work, cancel within a chunk); one image is a list of one.
   */
  run(explainer: Explainer, inputs: readonly Input[], s: MethodSettings, run: Run): Promise<A[]>;
  /** The numbers its result carries (none: nothing is shown). */
  numbers?(a: A): MethodNumber[];
  /**
   * How its maps read, for the heatmap's 'auto' display: absent, gradients (magnitudes: abs-max over
   * channels, sequential palette); 'rectified', non-negative evidence such as CAMs (summed over
   * channels); 'signed', contributions whose sign is the point (summed, diverging palette). With
   * the `method` names of its results, which is what the heatmap sees.
   */
  map?: { values: 'rectified' | 'signed'; results: readonly string[] };
}

/** Infers a row's result type, so that `numbers` reads the fields its own method returns. */
const row = <A extends Attribution>(r: MethodRow<A>): MethodRow<A> => r;

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
const perturbation = (s: MethodSettings, run: Run) => ({ target: s.target, segments: s.segments, baseline: s.segmentFill, ...run });
const references = (s: MethodSettings) => optional('baselines', s.references === 'auto' ? undefined : s.references);
const segmentNumbers = (a: { segmentation: { segments: number } }): MethodNumber[] => [{ label: 'segments', value: a.segmentation.segments }];

export const METHOD_TABLE = {
  saliency: row({
    title: 'Saliency',
    unit: 'passes',
    controls: [],
    run: (explainer, inputs, { target }, run) => explainer.saliency(inputs, { target, ...run }),
  }),
  smoothgrad: row({
    title: 'SmoothGrad',
    unit: 'samples',
    controls: ['samples', 'noise'],
    run: (explainer, inputs, s, run) => explainer.smoothGrad(inputs, { target: s.target, samples: s.samples, noise: s.noise, ...run }),
  }),
  'integrated-gradients': row<Attribution & Partial<AdaptiveAttribution>>({
    title: 'Integrated Gradients',
    unit: 'steps',
    controls: ['steps', 'baseline', 'rule', 'tolerance'],
    run: (explainer, inputs, s, run) => {
      const options = { target: s.target, steps: s.steps, baseline: s.baseline, rule: s.rule, ...run };
      return s.tolerance === undefined ? explainer.integratedGradients(inputs, options) : explainer.adaptiveIntegratedGradients(inputs, { ...options, tolerance: s.tolerance });
    },
    numbers: (a) => [
      ...(a.completenessError === undefined ? [] : [{ label: 'completeness error', value: a.completenessError, percent: true }]),
      ...(a.converged === undefined ? [] : [{ label: 'steps used', value: a.steps! }, ...(a.converged ? [] : [{ label: 'tolerance', value: `${a.tolerance} not met` }])]),
    ],
    map: { values: 'signed', results: ['integrated-gradients', 'integrated-gradients-adaptive'] },
  }),
  gradcam: row({
    title: 'Grad-CAM',
    unit: 'passes',
    controls: ['layer'],
    run: (explainer, inputs, s, run) => explainer.gradCam(inputs, { target: s.target, ...optional('layer', s.layer), ...run }),
    numbers: (a) => [{ label: 'layer', value: a.layer }],
    map: { values: 'rectified', results: ['grad-cam', 'grad-cam++'] },
  }),
  occlusion: row({
    title: 'Occlusion',
    unit: 'windows',
    controls: ['window'],
    run: (explainer, inputs, s, run) => explainer.occlusion(inputs, { target: s.target, ...optional('window', s.window), ...run }),
    map: { values: 'signed', results: ['occlusion'] },
  }),
  'guided-backprop': row({
    title: 'Guided Backprop',
    unit: 'passes',
    controls: [],
    run: (explainer, inputs, { target }, run) => explainer.guidedBackprop(inputs, { target, ...run }),
  }),
  layercam: row({
    title: 'LayerCAM',
    unit: 'passes',
    controls: ['layer'],
    run: (explainer, inputs, s, run) => explainer.layerCam(inputs, { target: s.target, ...optional('layer', s.layer), ...run }),
    numbers: (a) => [{ label: 'layer', value: a.layer }],
    map: { values: 'rectified', results: ['layercam'] },
  }),
  scorecam: row({
    title: 'Score-CAM',
    unit: 'channels',
    controls: ['layer'],
    run: (explainer, inputs, s, run) => explainer.scoreCam(inputs, { target: s.target, ...optional('layer', s.layer), ...run }),
    numbers: (a) => [{ label: 'layer', value: a.layer }, { label: 'channels', value: a.channelScores.length }],
    map: { values: 'rectified', results: ['score-cam'] },
  }),
  rise: row({
    title: 'RISE',
    unit: 'masks',
    controls: ['masks'],
    run: (explainer, inputs, s, run) => explainer.rise(inputs, { target: s.target, ...optional('masks', s.masks), ...run }),
    numbers: (a) => [{ label: 'masks', value: a.masks }],
    map: { values: 'rectified', results: ['rise'] },
  }),
  lime: row({
    title: 'LIME',
    unit: 'samples',
    controls: ['segments', 'perturbations', 'segmentFill'],
    run: (explainer, inputs, s, run) => explainer.lime(inputs, { ...perturbation(s, run), ...optional('samples', s.perturbations) }),
    numbers: (a) => [{ label: 'R²', value: a.r2 }, { label: 'samples', value: a.samples }, ...segmentNumbers(a)],
    map: { values: 'signed', results: ['lime'] },
  }),
  kernelshap: row({
    title: 'KernelSHAP',
    unit: 'coalitions',
    controls: ['segments', 'perturbations', 'segmentFill'],
    run: (explainer, inputs, s, run) => explainer.kernelShap(inputs, { ...perturbation(s, run), ...optional('samples', s.perturbations) }),
    numbers: (a) => [
      { label: 'additivity error', value: a.additivityError },
      { label: 'coalitions', value: a.exact ? `${a.samples} (all: exact)` : a.samples },
      ...segmentNumbers(a),
    ],
    map: { values: 'signed', results: ['kernelshap'] },
  }),
  gradientshap: row({
    title: 'GradientSHAP',
    unit: 'samples',
    // SmoothGrad's noise control is left out: GradientSHAP's noise defaults to 0 (Captum's stdevs)
    controls: ['samples', 'references'],
    run: (explainer, inputs, s, run) => explainer.gradientShap(inputs, { target: s.target, samples: s.samples, ...references(s), ...run }),
    numbers: (a) => (a.completenessError === undefined ? [] : [{ label: 'completeness error (expected)', value: a.completenessError, percent: true }]),
    map: { values: 'signed', results: ['gradientshap'] },
  }),
  deeplift: row({
    title: 'DeepLIFT',
    unit: 'passes',
    controls: ['references'],
    run: (explainer, inputs, s, run) => explainer.deepLift(inputs, { target: s.target, ...references(s), ...run }),
    numbers: (a) => (a.completenessError === undefined ? [] : [{ label: 'summation-to-delta error', value: a.completenessError, percent: true }]),
    map: { values: 'signed', results: ['deeplift', 'deepshap'] },
  }),
};

/** The explanation methods the components run (the table's keys). */
export type MethodName = keyof typeof METHOD_TABLE;
export const METHODS: readonly MethodName[] = Object.freeze(Object.keys(METHOD_TABLE) as MethodName[]);

/** What <xai-compare> runs unless told otherwise: the methods that take seconds together. */
export const COMPARED_BY_DEFAULT: readonly MethodName[] = ['saliency', 'smoothgrad', 'integrated-gradients', 'gradcam', 'occlusion'];

/** The table's row of a method, typed for any result. */
export function methodRow(method: MethodName): MethodRow {
  return METHOD_TABLE[method] as MethodRow;
}

export const methodTitle = (method: MethodName): string => methodRow(method).title;

export function isMethod(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(METHOD_TABLE, value);
}

/** The method's map of one image. */
export async function runMethod(explainer: Explainer, method: MethodName, input: Input, s: MethodSettings, run: Run): Promise<Attribution> {
  return (await runMethodOnMany(explainer, method, [input], s, run))[0];
}

/** The method's maps of the images, one per image in order, in one Explainer call. */
export function runMethodOnMany(explainer: Explainer, method: MethodName, inputs: readonly Input[], s: MethodSettings, run: Run): Promise<Attribution[]> {
  if (!isMethod(method)) return Promise.reject(new Error(`Unknown method '${String(method)}' (use ${METHODS.join(', ')})`));
  return methodRow(method).run(explainer, inputs, s, run);
}

/** The engine's result names whose maps are 'rectified' or 'signed' (see MethodRow.map). */
export function resultsShownAs(values: 'rectified' | 'signed'): Set<string> {
  return new Set(Object.values(METHOD_TABLE).flatMap((r: MethodRow) => (r.map?.values === values ? r.map.results : [])));
}

/** The numbers `attribution`, a result of `method`, carries. */
export function methodNumbers(method: MethodName, attribution: Attribution): MethodNumber[] {
  return methodRow(method).numbers?.(attribution) ?? [];
}
