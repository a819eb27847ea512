/**
 * Files for the dataset CLI tests: a tiny TF.js Layers model (model.json + one weight shard, as
 * TF.js saves it) and small PNG pictures of seeded random colours.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';

/** conv 3x3 (4 filters, ReLU), max-pool 2, flatten, dense 3 softmax on a 12 x 10 x 3 input; returns the model.json path. */
export async function writeTinyModel(dir: string, random: () => number): Promise<string> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 10, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }),
    ],
  });
  model.setWeights(model.weights.map((w) => tf.tensor(Float32Array.from({ length: w.shape.reduce((a, b) => a! * b!, 1)! }, () => random() * 2 - 1), w.shape as number[])));
  const path = join(dir, 'model.json');
  await mkdir(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData!;
    const weights = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
    const json = { format: 'layers-model', generatedBy: 'cli test', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
    await writeFile(path, JSON.stringify(json));
    await writeFile(join(dir, 'weights.bin'), weights);
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
  return path;
}

/** One `width` x `height` PNG of random colours per relative path (folders created). */
export async function writePictures(root: string, paths: readonly string[], random: () => number, width = 15, height = 13): Promise<void> {
  for (const path of paths) {
    const png = new PNG({ width, height });
    for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : Math.floor(random() * 256);
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), PNG.sync.write(png));
  }
}
