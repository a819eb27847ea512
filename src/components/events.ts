/**
 * The events the components dispatch. Every one is a CustomEvent that bubbles and is composed
 * (it crosses shadow roots), so a listener on any ancestor, or on `document`, hears it:
 *
 *   document.addEventListener('xai-explained', (e) => console.log(e.detail.milliseconds));
 *
 * The names are in GlobalEventHandlersEventMap, so `addEventListener` types `e.detail`.
 */
import type { Attribution, Explainer, GeneratorVisualization, Progress, Visualization } from '../index.js';
import type { BatchEntry } from './batch/batch.component.js';
import type { LayerMaps } from './internal/types.js';

export interface XaiExplainedDetail {
  /** The method as the engine names its result (Attribution.method: 'saliency', 'smoothgrad-mean', 'integrated-gradients', 'grad-cam', 'occlusion', ...). */
  method: string;
  /** The class explained (the predicted one when the target was 'top'). */
  target: number;
  milliseconds: number;
  attribution: Attribution;
}

export interface XaiErrorDetail {
  error: unknown;
  /** What failed: loading the model, reading the image, the explanation, or drawing. */
  phase: 'model' | 'image' | 'run' | 'draw';
  message: string;
}

export interface XaiProgressDetail extends Progress {
  /** What is running: the component's method name (saliency, smoothgrad, integrated-gradients, gradcam, occlusion), or 'filters'. */
  method: string;
  /** Estimated milliseconds left (from the rate so far), once something is done. */
  remaining: number | undefined;
}

export interface XaiCancelledDetail {
  method: string;
}

export interface XaiModelReadyDetail {
  explainer: Explainer;
}

export interface XaiComparedDetail {
  /** One per method, in the order they ran. */
  results: Attribution[];
  /** The shared display scale (undefined with scale-mode="per-map"). */
  scale: number | undefined;
}

export interface XaiBatchExplainedDetail {
  /** One per picture of <xai-batch>, in order (failed pictures carry their error). */
  results: BatchEntry[];
}

export interface XaiVisualizedDetail {
  result: Visualization;
}

export interface XaiGeneratedDetail {
  /** <xai-filter-gallery>'s class images through its generator. */
  result: GeneratorVisualization;
}

export interface XaiActivationsDetail {
  result: LayerMaps;
}

export interface XaiEventMap {
  'xai-explained': XaiExplainedDetail;
  'xai-error': XaiErrorDetail;
  'xai-progress': XaiProgressDetail;
  'xai-cancelled': XaiCancelledDetail;
  'xai-model-ready': XaiModelReadyDetail;
  'xai-compared': XaiComparedDetail;
  'xai-batch-explained': XaiBatchExplainedDetail;
  'xai-visualized': XaiVisualizedDetail;
  'xai-generated': XaiGeneratedDetail;
  'xai-activations': XaiActivationsDetail;
}

export type XaiEvent<K extends keyof XaiEventMap> = CustomEvent<XaiEventMap[K]>;
export type XaiExplainedEvent = XaiEvent<'xai-explained'>;
export type XaiErrorEvent = XaiEvent<'xai-error'>;
export type XaiProgressEvent = XaiEvent<'xai-progress'>;
export type XaiCancelledEvent = XaiEvent<'xai-cancelled'>;
export type XaiModelReadyEvent = XaiEvent<'xai-model-ready'>;
export type XaiComparedEvent = XaiEvent<'xai-compared'>;
export type XaiBatchExplainedEvent = XaiEvent<'xai-batch-explained'>;
export type XaiVisualizedEvent = XaiEvent<'xai-visualized'>;
export type XaiGeneratedEvent = XaiEvent<'xai-generated'>;
export type XaiActivationsEvent = XaiEvent<'xai-activations'>;

declare global {
  interface GlobalEventHandlersEventMap {
    'xai-explained': XaiExplainedEvent;
    'xai-error': XaiErrorEvent;
    'xai-progress': XaiProgressEvent;
    'xai-cancelled': XaiCancelledEvent;
    'xai-model-ready': XaiModelReadyEvent;
    'xai-compared': XaiComparedEvent;
    'xai-batch-explained': XaiBatchExplainedEvent;
    'xai-visualized': XaiVisualizedEvent;
    'xai-generated': XaiGeneratedEvent;
    'xai-activations': XaiActivationsEvent;
  }
}
