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
import { Model } from '../model/model.js';
import type { ModelSpec } from '../model/spec.js';
import { OptionError } from '../errors.js';
import { activations, type ActivationsOptions, type LayerActivations } from './activations.js';
import type { Attribution } from './attribution.js';
import type { Explained, ImageBatch, ManyImages } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { defaultMaxBytes } from './planner.js';
import type { RunOptions } from './progress.js';
import { gradCam, type GradCamAttribution, type GradCamOptions } from './gradcam.js';
import { integratedGradients, type IntegratedGradientsOptions } from './integrated_gradients.js';
import { occlusion, type OcclusionAttribution, type OcclusionOptions } from './occlusion.js';
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
    const maxChunk = options.maxChunk ?? 256;
    if (!Number.isInteger(maxChunk) || maxChunk < 1) throw new OptionError(`maxChunk must be a positive integer, got ${maxChunk}`);
    const maxBytes = options.maxBytes ?? defaultMaxBytes(rt.limits);
    if (!Number.isFinite(maxBytes) || maxBytes <= 0) throw new OptionError(`maxBytes must be a positive number of bytes, got ${maxBytes}`);
    return new Explainer({ model: loaded, rt, inputRange, maxChunk, maxBytes, pace: new Map() });
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

  saliency<I extends ImageInput | ImageBatch, O extends TargetOptions & RunOptions = TargetOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return saliency(this.ctx, images, options);
  }

  smoothGrad<I extends ImageInput | ImageBatch, O extends SmoothGradOptions = SmoothGradOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return smoothGrad(this.ctx, images, options);
  }

  integratedGradients<I extends ImageInput | ImageBatch, O extends IntegratedGradientsOptions = IntegratedGradientsOptions>(images: I, options?: O): Promise<Explained<I, Attribution, O>> {
    return integratedGradients(this.ctx, images, options);
  }

  gradCam<I extends ImageInput | ImageBatch, O extends GradCamOptions & RunOptions = GradCamOptions>(images: I, options?: O): Promise<Explained<I, GradCamAttribution, O>> {
    return gradCam(this.ctx, images, options);
  }

  occlusion<I extends ImageInput | ImageBatch, O extends OcclusionOptions = OcclusionOptions>(images: I, options?: O): Promise<Explained<I, OcclusionAttribution, O>> {
    return occlusion(this.ctx, images, options);
  }

  /** A layer's activations per image (no targets). */
  activations<I extends ImageInput | ImageBatch>(images: I, options: ActivationsOptions & RunOptions): Promise<ManyImages<I> extends true ? LayerActivations[] : LayerActivations> {
    return activations(this.ctx, images, options);
  }

  /** Gradient ascent on each requested channel's mean activation, all channels as one batch. */
  visualizeFilters(options: FilterVisualizationOptions): Promise<Visualization> {
    return visualizeFilters(this.ctx, options);
  }

  /** Gradient ascent on class logits: argmax_x y_c(x) - R(x), one image per class. */
  visualizeClass(options: ClassVisualizationOptions): Promise<Visualization> {
    return visualizeClass(this.ctx, options);
  }

  /**
   * Class images constrained by a generator: ascent on the generator's latent code, x = G(z), so
   * the images look like its data (Nguyen et al. 2016). The generator must share this explainer's runtime.
   */
  async visualizeClassWithGenerator(generator: Model, options: GeneratorClassOptions): Promise<GeneratorVisualization> {
    return visualizeClassWithGenerator(this.live, generator, options);
  }
}
