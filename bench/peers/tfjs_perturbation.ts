/**
 * The perturbation methods written in TensorFlow.js 4.22 the way a TF.js user writes them, for
 * `npm run bench:perturbation`: masked copies of the image made with tensor ops, run through the
 * graph model (`model.execute` up to the logits node) in batches of OCCLUSION_BATCH (32, the
 * default batchSize of LayersModel.predict), the target's scores gathered on the GPU and read once.
 * Each does the same number of forward passes as the engine:
 *   LIME, KernelSHAP: the engine's segmentation (TF.js has no SLIC) and the same masks
 *     (limeMasks, kernelShapRows); the 'mean' baseline from the segments' mean colours; the same
 *     regression on the CPU (limeFit, shapleyFit).
 *   Score-CAM: the layer's maps by `execute`, tf.image.resizeBilinear (half-pixel), min-max
 *     normalized, one masked copy per channel, softmax over the non-flat channels, ReLU(sum w_k H_k).
 *   RISE: s x s grids from tf.randomUniform < p, resizeBilinear to (s + 1) * cell, a random
 *     shift per mask cut out with tf.image.cropAndResize, saliency sum_i P_i M_i / (N p)
 *     accumulated with matMul (its own random masks: compared with the engine by correlation).
 * The backend is WebGPU (the same adapter as the engine) or WebAssembly.
 */
import type * as TF from '@tensorflow/tfjs';
import { kernelShapRows, shapleyFit } from '../../src/explain/kernel_shap.js';
import { limeFit, limeMasks } from '../../src/explain/lime.js';
import { mulberry32 } from '../../src/explain/random.js';
import type { ModelFiles } from '../../src/model/loaders/files.js';
import { OCCLUSION_BATCH, provideNavigatorGpu, type PeerPlatform } from './peer.js';
import { artifacts, loadTf } from './tfjs.js';

/** What every method gets: the image [H, W, C], the class followed, and the engine's segmentation for LIME and KernelSHAP. */
export interface PeerInput {
  image: Float32Array;
  shape: readonly [number, number, number];
  target: number;
  labels: Int32Array;
  segments: number;
}

export interface PerturbationPeer {
  name: string;
  version: string;
  details: Record<string, unknown>;
  /** Per-segment LIME weights. */
  lime(input: PeerInput, samples: number, seed: number): Promise<Float64Array>;
  /** Per-segment Shapley values. */
  kernelShap(input: PeerInput, samples: number, seed: number): Promise<Float64Array>;
  /** The Score-CAM map [H * W] at `layer`. */
  scoreCam(input: PeerInput, layer: string): Promise<Float32Array>;
  /** The RISE map [H * W] (probability scores). */
  rise(input: PeerInput, masks: number, gridSize: number, probability: number, seed: number): Promise<Float32Array>;
  dispose(): void;
}

/** The one read of a result, which is then freed. */
async function readOnce(t: TF.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/** TF.js on `backend` with the graph model from `files`, executed up to `logitsNode`. */
export async function loadTfjsPerturbationPeer(backend: 'webgpu' | 'wasm', platform: PeerPlatform, files: ModelFiles, logitsNode: string): Promise<PerturbationPeer> {
  if (backend === 'webgpu') provideNavigatorGpu(platform.gpu);
  const tf = await loadTf();
  if (backend === 'webgpu') {
    await import('@tensorflow/tfjs-backend-webgpu');
  } else {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(platform.tfjsWasmFiles!);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
  await tf.ready();
  const model = await tf.loadGraphModel(tf.io.fromMemory(await artifacts(tf, files)));
  const logits = (x: TF.Tensor4D) => model.execute(x, logitsNode) as TF.Tensor2D;
  const details = backend === 'wasm' ? { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') } : {};

  /** The target's score (logit, or probability) of `rows` copies made by `copies(start, count)`, in batches; one read. */
  async function scoreCopies(rows: number, target: number, copies: (start: number, count: number) => TF.Tensor4D, probability = false): Promise<Float32Array> {
    const parts: TF.Tensor[] = [];
    for (let start = 0; start < rows; start += OCCLUSION_BATCH) {
      const count = Math.min(OCCLUSION_BATCH, rows - start);
      parts.push(tf.tidy(() => {
        const out = logits(copies(start, count));
        return tf.squeeze(tf.slice(probability ? tf.softmax(out) : out, [0, target], [count, 1]), [1]);
      }));
    }
    const all = tf.concat(parts);
    for (const t of parts) t.dispose();
    return readOnce(all);
  }

  /** Scores of the masked copies of a [rows, segments] mask matrix ('mean' baseline: each segment's mean colour). */
  async function segmentScores(input: PeerInput, masks: Float32Array): Promise<Float64Array> {
    const [h, w, c] = input.shape;
    const { labels, segments } = input;
    const sums = new Float64Array(segments * c);
    const counts = new Float64Array(segments);
    for (let p = 0; p < h * w; p++) {
      counts[labels[p]]++;
      for (let k = 0; k < c; k++) sums[labels[p] * c + k] += input.image[p * c + k];
    }
    const baselineData = Float32Array.from({ length: h * w * c }, (_, e) => sums[labels[Math.floor(e / c)] * c + (e % c)] / counts[labels[Math.floor(e / c)]]);
    const rows = masks.length / segments;
    const [x, baseline, labelTensor, maskTensor] = [tf.tensor4d(input.image, [1, h, w, c]), tf.tensor4d(baselineData, [1, h, w, c]), tf.tensor1d(labels, 'int32'), tf.tensor2d(masks, [rows, segments])];
    try {
      const scores = await scoreCopies(rows, input.target, (start, count) => {
        // each pixel takes its segment's on/off entry: [count, H * W]
        const perPixel = tf.gather(tf.slice(maskTensor, [start, 0], [count, segments]), labelTensor, 1);
        const keep = tf.reshape(perPixel, [count, h, w, 1]);
        return tf.add(baseline, tf.mul(keep, tf.sub(x, baseline))) as TF.Tensor4D;
      });
      return Float64Array.from(scores);
    } finally {
      for (const t of [x, baseline, labelTensor, maskTensor]) t.dispose();
    }
  }

  return {
    name: `tfjs-${backend}`,
    version: tf.version.tfjs,
    details,
    async lime(input, samples, seed) {
      const masks = limeMasks(input.segments, samples, seed);
      const scores = await segmentScores(input, masks);
      return limeFit(masks, scores, input.segments, 0.25, 1).coef;
    },
    async kernelShap(input, samples, seed) {
      const rows = kernelShapRows(input.segments, samples, seed);
      return shapleyFit(rows, input.segments, await segmentScores(input, rows.masks)).phi;
    },
    async scoreCam(input, layer) {
      const [h, w, c] = input.shape;
      const x = tf.tensor4d(input.image, [1, h, w, c]);
      const maps = tf.tidy(() => {
        const activations = model.execute(x, layer) as TF.Tensor4D;
        const up = tf.image.resizeBilinear(activations, [h, w], false, true);
        const low = tf.min(up, [0, 1, 2]);
        const span = tf.sub(tf.max(up, [0, 1, 2]), low);
        const flat = tf.lessEqual(span, 0);
        const normalized = tf.where(flat, tf.zerosLike(up), tf.div(tf.sub(up, low), tf.where(flat, tf.onesLike(span), span)));
        return { normalized: tf.reshape(normalized, [h * w, -1]) as TF.Tensor2D, masks: tf.transpose(normalized, [3, 1, 2, 0]) as TF.Tensor4D, valid: tf.logicalNot(flat) };
      });
      const channels = maps.masks.shape[0];
      try {
        const scores = await scoreCopies(channels, input.target, (start, count) => tf.mul(x, tf.slice(maps.masks, [start, 0, 0, 0], [count, h, w, 1])) as TF.Tensor4D);
        const map = tf.tidy(() => {
          const s = tf.tensor1d(scores);
          const largest = tf.max(tf.where(maps.valid, s, tf.fill([channels], -Infinity)));
          const e = tf.where(maps.valid, tf.exp(tf.sub(s, largest)), tf.zeros([channels]));
          const weights = tf.div(e, tf.sum(e));
          return tf.relu(tf.matMul(maps.normalized, tf.reshape(weights, [channels, 1])));
        });
        return await readOnce(map);
      } finally {
        x.dispose();
        for (const t of Object.values(maps)) t.dispose();
      }
    },
    async rise(input, total, gridSize, probability, seed) {
      const [h, w, c] = input.shape;
      const cell = [Math.ceil(h / gridSize), Math.ceil(w / gridSize)];
      const up = [(gridSize + 1) * cell[0], (gridSize + 1) * cell[1]];
      const random = mulberry32(seed);
      const x = tf.tensor4d(input.image, [1, h, w, c]);
      let sum = tf.zeros([1, h * w]);
      try {
        for (let start = 0; start < total; start += OCCLUSION_BATCH) {
          const count = Math.min(OCCLUSION_BATCH, total - start);
          const boxes = new Float32Array(count * 4);
          for (let n = 0; n < count; n++) {
            const [dy, dx] = [Math.floor(random() * cell[0]), Math.floor(random() * cell[1])];
            boxes.set([dy / (up[0] - 1), dx / (up[1] - 1), (dy + h - 1) / (up[0] - 1), (dx + w - 1) / (up[1] - 1)], n * 4);
          }
          const next = tf.tidy(() => {
            const grids = tf.cast(tf.less(tf.randomUniform([count, gridSize, gridSize, 1]), probability), 'float32');
            const resized = tf.image.resizeBilinear(grids as TF.Tensor4D, [up[0], up[1]], false, true);
            const masks = tf.image.cropAndResize(resized, tf.tensor2d(boxes, [count, 4]), tf.range(0, count, 1, 'int32') as TF.Tensor1D, [h, w]);
            const scores = tf.slice(tf.softmax(logits(tf.mul(x, masks) as TF.Tensor4D)), [0, input.target], [count, 1]);
            return tf.add(sum, tf.matMul(scores, tf.reshape(masks, [count, h * w]), true, false));
          });
          sum.dispose();
          sum = next;
        }
        return await readOnce(tf.div(sum, total * probability));
      } finally {
        x.dispose();
        sum.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}
