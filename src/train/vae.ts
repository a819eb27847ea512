/**
 * A small variational autoencoder (Kingma and Welling 2014, "Auto-Encoding Variational Bayes") as two
 * models, so that the decoder alone is a generator G(z) for class images (explain/generator.ts):
 *   encoder: image -> flatten -> dense (ReLU) -> stats [2L] = [mu, log-variance] of q(z|x) (linear)
 *   decoder: z [L] -> dense (ReLU) -> [H/4, W/4, F] -> 3x3 transposed conv, stride 2 (F/2, ReLU)
 *            -> 3x3 transposed conv, stride 2 (C channels) -> sigmoid -> image [H, W, C]
 * (`fitVae` trains them together.) The KL term pulls the codes towards N(0, I), so unlike a plain
 * autoencoder's, codes drawn from N(0, I) decode to images like the data. Weights are He-uniform from
 * a seeded generator, biases zero.
 */
import { OptionError } from '../errors.js';
import type { LayerSpec, ModelSpec, WeightData } from '../model/spec.js';
import { heUniform } from './cnn.js';
import { mulberry32 } from './shuffle.js';

export interface VaeOptions {
  /** [H, W, C] of the images, values in [0, 1]; H and W divisible by 4. */
  inputShape: readonly [number, number, number];
  /** Units of the code z. Default 8. */
  latent?: number;
  /** Units of the encoder's hidden layer. Default 256. */
  hidden?: number;
  /** Channels of the decoder's first feature map (the second has half). Default 32. */
  filters?: number;
  seed?: number;
}

export interface VaeSpecs {
  /** image [H, W, C] -> [2L]: mu, then the log-variance. */
  encoder: ModelSpec;
  /** z [L] -> image [H, W, C] in (0, 1). */
  decoder: ModelSpec;
}

const zeros = (n: number): WeightData => ({ shape: [n], data: new Float32Array(n) });

function transposedConv(name: string, input: string, inChannels: number, outChannels: number, activation: 'relu' | 'linear', random: () => number): LayerSpec {
  // with stride 2 each output sees about a quarter of the 3x3xin taps: that is its fan-in (He et al. 2015)
  return {
    kind: 'conv2dTranspose', name, inputs: [input], filter: heUniform([3, 3, outChannels, inChannels], (9 * inChannels) / 4, random), bias: zeros(outChannels),
    strides: [2, 2], dilations: [1, 1], padding: 'same', activation,
  };
}

export function vae(options: VaeOptions): VaeSpecs {
  const [height, width, channels] = options.inputShape;
  const latent = options.latent ?? 8;
  const hidden = options.hidden ?? 256;
  const filters = options.filters ?? 32;
  if (height % 4 !== 0 || width % 4 !== 0) throw new OptionError(`The VAE's decoder upsamples twice by 2: the image's height and width must be divisible by 4, got ${height}x${width}`);
  for (const [name, value] of [['latent', latent], ['hidden', hidden], ['filters', filters]] as const) {
    if (!Number.isInteger(value) || value < (name === 'filters' ? 2 : 1)) throw new OptionError(`${name} must be an integer >= ${name === 'filters' ? 2 : 1}, got ${value}`);
  }
  const size = height * width * channels;
  const random = mulberry32(options.seed ?? 0);
  const projected = (height / 4) * (width / 4) * filters;
  const half = Math.floor(filters / 2);
  const encoder: ModelSpec = {
    source: 'vae encoder (built in code)',
    layers: [
      { kind: 'input', name: 'image', inputs: [], shape: [height, width, channels] },
      { kind: 'reshape', name: 'flatten', inputs: ['image'], shape: [-1] },
      { kind: 'dense', name: 'hidden', inputs: ['flatten'], weights: heUniform([size, hidden], size, random), bias: zeros(hidden), activation: 'relu' },
      { kind: 'dense', name: 'stats', inputs: ['hidden'], weights: heUniform([hidden, 2 * latent], hidden, random), bias: zeros(2 * latent), activation: 'linear' },
    ],
    output: 'stats',
  };
  const decoder: ModelSpec = {
    source: 'vae decoder (built in code)',
    layers: [
      { kind: 'input', name: 'code', inputs: [], shape: [latent] },
      { kind: 'dense', name: 'project', inputs: ['code'], weights: heUniform([latent, projected], latent, random), bias: zeros(projected), activation: 'relu' },
      { kind: 'reshape', name: 'unflatten', inputs: ['project'], shape: [height / 4, width / 4, filters] },
      transposedConv('upsample1', 'unflatten', filters, half, 'relu', random),
      transposedConv('upsample2', 'upsample1', half, channels, 'linear', random),
      { kind: 'activation', name: 'pixels', inputs: ['upsample2'], activation: 'sigmoid' },
    ],
    output: 'pixels',
  };
  return { encoder, decoder };
}
