/**
 * The public face of the explanation methods: one object per (device, model), each method one
 * call that keeps the heavy work on the GPU and returns only the final maps. Every method takes
 * one image (one result) or many (an array of images, or a stack [N, H, W, C]: one result per
 * image, in order); `{ topK: k }` targets give k results per image.
 *
 *   const xai = await Explainer.create(device, model);
 *   const map = await xai.saliency(image, { target: 'top' });
 *   const maps = await xai.smoothGrad([a, b, c], { target: ['top', 3, 'cat'], samples: 16 });
 */
import { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { Model } from '../model/model.js';
import type { ModelSpec } from '../model/spec.js';
import { OptionError } from '../errors.js';
import { activations, type ActivationsOptions, type LayerActivations } from './activations.js';
import type { Attribution } from './attribution.js';
import type { Explained, ImageBatch, ManyImages } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { defaultMaxBytes } from './planner.js';
import type { RunOptions } from './progress.js';
import { layerEmbedding, layerFeatures, type LayerEmbedding, type LayerEmbeddingOptions, type LayerFeatureOptions } from './embedding.js';
import { gradCam, type GradCamAttribution, type GradCamOptions } from './gradcam.js';
import { integratedGradients, type IntegratedGradientsOptions } from './integrated_gradients.js';
import { deepLift, type DeepLiftOptions } from './deeplift.js';
import { gradientShap, type GradientShapOptions } from './gradient_shap.js';
import { kernelShap, type KernelShapAttribution, type KernelShapOptions } from './kernel_shap.js';
import { lime, type LimeAttribution, type LimeOptions } from './lime.js';
import { occlusion, type OcclusionAttribution, type OcclusionOptions } from './occlusion.js';
import { layerCam, type LayerCamAttribution, type LayerCamOptions } from './layercam.js';
import { scoreCam, type ScoreCamAttribution, type ScoreCamOptions } from './scorecam.js';
import { rise, type RiseAttribution, type RiseOptions } from './rise.js';
import { guidedBackprop } from './guided_backprop.js';
import { adaptiveIntegratedGradients, type AdaptiveExplained, type AdaptiveIntegratedGradientsOptions } from './adaptive_ig.js';
import { perturbationCurve, type Curves, type MapInput, type PerturbationCurveOptions } from './metrics/deletion_insertion.js';
import { modelRandomization, type ModelRandomizationOptions, type ModelRandomizationResult } from './metrics/model_randomization.js';
import { infidelity, type Infidelities, type InfidelityOptions } from './metrics/infidelity.js';
import { maxSensitivity, type ExplainFunction, type MaxSensitivities, type MaxSensitivityOptions } from './metrics/max_sensitivity.js';
import { muFidelity, type MuFidelities, type MuFidelityOptions } from './metrics/mufidelity.js';
import { saliency, type TargetOptions } from './saliency.js';
import { smoothGrad, type SmoothGradOptions } from './smoothgrad.js';
import { visualizeClassWithGenerator, type GeneratorClassOptions, type GeneratorVisualization } from './generator.js';
import { visualizeClass, visualizeFilters, type ClassVisualizationOptions, type FilterVisualizationOptions, type Visualization } from './visualize.js';

export interface ExplainerOptions {
  /** Range of valid input values. Default [0, 1]. */
  inputRange?: readonly [number, number];
  /** Largest batch one chunk may hold (noisy copies, path steps, filters). Default 256. */
  maxChunk?: number;
  /**
   * Budget in bytes for the GPU buffers of one call (activations kept for the backward pass,
   * gradients, the method's own buffers); every chunk size is planned within it. Default: 512 MiB
   * or four of the device's largest storage buffers, whichever is less.
   */
  maxBytes?: number;
  /**
   * Throw an InputError for images whose values lie far outside inputRange (beyond it by more than
   * its width, e.g. raw 0..255 pixels for a [-1, 1] model) instead of warning. Default false.
   */
  strictRange?: boolean;
  /** Receives that warning, once per explainer. Default console.warn. */
  onWarning?: (message: string) => void;
}

export class Explainer {
  private disposed = false;

  private constructor(
    private readonly ctx: ExplainContext,
    /** The model (and runtime) this explainer made from a ModelSpec (or a device), freed by dispose(). */
    private readonly ownsModel: boolean,
    private readonly ownsRuntime: boolean,
  ) {}

  /** From a device (a runtime is made for it) or a runtime, and a loaded Model or a ModelSpec. */
  static async create(device: GPUDevice | Runtime, model: Model | ModelSpec, options: ExplainerOptions = {}): Promise<Explainer> {
    const inputRange = options.inputRange ?? [0, 1];
    if (!Array.isArray(inputRange) || inputRange.length !== 2 || !inputRange.every(Number.isFinite) || !(inputRange[1] > inputRange[0])) {
      throw new OptionError(`inputRange must be [low, high] with low < high, got ${JSON.stringify(inputRange)}`);
    }
    const maxChunk = options.maxChunk ?? 256;
    if (!Number.isInteger(maxChunk) || maxChunk < 1) throw new OptionError(`maxChunk must be a positive integer, got ${maxChunk}`);
    if (options.maxBytes !== undefined && !(Number.isFinite(options.maxBytes) && options.maxBytes > 0)) {
      throw new OptionError(`maxBytes must be a positive number of bytes, got ${options.maxBytes}`);
    }
    const onWarning = options.onWarning ?? ((message: string) => console.warn(`webgpu-xai: ${message}`));
    let warned = false;
    const warnOnce = (message: string) => {
      if (!warned) onWarning(message);
      warned = true;
    };
    const rt = device instanceof Runtime ? device : new Runtime(device);
    const loaded = model instanceof Model ? model : Model.create(rt, model);
    if (loaded.runtime !== rt) throw new OptionError('The model was created on a different runtime than the one given to Explainer.create');
    const maxBytes = options.maxBytes ?? defaultMaxBytes(rt.limits);
    const ctx: ExplainContext = { model: loaded, rt, inputRange, maxChunk, maxBytes, pace: new Map(), strictRange: options.strictRange ?? false, warnOnce };
    return new Explainer(ctx, !(model instanceof Model), !(device instanceof Runtime));
  }

  /**
   * Frees what this explainer created: the model's weights when it was given a ModelSpec, and the
   * runtime's pooled buffers when it was given a device. A Model or Runtime passed in stays the
   * caller's. Calls after dispose() throw.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsModel) this.ctx.model.dispose();
    if (this.ownsRuntime) this.ctx.rt.trim();
  }

  private get live(): ExplainContext {
    if (this.disposed) throw new OptionError('This Explainer was disposed; create a new one');
    return this.ctx;
  }

  get model(): Model {
    return this.ctx.model;
  }

  get runtime(): Runtime {
    return this.ctx.rt;
  }

  get inputRange(): readonly [number, number] {
    return this.ctx.inputRange;
  }

  /** The byte budget every call plans its chunks in. */
  get maxBytes(): number {
    return this.ctx.maxBytes!;
  }

  async saliency<I extends ImageInput | ImageBatch, O extends TargetOptions & RunOptions = TargetOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return saliency(this.live, images, options);
  }

  /** Guided backpropagation: the input gradient with every ReLU also zeroing negative upstream gradients. */
  async guidedBackprop<I extends ImageInput | ImageBatch, O extends TargetOptions & RunOptions = TargetOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return guidedBackprop(this.live, images, options);
  }

  async smoothGrad<I extends ImageInput | ImageBatch, O extends SmoothGradOptions = SmoothGradOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return smoothGrad(this.live, images, options);
  }

  async integratedGradients<I extends ImageInput | ImageBatch, O extends IntegratedGradientsOptions = IntegratedGradientsOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return integratedGradients(this.live, images, options);
  }

  /** GradientSHAP: mean over samples of grad f(b + a (x~ - b)) * (x~ - b), b drawn from a baseline set, a ~ U[0, 1], x~ = x + noise (Captum's GradientShap). */
  async gradientShap<I extends ImageInput | ImageBatch, O extends GradientShapOptions = GradientShapOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return gradientShap(this.live, images, options);
  }

  /** DeepLIFT's rescale rule against a reference; against several, DeepSHAP (their mean). The attributions add up to f(x) - f(x0). */
  async deepLift<I extends ImageInput | ImageBatch, O extends DeepLiftOptions = DeepLiftOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return deepLift(this.live, images, options);
  }

  async gradCam<I extends ImageInput | ImageBatch, O extends GradCamOptions & RunOptions = GradCamOptions>(images: I, options?: O): Promise<Explained<I, GradCamAttribution, O>> {
    return gradCam(this.live, images, options);
  }

  async occlusion<I extends ImageInput | ImageBatch, O extends OcclusionOptions = OcclusionOptions>(images: I, options?: O): Promise<Explained<I, OcclusionAttribution, O>> {
    return occlusion(this.live, images, options);
  }

  /** LIME over segments (SLIC superpixels by default): a weighted ridge surrogate's weight per segment. */
  async lime<I extends ImageInput | ImageBatch, O extends LimeOptions = LimeOptions>(images: I, options?: O): Promise<Explained<I, LimeAttribution, O>> {
    return lime(this.live, images, options);
  }

  /** KernelSHAP over segments: Shapley values that add up to f(x) - f(baseline). */
  async kernelShap<I extends ImageInput | ImageBatch, O extends KernelShapOptions = KernelShapOptions>(images: I, options?: O): Promise<Explained<I, KernelShapAttribution, O>> {
    return kernelShap(this.live, images, options);
  }

  /** LayerCAM: ReLU(sum_k ReLU(dS/dA_k) * A_k) at a layer, upsampled to the input. */
  async layerCam<I extends ImageInput | ImageBatch, O extends LayerCamOptions = LayerCamOptions>(images: I, options?: O): Promise<Explained<I, LayerCamAttribution, O>> {
    return layerCam(this.live, images, options);
  }

  /** Score-CAM: a layer's normalized maps mask the image; softmaxed target scores of the masked copies weight them. */
  async scoreCam<I extends ImageInput | ImageBatch, O extends ScoreCamOptions = ScoreCamOptions>(images: I, options?: O): Promise<Explained<I, ScoreCamAttribution, O>> {
    return scoreCam(this.live, images, options);
  }

  /** RISE: random smooth masks, the masked copies' target scores weighting the masks, sum_i f_i M_i / (N p). */
  async rise<I extends ImageInput | ImageBatch, O extends RiseOptions = RiseOptions>(images: I, options?: O): Promise<Explained<I, RiseAttribution, O>> {
    return rise(this.live, images, options);
  }

  /** Integrated Gradients with Gauss-Legendre points doubled until the completeness error is under `tolerance` (or maxSteps; one target per image). */
  async adaptiveIntegratedGradients<I extends ImageInput | ImageBatch>(images: I, options: AdaptiveIntegratedGradientsOptions): Promise<AdaptiveExplained<I>> {
    return adaptiveIntegratedGradients(this.live, images, options);
  }

  /** Deletion curve and AUC of a map (lower is more faithful): its most important pixels blacked out step by step (a batch takes one map per image). */
  async deletion<I extends ImageInput | ImageBatch>(images: I, maps: MapInput | readonly MapInput[], options?: PerturbationCurveOptions): Promise<Curves<I>> {
    return perturbationCurve(this.live, images, maps, 'deletion', options);
  }

  /** Insertion curve and AUC of a map (higher is more faithful): its most important pixels put back into a blurred image step by step. */
  async insertion<I extends ImageInput | ImageBatch>(images: I, maps: MapInput | readonly MapInput[], options?: PerturbationCurveOptions): Promise<Curves<I>> {
    return perturbationCurve(this.live, images, maps, 'insertion', options);
  }

  /**
   * MuFidelity (Bhatt et al. 2020): Pearson correlation, over random subsets S of grid cells, of
   * the map's sum over S with f(x) - f(x with S set to the baseline); near 1 is faithful (a batch takes one map per image).
   */
  async muFidelity<I extends ImageInput | ImageBatch>(images: I, maps: MapInput | readonly MapInput[], options?: MuFidelityOptions): Promise<MuFidelities<I>> {
    return muFidelity(this.live, images, maps, options);
  }

  /**
   * Infidelity (Yeh et al. 2019, as Captum's): mean of (I^T map - (f(x) - f(x - I)))^2 over random
   * perturbations I (Gaussian noise or a removed square); near 0 is faithful (a batch takes one map per image).
   */
  async infidelity<I extends ImageInput | ImageBatch>(images: I, maps: MapInput | readonly MapInput[], options?: InfidelityOptions): Promise<Infidelities<I>> {
    return infidelity(this.live, images, maps, options);
  }

  /**
   * Max-sensitivity (Yeh et al. 2019, as Captum's): the largest ||Phi(x + delta) - Phi(x)|| / ||Phi(x)||
   * over uniform perturbations |delta|_inf <= radius; the copies of all images go to `explain` as one stack.
   *   await xai.maxSensitivity(image, (images) => xai.saliency(images, { target: 3 }))
   */
  async maxSensitivity<I extends ImageInput | ImageBatch>(images: I, explain: ExplainFunction, options?: MaxSensitivityOptions): Promise<MaxSensitivities<I>> {
    return maxSensitivity(this.live, images, explain, options);
  }

  /**
   * Cascading model randomization (Adebayo et al. 2018): weights re-drawn from the top layer down,
   * `explain` rerun after each, Spearman correlation with the original map; weights restored after.
   *   await xai.modelRandomization(image, (img) => xai.saliency(img))
   */
  async modelRandomization(image: ImageInput, explain: (image: ImageInput) => Promise<Attribution>, options?: ModelRandomizationOptions): Promise<ModelRandomizationResult> {
    return modelRandomization(this.live, image, explain, options);
  }

  /** A layer's activations per image (no targets). */
  async activations<I extends ImageInput | ImageBatch>(images: I, options: ActivationsOptions & RunOptions): Promise<ManyImages<I> extends true ? LayerActivations[] : LayerActivations> {
    return activations(this.live, images, options);
  }

  /**
   * Each image's activation at a layer (flattened, or averaged over space with pool: 'mean') as
   * the rows of one [N, D] GPU tensor, which the caller disposes.
   */
  async layerFeatures(images: ImageInput | ImageBatch, options: LayerFeatureOptions): Promise<Tensor> {
    return layerFeatures(this.live, images, options);
  }

  /** A layer's representation of N images laid out in 2-D by PCA (on the GPU) or t-SNE. */
  async layerEmbedding(images: ImageInput | ImageBatch, options: LayerEmbeddingOptions): Promise<LayerEmbedding> {
    return layerEmbedding(this.live, images, options);
  }

  /** Gradient ascent on each requested channel's mean activation, all channels as one batch. */
  async visualizeFilters(options: FilterVisualizationOptions): Promise<Visualization> {
    return visualizeFilters(this.live, options);
  }

  /** Gradient ascent on class logits: argmax_x y_c(x) - R(x), one image per class. */
  async visualizeClass(options: ClassVisualizationOptions): Promise<Visualization> {
    return visualizeClass(this.live, options);
  }

  /**
   * Class images constrained by a generator: ascent on the generator's latent code, x = G(z), so
   * the images look like its data (Nguyen et al. 2016). The generator must share this explainer's runtime.
   */
  async visualizeClassWithGenerator(generator: Model, options: GeneratorClassOptions): Promise<GeneratorVisualization> {
    return visualizeClassWithGenerator(this.live, generator, options);
  }
}
