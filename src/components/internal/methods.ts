/** Runs one explanation method by name with the settings the controls hold (a dispatch, no engine logic). */
import type { Attribution, Explainer, IntegrationRule, Progress, Target } from '../../index.js';
import type { MethodName } from './types.js';

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

/** What a method's progress counts. */
export const PROGRESS_UNITS: Record<MethodName, string> = {
  saliency: 'passes',
  smoothgrad: 'samples',
  'integrated-gradients': 'steps',
  gradcam: 'passes',
  occlusion: 'windows',
};

export function isMethod(value: unknown): value is MethodName {
  return value === 'saliency' || value === 'smoothgrad' || value === 'integrated-gradients' || value === 'gradcam' || value === 'occlusion';
}

export function runMethod(
  explainer: Explainer,
  method: MethodName,
  input: { data: Float32Array; shape: number[] },
  s: MethodSettings,
  run: { signal: AbortSignal; onProgress: (p: Progress) => void },
): Promise<Attribution> {
  const { target } = s;
  switch (method) {
    case 'saliency': return explainer.saliency(input, { target });
    case 'smoothgrad': return explainer.smoothGrad(input, { target, samples: s.samples, noise: s.noise, ...run });
    case 'integrated-gradients': return explainer.integratedGradients(input, { target, steps: s.steps, baseline: s.baseline, rule: s.rule, ...run });
    case 'gradcam': return explainer.gradCam(input, { target, ...(s.layer ? { layer: s.layer } : {}) });
    case 'occlusion': return explainer.occlusion(input, { target, ...(s.window ? { window: s.window } : {}), ...run });
    default: return Promise.reject(new Error(`Unknown method '${String(method)}' (use saliency, smoothgrad, integrated-gradients, gradcam or occlusion)`));
  }
}
