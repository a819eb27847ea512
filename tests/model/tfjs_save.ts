/** A TF.js Layers model saved in memory (tf.io.withSaveHandler), as the loader tests feed it to the engine. */
import * as tf from '@tensorflow/tfjs';

export interface Saved {
  topology: Record<string, any>;
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

export async function save(model: tf.LayersModel): Promise<Saved> {
  let saved: Saved | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData!;
    saved = {
      topology: artifacts.modelTopology as Saved['topology'],
      weightSpecs: artifacts.weightSpecs!,
      weightData: Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data,
    };
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return saved!;
}
