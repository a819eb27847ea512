/**
 * The explanation methods the components offer, as one table (no engine logic): a row per method
 * with its title, what its progress counts, which settings controls it uses, the Explainer call
 * that computes its map, and the numbers its result carries. Adding a method of the Explainer is
 * one row; the controls a row names are drawn by XaiMethodElement (method-element.ts).
 */
import type { Attribution, Explainer, IntegrationRule, Progress, Target } from '../../index.js';

export type BaselineName = 'black' | 'white' | 'blur' | 'uniform';
export const BASELINES: readonly BaselineName[] = ['black', 'white', 'blur', 'uniform'];

export interface MethodSettings {
  target: Target;
  /** SmoothGrad: noisy copies and noise (fraction of the input range). */
  samples: number;
  noise: number;
  /** Integrated Gradients: path steps, baseline and quadrature rule. */
  steps: number;
  baseline: BaselineName;
  rule: IntegrationRule;
  /** Occlusion window in pixels (undefined: the engine's default). */
  window: number | undefined;
  /** Grad-CAM layer (undefined: the last spatial layer). */
  layer: string | undefined;
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
  /** Its map for one image and the settings. */
  run(explainer: Explainer, input: Input, s: MethodSettings, run: Run): Promise<A>;
  /** The numbers its result carries (none: nothing is shown). */
  numbers?(a: A): MethodNumber[];
}

/** Infers a row's result type, so that `numbers` reads the fields its own method returns. */
const row = <A extends Attribution>(r: MethodRow<A>): MethodRow<A> => r;

export const METHOD_TABLE = {
  saliency: row({
    title: 'Saliency',
    unit: 'passes',
    controls: [],
    run: (explainer, input, { target }) => explainer.saliency(input, { target }),
  }),
  smoothgrad: row({
    title: 'SmoothGrad',
    unit: 'samples',
    controls: ['samples', 'noise'],
    run: (explainer, input, s, run) => explainer.smoothGrad(input, { target: s.target, samples: s.samples, noise: s.noise, ...run }),
  }),
  'integrated-gradients': row({
    title: 'Integrated Gradients',
    unit: 'steps',
    controls: ['steps', 'baseline', 'rule'],
    run: (explainer, input, s, run) => explainer.integratedGradients(input, { target: s.target, steps: s.steps, baseline: s.baseline, rule: s.rule, ...run }),
    numbers: (a) => (a.completenessError === undefined ? [] : [{ label: 'completeness error', value: a.completenessError, percent: true }]),
  }),
  gradcam: row({
    title: 'Grad-CAM',
    unit: 'passes',
    controls: ['layer'],
    run: (explainer, input, s) => explainer.gradCam(input, { target: s.target, ...(s.layer ? { layer: s.layer } : {}) }),
  }),
  occlusion: row({
    title: 'Occlusion',
    unit: 'windows',
    controls: ['window'],
    run: (explainer, input, s, run) => explainer.occlusion(input, { target: s.target, ...(s.window ? { window: s.window } : {}), ...run }),
  }),
};

/** The explanation methods the components run (the table's keys). */
export type MethodName = keyof typeof METHOD_TABLE;
export const METHODS = Object.keys(METHOD_TABLE) as MethodName[];

/** The table's row of a method, typed for any result. */
export function methodRow(method: MethodName): MethodRow {
  return METHOD_TABLE[method] as MethodRow;
}

export const methodTitle = (method: MethodName): string => methodRow(method).title;

export function isMethod(value: unknown): value is MethodName {
  return typeof value === 'string' && Object.hasOwn(METHOD_TABLE, value);
}

export function runMethod(explainer: Explainer, method: MethodName, input: Input, s: MethodSettings, run: Run): Promise<Attribution> {
  if (!isMethod(method)) return Promise.reject(new Error(`Unknown method '${String(method)}' (use ${METHODS.join(', ')})`));
  return methodRow(method).run(explainer, input, s, run);
}

/** The numbers `attribution`, a result of `method`, carries. */
export function methodNumbers(method: MethodName, attribution: Attribution): MethodNumber[] {
  return methodRow(method).numbers?.(attribution) ?? [];
}
