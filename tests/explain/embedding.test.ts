import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { Explainer } from '../../src/explain/explainer.js';
import { smallCnn } from '../../src/train/cnn.js';
import { randomSource, relativeError } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { plantedBlobs } from '../train/planted.js';

const IMAGE = 12 * 12;

/** A small CNN (untrained, seeded) and `count` planted blob images; maxChunk 4 forces several chunks. */
async function setup(count: number) {
  const { seed, random } = randomSource();
  const xai = await Explainer.create(testRuntime(), smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4, 8], hidden: 16, seed }), { maxChunk: 4 });
  const data = plantedBlobs(count, random);
  return { seed, xai, images: { data: data.images, shape: [count, 12, 12, 1] }, labels: data.labels };
}

describeGpu('layerFeatures / layerEmbedding', () => {
  it('features of 11 images in chunks of 4: hidden [16] rows equal activations(); pool2 [3, 3, 8] flattened [72] and pooled [8]', async () => {
    const { seed, xai, images } = await setup(11);
    const rt = xai.runtime;
    const hidden = await rt.read(await xai.layerFeatures(images, { layer: 'hidden' }));
    const flat = await rt.read(await xai.layerFeatures(images, { layer: 'pool2' }));
    const pooled = await rt.read(await xai.layerFeatures(images, { layer: 'pool2', pool: 'mean' }));
    expect([hidden.length, flat.length, pooled.length]).toEqual([11 * 16, 11 * 72, 11 * 8]);
    for (const n of [0, 5, 10]) {
      const image = { data: images.data.subarray(n * IMAGE, (n + 1) * IMAGE), shape: [12, 12, 1] };
      const one = await xai.activations(image, { layer: 'hidden' });
      expect(relativeError(hidden.subarray(n * 16, (n + 1) * 16), one.values), `seed=${seed} image ${n}`).toBeLessThan(1e-5);
      const map = (await xai.activations(image, { layer: 'pool2' })).values;
      expect(relativeError(flat.subarray(n * 72, (n + 1) * 72), map), `seed=${seed} image ${n}`).toBeLessThan(1e-5);
      const means = Array.from({ length: 8 }, (_, c) => Array.from({ length: 9 }, (__, p) => map[p * 8 + c]).reduce((a, b) => a + b, 0) / 9);
      expect(relativeError(pooled.subarray(n * 8, (n + 1) * 8), means), `seed=${seed} image ${n}`).toBeLessThan(1e-5);
    }
  });

  it('embeds 40 images of pool2 [72]: PCA 2-D points with decreasing variance ratios; seeded t-SNE 2-D, reproducible', async () => {
    const { seed, xai, images } = await setup(40);
    const byPca = await xai.layerEmbedding(images, { layer: 'pool2', method: 'pca' });
    expect(byPca.points).toHaveLength(80);
    expect(byPca.featureDimension).toBe(72);
    const [first, second] = byPca.pca.explainedVarianceRatio;
    expect(first, `seed=${seed}`).toBeGreaterThanOrEqual(second);
    expect(first + second).toBeLessThanOrEqual(1 + 1e-6);
    expect(second).toBeGreaterThan(0);
    const options = { layer: 'pool2', method: 'tsne', seed: 3, pcaDimensions: 10, tsne: { perplexity: 8, iterations: 300 } } as const;
    const a = await xai.layerEmbedding(images, options);
    expect(a.points).toHaveLength(80);
    expect(a.pca.explainedVarianceRatio).toHaveLength(10);
    expect(a.points.every(Number.isFinite)).toBe(true);
    const b = await xai.layerEmbedding(images, options);
    expect(Array.from(b.points)).toEqual(Array.from(a.points));
  });

  it('rejects an unknown layer or method, a mismatched batch and too many dimensions, before any GPU work', async () => {
    const { xai, images } = await setup(4);
    await expect(xai.layerEmbedding(images, { layer: 'nope', method: 'pca' })).rejects.toThrow(OptionError);
    await expect(xai.layerEmbedding(images, { layer: 'hidden', method: 'umap' as never })).rejects.toThrow(OptionError);
    await expect(xai.layerEmbedding({ data: images.data, shape: [4, 12, 12, 3] }, { layer: 'hidden', method: 'pca' })).rejects.toThrow(ShapeError);
    await expect(xai.layerEmbedding(images, { layer: 'hidden', method: 'pca', dimensions: 5 })).rejects.toThrow(OptionError);
    await expect(xai.layerFeatures(images, { layer: 'hidden', pool: 'max' as never })).rejects.toThrow(OptionError);
  });
});
