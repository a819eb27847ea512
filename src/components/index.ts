/**
 * webgpu-xai/components: Lit web components over the public engine API. Importing this module
 * defines every element (<xai-heatmap>, <xai-explainer>, <xai-compare>, <xai-filter-gallery>,
 * <xai-activations>, <xai-batch>, <xai-embedding>); import a single one ('.../heatmap/heatmap.js') to define only that one.
 *
 * Primitives are attributes (method, target, samples, model-url, src, ...); the Explainer, the
 * picture and results are properties. Events (events.ts) bubble and are composed. Long runs are
 * cancellable (`cancel()` / `stop()`, or the Cancel button: an AbortSignal to the engine).
 *
 * Theming, inherited through the shadow roots: --xai-font-family, --xai-font-size, --xai-color,
 * --xai-muted-color, --xai-background, --xai-surface, --xai-border-color, --xai-radius,
 * --xai-gap, --xai-accent, --xai-accent-contrast, --xai-error-color, --xai-heatmap-size,
 * --xai-colorbar-height, --xai-compare-size, --xai-thumb-size, --xai-batch-size; and every element's ::part()s
 * (listed in each class's JSDoc).
 */
export * from './events.js';
export type { ColormapKind, Reduction } from './internal/display.js';
export { METHODS, methodTitle, type BaselineName, type SegmentFill } from './internal/methods.js';
export type { ImageSource, LayerMaps, MethodName } from './internal/types.js';
export { XaiHeatmap } from './heatmap/heatmap.js';
export { XaiExplainer } from './explainer/explainer.js';
export { XaiCompare, type CompareEntry } from './compare/compare.js';
export { XaiFilterGallery } from './filter-gallery/filter-gallery.js';
export { XaiActivations } from './activations/activations.js';
export { XaiBatch, type BatchEntry, type BatchImage, type TopClass } from './batch/batch.js';
export { XaiEmbedding, type EmbeddingPoints } from './embedding/embedding.js';
