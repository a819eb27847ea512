/**
 * webgpu-xai engine entry: explanations of CNN image classifiers on WebGPU. No DOM and no Lit
 * here; the Node device helper lives in 'webgpu-xai/node' so that browsers never load Dawn.
 */
export * from './errors.js';
export { requestBrowserDevice, requestDeviceWithAdapterLimits } from './gpu/device.js';
export { Runtime, type RuntimeOptions, type RuntimeStats } from './gpu/runtime.js';
export { selectKernelVariant, type KernelPreference, type KernelVariant } from './gpu/variants.js';
export { Tensor, type Shape } from './gpu/tensor.js';
export { reflectBindings, reflectUniformLayout, packUniformStruct, type KernelSpec, type ReflectedBinding, type UniformLayout } from './gpu/kernel.js';
export { shaderSource } from './gpu/shaders.js';

export { Model, INPUT, type ForwardOptions, type BackwardOptions, type BackwardResult } from './model/model.js';
export type { LayerSpec, ModelSpec, WeightData } from './model/spec.js';
export { loadModelSpec, modelFiles, type LoadOptions } from './model/loaders/index.js';
export { filesFromUrl, filesFromMemory, ModelLoadError, UnsupportedModelError, type ModelFiles } from './model/loaders/files.js';
export { loadGraphModel, type GraphModelOptions } from './model/loaders/graph_model.js';
export { loadLayersModel, type LayersModelOptions } from './model/loaders/layers_model.js';
export { imageToInput, cropImage, type RgbaImage } from './model/image.js';
export { browserImagePixels, type BrowserImageSource } from './model/image-browser.js';

export { Explainer, type ExplainerOptions } from './explain/explainer.js';
export type { ImageBatch, Explained, PerImage } from './explain/batch.js';
export { defaultMaxBytes, type Plan } from './explain/planner.js';
export { reduceChannels, normalizeByPercentile, absPercentile, type Attribution, type ChannelReduction } from './explain/attribution.js';
export { AbortedError, type Progress, type RunOptions } from './explain/progress.js';
export { quadrature, INTEGRATION_RULES, type IntegrationRule, type Baseline } from './explain/integrated_gradients.js';
export { encodeNpy } from './explain/npy.js';
export { sequentialColor, divergingColor } from './explain/colormap.js';
export type { ImageInput } from './explain/context.js';
export type { GradCamAttribution, GradCamOptions } from './explain/gradcam.js';
export type { LayerCamAttribution, LayerCamOptions } from './explain/layercam.js';
export type { ScoreCamAttribution, ScoreCamOptions } from './explain/scorecam.js';
export type { RiseAttribution, RiseOptions } from './explain/rise.js';
export type { AdaptiveAttribution, AdaptiveExplained, AdaptiveIntegratedGradientsOptions } from './explain/adaptive_ig.js';
export type { Curves, MapInput, PerturbationCurve, PerturbationCurveOptions, CurveMode } from './explain/metrics/deletion_insertion.js';
export { spearman } from './explain/metrics/model_randomization.js';
export { pearson } from './explain/metrics/mufidelity.js';
export type { MuFidelities, MuFidelityOptions, MuFidelityResult } from './explain/metrics/mufidelity.js';
export type { ExplainFunction, MaxSensitivities, MaxSensitivityOptions, MaxSensitivityResult } from './explain/metrics/max_sensitivity.js';
export type { Infidelities, InfidelityOptions, InfidelityPerturbation, InfidelityResult } from './explain/metrics/infidelity.js';
export type { ModelRandomizationOptions, ModelRandomizationResult } from './explain/metrics/model_randomization.js';
export type { OcclusionAttribution, OcclusionOptions } from './explain/occlusion.js';
export type { LimeAttribution, LimeOptions } from './explain/lime.js';
export type { KernelShapAttribution, KernelShapOptions } from './explain/kernel_shap.js';
export type { PerturbationBaseline, PerturbationOptions } from './explain/perturbation.js';
export type { Segmentation, SegmentationOptions } from './explain/segmentation.js';
export type { ActivationsOptions, LayerActivations } from './explain/activations.js';
export type { AscentOptions, Visualization, FilterVisualizationOptions, ClassVisualizationOptions, Parametrization, Regularization } from './explain/visualize.js';
export type { SmoothGradOptions, SmoothGradVariant } from './explain/smoothgrad.js';
export type { IntegratedGradientsOptions } from './explain/integrated_gradients.js';
export type { BaselineSet, BaselineSetOptions } from './explain/baselines.js';
export type { DeepLiftOptions } from './explain/deeplift.js';
export { gradientShapDraws, type GradientShapOptions } from './explain/gradient_shap.js';
export type { TargetOptions } from './explain/saliency.js';
export type { Target, Targets, SingleTarget, Score, ScoreSpec, Reduction } from './explain/score.js';
export type { GeneratorClassOptions, GeneratorVisualization } from './explain/generator.js';
export type { LayerEmbedding, LayerEmbeddingOptions, LayerFeatureOptions } from './explain/embedding.js';
export { pca, COVARIANCE_MAX_DIMENSION, type PcaOptions, type PcaResult } from './explain/pca.js';
export { tsne, type TsneOptions, type TsneResult } from './explain/tsne.js';

// training on the engine's own backward passes
export { fit, evaluate, cosineDecay, type TrainingData, type FitOptions, type EpochStats, type TrainingProgress, type Evaluation } from './train/fit.js';
export type { OptimizerOptions } from './train/optimizer.js';
export { smallCnn, type SmallCnnOptions } from './train/cnn.js';
export { probeLayers, type LayerProbe, type ProbeOptions } from './train/probe.js';
export { autoencoder, decoderOf, type AutoencoderOptions } from './train/autoencoder.js';
export { vae, type VaeOptions, type VaeSpecs } from './train/vae.js';
export { fitVae, evaluateVae, elboGradients, type VaeFitOptions, type VaeEvaluation, type VaeEpochStats, type VaeProgress, type ElboGradients } from './train/fit_vae.js';
export { shortcutDataset, backgroundMass, topBackgroundShare, SHORTCUT_CLASSES, type ShortcutData, type ShortcutDataOptions } from './train/shortcut.js';
export { shortcutStudy, type ShortcutStudyOptions, type ShortcutStudyReport, type StudyModelReport } from './train/shortcut_study.js';
export { saveLayersModel, currentSpec, type SavedLayersModel } from './model/save.js';
export type { LossKind } from './ops/loss.js';
