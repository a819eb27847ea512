/**
 * A small trainable CNN built in code (the course's classifier, scaled to fit a CPU adapter):
 * blocks of 3x3 conv (same padding, ReLU) and 2x2 max pooling, then flatten, an optional hidden
 * dense layer and the class logits with a softmax. Weights are He-uniform (He et al. 2015) from a
 * seeded generator, biases zero, so a seed fixes the initial model.
 */
import { OptionError } from '../errors.js';
import type { LayerSpec, ModelSpec, WeightData } from '../model/spec.js';
import { mulberry32 } from './shuffle.js';

export interface SmallCnnOptions {
  /** [H, W, C]. */
  inputShape: readonly [number, number, number];
  classes: number;
  /** Output channels of each conv block (each block halves H and W). Default [8, 16]. */
  filters?: number[];
  /** Units of a hidden dense layer; 0 for none. Default 32. */
  hidden?: number;
  seed?: number;
  labels?: string[];
}

export function heUniform(shape: number[], fanIn: number, random: () => number): WeightData {
  const scale = Math.sqrt(6 / fanIn);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * scale;
  return { shape, data };
}

const zeros = (n: number): WeightData => ({ shape: [n], data: new Float32Array(n) });

export function smallCnn(options: SmallCnnOptions): ModelSpec {
  const [height, width, channels] = options.inputShape;
  const filters = options.filters ?? [8, 16];
  const hidden = options.hidden ?? 32;
  if (!(options.classes >= 2) || !Number.isInteger(options.classes)) throw new OptionError(`classes must be an integer >= 2, got ${options.classes}`);
  if (height >> filters.length < 1 || width >> filters.length < 1) throw new OptionError(`${filters.length} pooling blocks do not fit a ${height}x${width} input`);
  const random = mulberry32(options.seed ?? 0);
  const layers: LayerSpec[] = [{ kind: 'input', name: 'input', inputs: [], shape: [height, width, channels] }];
  let previous = 'input';
  let [h, w, c] = [height, width, channels];
  filters.forEach((out, i) => {
    const conv = `conv${i + 1}`;
    const pool = `pool${i + 1}`;
    layers.push({
      kind: 'conv2d', name: conv, inputs: [previous], filter: heUniform([3, 3, c, out], 9 * c, random), bias: zeros(out),
      strides: [1, 1], dilations: [1, 1], padding: 'same', activation: 'relu',
    });
    layers.push({ kind: 'maxPool', name: pool, inputs: [conv], poolSize: [2, 2], strides: [2, 2], padding: 'valid' });
    [h, w, c] = [h >> 1, w >> 1, out];
    previous = pool;
  });
  layers.push({ kind: 'reshape', name: 'flatten', inputs: [previous], shape: [-1] });
  previous = 'flatten';
  let features = h * w * c;
  if (hidden > 0) {
    layers.push({ kind: 'dense', name: 'hidden', inputs: [previous], weights: heUniform([features, hidden], features, random), bias: zeros(hidden), activation: 'relu' });
    previous = 'hidden';
    features = hidden;
  }
  layers.push({ kind: 'dense', name: 'logits', inputs: [previous], weights: heUniform([features, options.classes], features, random), bias: zeros(options.classes), activation: 'linear' });
  layers.push({ kind: 'softmax', name: 'probs', inputs: ['logits'] });
  return { source: 'smallCnn (built in code)', layers, output: 'probs', labels: options.labels };
}
