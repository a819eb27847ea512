/**
 * A small dense autoencoder whose decoder serves as an image generator G(z) for class images
 * constrained to look like data (explain/generator.ts). Trained like a classifier with the
 * sigmoid cross-entropy against the input pixels (targets in [0, 1]), then split: the decoder,
 * from the code to the image, is a model of its own.
 *   image -> flatten -> dense (ReLU) -> code (linear, `latent` units) -> dense (ReLU) -> pixels -> sigmoid
 * A plain autoencoder, not a VAE (Kingma and Welling 2014): its codes are not pulled towards
 * N(0, I) during training, so the ascent's decay towards 0 and a small start keep z near the
 * codes of real images instead.
 */
import { OptionError } from '../errors.js';
import type { LayerSpec, ModelSpec, WeightData } from '../model/spec.js';
import { mulberry32 } from './shuffle.js';

export interface AutoencoderOptions {
  /** [H, W, C] of the images, values in [0, 1]. */
  inputShape: readonly [number, number, number];
  /** Units of the code. Default 8. */
  latent?: number;
  /** Units of the hidden layers. Default 128. */
  hidden?: number;
  seed?: number;
}

function glorotUniform(fanIn: number, fanOut: number, random: () => number): WeightData {
  const scale = Math.sqrt(6 / (fanIn + fanOut));
  return { shape: [fanIn, fanOut], data: Float32Array.from({ length: fanIn * fanOut }, () => (random() * 2 - 1) * scale) };
}

const dense = (name: string, input: string, fanIn: number, fanOut: number, activation: 'relu' | 'linear', random: () => number): LayerSpec => ({
  kind: 'dense', name, inputs: [input], weights: glorotUniform(fanIn, fanOut, random), bias: { shape: [fanOut], data: new Float32Array(fanOut) }, activation,
});

export function autoencoder(options: AutoencoderOptions): ModelSpec {
  const latent = options.latent ?? 8;
  const hidden = options.hidden ?? 128;
  if (!Number.isInteger(latent) || latent < 1 || !Number.isInteger(hidden) || hidden < 1) throw new OptionError(`latent and hidden must be integers >= 1, got ${latent} and ${hidden}`);
  const size = options.inputShape.reduce((a, b) => a * b, 1);
  const random = mulberry32(options.seed ?? 0);
  return {
    source: 'autoencoder (built in code)',
    layers: [
      { kind: 'input', name: 'image', inputs: [], shape: [...options.inputShape] },
      { kind: 'reshape', name: 'flatten', inputs: ['image'], shape: [-1] },
      dense('encoder', 'flatten', size, hidden, 'relu', random),
      dense('code', 'encoder', hidden, latent, 'linear', random),
      dense('decoder', 'code', latent, hidden, 'relu', random),
      dense('pixels', 'decoder', hidden, size, 'linear', random),
      { kind: 'activation', name: 'output', inputs: ['pixels'], activation: 'sigmoid' },
    ],
    output: 'output',
  };
}

/** The decoder of a (trained: pass `currentSpec(model)`) autoencoder as a generator: code [latent] -> image [H, W, C]. */
export function decoderOf(trained: ModelSpec, imageShape: readonly [number, number, number]): ModelSpec {
  const layer = (name: string) => {
    const found = trained.layers.find((l) => l.name === name);
    if (!found) throw new OptionError(`${trained.source} has no layer '${name}': not an autoencoder() model`);
    return found;
  };
  const code = layer('code') as Extract<LayerSpec, { kind: 'dense' }>;
  const latent = code.weights.shape[1];
  return {
    source: `decoder of ${trained.source}`,
    layers: [
      { kind: 'input', name: 'code', inputs: [], shape: [latent] },
      layer('decoder'),
      layer('pixels'),
      layer('output'),
      { kind: 'reshape', name: 'generated', inputs: ['output'], shape: [...imageShape] },
    ],
    output: 'generated',
  };
}
