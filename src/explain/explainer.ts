/**
 * The public face of the explanation methods: one object per (device, model), each method one
 * call that keeps the heavy work on the GPU and returns only the final map.
 *
 *   const xai = await Explainer.create(device, model);
 *   const map = await xai.saliency(image, { target: 'top' });
 */
import { Runtime } from '../gpu/runtime.js';
import { Model } from '../model/model.js';
import type { ModelSpec } from '../model/spec.js';
import { OptionError } from '../errors.js';
import { activations, type ActivationsOptions, type LayerActivations } from './activations.js';
import type { Attribution } from './attribution.js';
import type { ExplainContext, ImageInput } from './context.js';
import { gradCam, type GradCamAttribution, type GradCamOptions } from './gradcam.js';
import { integratedGradients, type IntegratedGradientsOptions } from './integrated_gradients.js';
import { occlusion, type OcclusionAttribution, type OcclusionOptions } from './occlusion.js';
import { saliency, type TargetOptions } from './saliency.js';
import { smoothGrad, type SmoothGradOptions } from './smoothgrad.js';
import { visualizeClass, visualizeFilters, type ClassVisualizationOptions, type FilterVisualizationOptions, type Visualization } from './visualize.js';

export interface ExplainerOptions {
  /** Range of valid input values. Default [0, 1]. */
  inputRange?: readonly [number, number];
  /** Largest batch one chunk may hold (noisy copies, path steps, filters). Default 256. */
  maxChunk?: number;
}

export class Explainer {
  private constructor(private readonly ctx: ExplainContext) {}

  /** From a device (a runtime is made for it) or a runtime, and a loaded Model or a ModelSpec. */
  static async create(device: GPUDevice | Runtime, model: Model | ModelSpec, options: ExplainerOptions = {}): Promise<Explainer> {
    const rt = device instanceof Runtime ? device : new Runtime(device);
    const loaded = model instanceof Model ? model : Model.create(rt, model);
    if (loaded.runtime !== rt) throw new OptionError('The model was created on a different runtime than the one given to Explainer.create');
    const inputRange = options.inputRange ?? [0, 1];
    if (!(inputRange[1] > inputRange[0])) throw new OptionError(`inputRange must be [low, high] with low < high, got [${inputRange.join(', ')}]`);
    return new Explainer({ model: loaded, rt, inputRange, maxChunk: options.maxChunk ?? 256 });
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

  saliency(image: ImageInput, options?: TargetOptions): Promise<Attribution> {
    return saliency(this.ctx, image, options);
  }

  smoothGrad(image: ImageInput, options?: SmoothGradOptions): Promise<Attribution> {
    return smoothGrad(this.ctx, image, options);
  }

  integratedGradients(image: ImageInput, options?: IntegratedGradientsOptions): Promise<Attribution> {
    return integratedGradients(this.ctx, image, options);
  }

  gradCam(image: ImageInput, options?: GradCamOptions): Promise<GradCamAttribution> {
    return gradCam(this.ctx, image, options);
  }

  occlusion(image: ImageInput, options?: OcclusionOptions): Promise<OcclusionAttribution> {
    return occlusion(this.ctx, image, options);
  }

  activations(image: ImageInput, options: ActivationsOptions): Promise<LayerActivations> {
    return activations(this.ctx, image, options);
  }

  /** Gradient ascent on each requested channel's mean activation, all channels as one batch. */
  visualizeFilters(options: FilterVisualizationOptions): Promise<Visualization> {
    return visualizeFilters(this.ctx, options);
  }

  /** Gradient ascent on class logits: argmax_x y_c(x) - R(x), one image per class. */
  visualizeClass(options: ClassVisualizationOptions): Promise<Visualization> {
    return visualizeClass(this.ctx, options);
  }
}
