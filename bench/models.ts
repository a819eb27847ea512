/**
 * The benchmark's workloads: a model, where it comes from, its input range, the image explained
 * and the layer whose filters are visualized.
 *
 *   pokemon      the Pokemon-vs-Digimon saliency CNN (120x120x3, 6 conv 3x3 + ReLU, 3 max pools,
 *                Dense 1024 ReLU, Dense 2), built in code with seeded He-normal weights; ~1.77 GFLOP
 *   pokemon48    the same network at 48x48x3 (~0.21 GFLOP), small enough for CPU adapters
 *   antispoof    @vladmandic/human's face anti-spoofing graph model (128x128x3, sigmoid output)
 *   emotion      @vladmandic/human's emotion graph model (64x64x1, 7 classes, separable convs)
 *   mobilenetv2  nsfwjs' MobileNetV2 Layers model (224x224x3, 5 classes), shipped as UMD JavaScript
 *   handlandmark @vladmandic/human's hand landmark graph model (224x224x3, MobileNet-like with AddN
 *                residuals), explained at its hand-presence output (one sigmoid score, of four outputs)
 *   centernet    @vladmandic/human's CenterNet detector on a MobileNetV3 backbone (512x512x3: squeeze-and-excitation
 *                blocks, hard-swish, channel concatenation), explained at its keypoint heatmap [128, 128, 80]
 *                (sigmoid; 'top' is the channel with the largest score summed over positions)
 *   iris         @vladmandic/human's iris landmark graph model (64x64x3: PReLU residual blocks, a channel Pad,
 *                and a channel concatenation of its two heads, eye contour and iris, into the output [1, 213])
 *   tiny         a small CNN (32x32x3, 3 conv, 10 classes) for CPU adapters and --quick
 *
 * Files are read through a `ModelSource` so that the same code runs in Node (paths under
 * node_modules/) and in the browser page (the same paths served over HTTP by the driver).
 */
import type { Activation } from '../src/ops/activation.js';
import { filesFromMemory, type ModelFiles } from '../src/model/loaders/files.js';
import { loadGraphModel } from '../src/model/loaders/graph_model.js';
import { loadModelSpec } from '../src/model/loaders/index.js';
import type { LayerSpec, ModelSpec, WeightData } from '../src/model/spec.js';
import type { Padding } from '../src/ops/shapes.js';
import { seededRandom } from '../tests/reference/tensor.js';
import type { WorkloadId } from './options.js';

/** Reads the installed npm packages' files: `path` is relative to node_modules/. */
export interface ModelSource {
  files(path: string): ModelFiles;
  readText(path: string): Promise<string>;
}


export interface Workload {
  id: WorkloadId;
  title: string;
  /** The model for the engine, and (through `files`, when it comes from files) for TF.js. */
  load(source: ModelSource): Promise<LoadedWorkload>;
  inputRange: [number, number];
  /** Layer (node name) whose channels the filter-visualization row maximizes. */
  filterLayer: string;
}

export interface LoadedWorkload {
  spec: ModelSpec;
  /** The model's TF.js files (model.json + shards), when it has them; code-built models have none. */
  files?: ModelFiles;
}

/** Standard normal values (Box-Muller over `random`). */
function normals(count: number, random: () => number, scale: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    out[i] = scale * r * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = scale * r * Math.sin(angle);
  }
  return out;
}

/** Layers of a plain Keras Sequential CNN, for code-built models. */
type Block =
  | { conv: number; padding: Padding; activation?: Activation }
  | { pool: number }
  | { flatten: true }
  | { dense: number; activation: Activation }
  | { softmax: true };

/**
 * A Sequential CNN as a ModelSpec with Keras-style layer names and He-normal weights
 * (std sqrt(2 / fan_in); biases N(0, 0.01^2)) from `seed`.
 */
export function sequentialSpec(source: string, input: [number, number, number], blocks: Block[], seed: number): ModelSpec {
  const random = seededRandom(seed);
  const layers: LayerSpec[] = [{ kind: 'input', name: 'input', inputs: [], shape: [...input] }];
  const counters = new Map<string, number>();
  const named = (base: string) => {
    const k = counters.get(base) ?? 0;
    counters.set(base, k + 1);
    return k === 0 ? base : `${base}_${k}`;
  };
  const weights = (shape: number[], fanIn: number): WeightData => ({ shape, data: normals(shape.reduce((a, b) => a * b, 1), random, Math.sqrt(2 / fanIn)) });
  const bias = (n: number): WeightData => ({ shape: [n], data: normals(n, random, 0.01) });
  let [h, w, c] = input;
  let flat = 0;
  let previous = 'input';
  for (const block of blocks) {
    let layer: LayerSpec;
    if ('conv' in block) {
      layer = {
        kind: 'conv2d', name: named('conv2d'), inputs: [previous],
        filter: weights([3, 3, c, block.conv], 9 * c), bias: bias(block.conv),
        strides: [1, 1], dilations: [1, 1], padding: block.padding, activation: block.activation ?? 'relu',
      };
      if (block.padding === 'valid') [h, w] = [h - 2, w - 2];
      c = block.conv;
    } else if ('pool' in block) {
      layer = { kind: 'maxPool', name: named('max_pooling2d'), inputs: [previous], poolSize: [block.pool, block.pool], strides: [block.pool, block.pool], padding: 'valid' };
      [h, w] = [Math.floor(h / block.pool), Math.floor(w / block.pool)];
    } else if ('flatten' in block) {
      layer = { kind: 'reshape', name: named('flatten'), inputs: [previous], shape: [-1] };
      flat = h * w * c;
    } else if ('dense' in block) {
      const fanIn = flat;
      layer = { kind: 'dense', name: named('dense'), inputs: [previous], weights: weights([fanIn, block.dense], fanIn), bias: bias(block.dense), activation: block.activation };
      flat = block.dense;
    } else {
      layer = { kind: 'softmax', name: named('softmax'), inputs: [previous] };
    }
    layers.push(layer);
    previous = layer.name;
  }
  return { source, layers, output: previous };
}

/** The Pokemon-vs-Digimon CNN of the issue: every conv 3x3 + ReLU; `size` 48 gives a CPU-sized variant. */
export function pokemonSpec(seed = 1, size = 120): ModelSpec {
  return sequentialSpec(`Pokemon-vs-Digimon CNN ${size}x${size}x3 (code, seeded He-normal weights)`, [size, size, 3], [
    { conv: 32, padding: 'same' }, { conv: 32, padding: 'valid' }, { pool: 2 },
    { conv: 64, padding: 'same' }, { conv: 64, padding: 'valid' }, { pool: 2 },
    { conv: 256, padding: 'same' }, { conv: 256, padding: 'valid' }, { pool: 2 },
    { flatten: true }, { dense: 1024, activation: 'relu' }, { dense: 2, activation: 'linear' }, { softmax: true },
  ], seed);
}

/** A CNN small enough for CPU adapters: ~7 MFLOP per image. */
export function tinySpec(seed = 2): ModelSpec {
  return sequentialSpec('tiny CNN (code, seeded He-normal weights)', [32, 32, 3], [
    { conv: 16, padding: 'same' }, { conv: 16, padding: 'valid' }, { pool: 2 },
    { conv: 32, padding: 'same' }, { pool: 2 },
    { flatten: true }, { dense: 64, activation: 'relu' }, { dense: 10, activation: 'linear' }, { softmax: true },
  ], seed);
}

/**
 * nsfwjs ships model.json and its weight shard as UMD modules (`module.exports = {...}` /
 * a base64 string). They are evaluated with a stand-in `module`, which works the same in Node and
 * in a page, and turned into in-memory ModelFiles.
 */
async function nsfwjsFiles(source: ModelSource, directory: string): Promise<ModelFiles> {
  const evaluate = async (path: string): Promise<unknown> => {
    const text = await source.readText(`${directory}/${path}`);
    const module = { exports: {} as unknown };
    new Function('module', 'exports', 'define', text)(module, module.exports, undefined);
    return module.exports;
  };
  const modelJson = (await evaluate('model.min.js')) as { weightsManifest: { paths: string[] }[] };
  const shards = new Map<string, ArrayBuffer>();
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) {
      const base64 = (await evaluate(`${path}.min.js`)) as string;
      const binary = atob(base64);
      const bytes = new Uint8Array(binary.length);
      for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
      shards.set(path, bytes.buffer);
    }
  }
  return filesFromMemory(`${directory}/model.min.js`, modelJson, shards);
}

async function fromFiles(files: ModelFiles): Promise<LoadedWorkload> {
  return { spec: await loadModelSpec(files), files };
}

export const WORKLOADS: Record<WorkloadId, Workload> = {
  pokemon: {
    id: 'pokemon',
    title: 'Pokemon-vs-Digimon CNN 120x120x3',
    load: async () => ({ spec: pokemonSpec() }),
    inputRange: [0, 1],
    filterLayer: 'conv2d_3',
  },
  pokemon48: {
    id: 'pokemon48',
    title: 'Pokemon-vs-Digimon CNN at 48x48x3',
    load: async () => ({ spec: pokemonSpec(1, 48) }),
    inputRange: [0, 1],
    filterLayer: 'conv2d_3',
  },
  antispoof: {
    id: 'antispoof',
    title: 'human antispoof 128x128x3',
    load: (source) => fromFiles(source.files('@vladmandic/human/models/antispoof.json')),
    inputRange: [0, 1],
    filterLayer: 'StatefulPartitionedCall/sequential/activation_1/Relu',
  },
  emotion: {
    id: 'emotion',
    title: 'human emotion 64x64x1',
    load: (source) => fromFiles(source.files('@vladmandic/human/models/emotion.json')),
    inputRange: [0, 1],
    filterLayer: 'StatefulPartitionedCall/model_1/block3_sepconv1_act/Relu',
  },
  mobilenetv2: {
    id: 'mobilenetv2',
    title: 'nsfwjs MobileNetV2 224x224x3',
    load: async (source) => fromFiles(await nsfwjsFiles(source, 'nsfwjs/dist/models/mobilenet_v2')),
    inputRange: [0, 1],
    filterLayer: 'block_3_project_BN',
  },
  handlandmark: {
    id: 'handlandmark',
    title: 'human handlandmark-lite 224x224x3 (hand flag)',
    load: async (source) => {
      const files = source.files('@vladmandic/human/models/handlandmark-lite.json');
      return { spec: await loadGraphModel(files, { output: 'Identity_1:0' }), files };
    },
    inputRange: [0, 1],
    filterLayer: 'Conv2D_15',
  },
  centernet: {
    id: 'centernet',
    title: 'human centernet 512x512x3 (MobileNetV3: SE, concat; keypoint heatmap)',
    load: async (source) => {
      const files = source.files('@vladmandic/human/models/centernet.json');
      return { spec: await loadGraphModel(files, { output: 'tower_0/keypoints' }), files };
    },
    inputRange: [0, 1],
    filterLayer: 'tower_0/MobilenetV3/expanded_conv_1/expand/Relu',
  },
  iris: {
    id: 'iris',
    title: 'human iris 64x64x3 (channel Pad, PReLU, concat of two heads)',
    load: (source) => fromFiles(source.files('@vladmandic/human/models/iris.json')),
    inputRange: [0, 1],
    filterLayer: 'StatefulPartitionedCall/model/p_re_lu_4/Relu',
  },
  tiny: {
    id: 'tiny',
    title: 'tiny CNN 32x32x3',
    load: async () => ({ spec: tinySpec() }),
    inputRange: [0, 1],
    filterLayer: 'conv2d_1',
  },
};

/** The image every method explains: smooth structure plus seeded noise, within the input range. */
export function benchImage(shape: readonly number[], range: readonly [number, number], seed = 3): Float32Array {
  const [h, w, c] = shape;
  const random = seededRandom(seed);
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const smooth = 0.5 + 0.25 * Math.sin((6 * x) / w + 2 * k) * Math.cos((5 * y) / h - k);
        const v = Math.min(1, Math.max(0, smooth + 0.15 * (random() - 0.5)));
        out[(y * w + x) * c + k] = range[0] + v * (range[1] - range[0]);
      }
    }
  }
  return out;
}
