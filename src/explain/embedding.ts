/**
 * A layer's representation over a set of images: each image's activation at `layer` as one
 * feature vector (flattened, or global-average-pooled over space with pool: 'mean'), gathered as
 * one [N, D] tensor on the GPU in the planner's chunks (planner.ts), then laid out in 2-D (or
 * k-D) by PCA on the GPU (pca.ts) or by t-SNE (tsne.ts) on the CPU after a PCA to at most 50
 * dimensions, the usual preprocessing that removes noise directions and makes the O(N^2 D)
 * distances cheap (van der Maaten and Hinton 2008, sec. 4.2).
 */
import { LimitError, OptionError, ShapeError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { globalAvgPool } from '../ops/global_avg_pool.js';
import { layerShape } from './activations.js';
import { imageList, type ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { planWork } from './planner.js';
import { pca, type PcaOptions, type PcaResult } from './pca.js';
import { tsne, type TsneOptions } from './tsne.js';

export interface LayerFeatureOptions {
  /** Node name (a layer, or the input node). */
  layer: string;
  /**
   * 'flatten' (default): the whole activation, h * w * K features; 'mean': spatial activations
   * [h, w, K] averaged over h and w to K features (vector layers are used as they are).
   */
  pool?: 'flatten' | 'mean';
}

export interface LayerEmbeddingOptions extends LayerFeatureOptions {
  method: 'pca' | 'tsne';
  /** Output dimensions. Default 2. */
  dimensions?: number;
  /** t-SNE only: PCA dimensions its input is reduced to first. Default 50 (at most D and N). */
  pcaDimensions?: number;
  /** t-SNE settings (perplexity, iterations, learningRate, ...). */
  tsne?: Omit<TsneOptions, 'dimensions' | 'seed'>;
  /** PCA solver settings. */
  pca?: Omit<PcaOptions, 'components' | 'seed'>;
  /** Seeds t-SNE's start and the randomized PCA solver. Default 0. */
  seed?: number;
}

export interface LayerEmbedding {
  layer: string;
  method: 'pca' | 'tsne';
  /** [count, dimensions] row-major. */
  points: Float32Array;
  count: number;
  dimensions: number;
  /** Features per image, D. */
  featureDimension: number;
  /** The PCA (of the output for method 'pca', of t-SNE's input for 'tsne'). */
  pca: PcaResult;
  /** t-SNE's final KL(P || Q). */
  divergence?: number;
  milliseconds: { features: number; pca: number; tsne?: number; total: number };
}

/** The feature vector's length for `layer` and `pool`; throws for an unknown layer or pool. */
export function featureDimension(ctx: ExplainContext, options: LayerFeatureOptions): number {
  const shape = layerShape(ctx.model, options?.layer);
  const pool = options.pool ?? 'flatten';
  if (pool !== 'flatten' && pool !== 'mean') throw new OptionError(`pool must be 'flatten' or 'mean', got '${String(pool)}'`);
  return pool === 'mean' && shape.length === 3 ? shape[2] : shape.reduce((a, b) => a * b, 1);
}

/**
 * Each image's activation at `layer` as a row of one [N, D] tensor (the caller disposes it).
 * Everything is checked before the first GPU allocation.
 */
export async function layerFeatures(ctx: ExplainContext, images: ImageInput | ImageBatch, options: LayerFeatureOptions): Promise<Tensor> {
  const { rt, model } = ctx;
  const d = featureDimension(ctx, options);
  const layer = options.layer;
  const spatial = layerShape(model, layer).length === 3;
  const list = imageList(ctx, images);
  const count = list.count;
  const limit = Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize);
  if (count * d * 4 > limit) {
    throw new LimitError(`${count} feature vectors of ${d} values need ${count * d * 4} bytes in one buffer, more than this device's ${limit}: use fewer images${spatial && options.pool !== 'mean' ? " or pool: 'mean'" : ''}`);
  }
  const inputSize = model.inputShape.reduce((a, b) => a * b, 1);
  const plan = planWork(ctx, { images: count, jobsPerImage: 1, copiesPerJob: 1, pass: { keep: [layer] }, imageFloats: inputSize + d, jobFloats: 0, copyFloats: 0 });
  const features = rt.empty([count, d], 'embedding.features');
  try {
    for (let first = 0; first < count; first += plan.imagesPerGroup) {
      const n = Math.min(plan.imagesPerGroup, count - first);
      const taken = list.take(rt, first, n);
      for (let start = 0; start < n; start += plan.copiesPerChunk) {
        const batch = Math.min(plan.copiesPerChunk, n - start);
        const part = batch === n ? taken.tensor : rt.empty([batch, ...model.inputShape], 'embedding.images');
        if (part !== taken.tensor) rt.copy(taken.tensor, part, batch * inputSize, start * inputSize, 0);
        const pass = model.forward(part, { keep: [layer] });
        const value = pass.value(layer);
        const pooled = spatial && options.pool === 'mean' ? globalAvgPool(rt, value) : undefined;
        // NHWC rows are contiguous per image, so a flattened batch is the value's buffer as it is
        rt.copy(pooled ?? value, features, batch * d, 0, (first + start) * d);
        pooled?.dispose();
        pass.dispose();
        if (part !== taken.tensor) part.dispose();
        await rt.flush();
      }
      if (taken.owned) taken.tensor.dispose();
    }
  } catch (error) {
    features.dispose();
    throw error;
  }
  return features;
}

export async function layerEmbedding(ctx: ExplainContext, images: ImageInput | ImageBatch, options: LayerEmbeddingOptions): Promise<LayerEmbedding> {
  const started = performance.now();
  const method = options?.method;
  if (method !== 'pca' && method !== 'tsne') throw new OptionError(`method must be 'pca' or 'tsne', got '${String(method)}'`);
  const dimensions = options.dimensions ?? 2;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > (method === 'tsne' ? 3 : 1024)) {
    throw new OptionError(`dimensions must be an integer in 1..${method === 'tsne' ? 3 : 1024}, got ${dimensions}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new OptionError(`seed must be an integer in 0..2^32-1, got ${seed}`);
  const d = featureDimension(ctx, options);
  const count = imageList(ctx, images).count;
  if (count < 2) throw new ShapeError(`An embedding needs at least 2 images, got ${count}`);
  const components = method === 'pca' ? dimensions : Math.min(options.pcaDimensions ?? 50, d, count);
  if (!Number.isInteger(components) || components < 1 || components > Math.min(d, count)) {
    throw new OptionError(`${method === 'pca' ? 'dimensions' : 'pcaDimensions'} must be an integer in 1..${Math.min(d, count)} (at most D = ${d} and N = ${count}), got ${components}`);
  }
  const features = await layerFeatures(ctx, images, options);
  // wait for the forward passes, so that the times say where the work went
  await ctx.rt.finish();
  const featuresDone = performance.now();
  let reduced: PcaResult;
  try {
    reduced = await pca(ctx.rt, features, { ...options.pca, components, seed });
  } finally {
    features.dispose();
  }
  const pcaDone = performance.now();
  const base = { layer: options.layer, method, count, dimensions, featureDimension: d, pca: reduced };
  if (method === 'pca') {
    return { ...base, points: reduced.points, milliseconds: { features: featuresDone - started, pca: pcaDone - featuresDone, total: pcaDone - started } };
  }
  const layout = tsne(reduced.points, count, components, { ...options.tsne, dimensions, seed });
  const done = performance.now();
  return {
    ...base, points: layout.points, divergence: layout.divergence,
    milliseconds: { features: featuresDone - started, pca: pcaDone - featuresDone, tsne: done - pcaDone, total: done - started },
  };
}
