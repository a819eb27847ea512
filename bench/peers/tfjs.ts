/**
 * The TensorFlow.js 4.22 peers: its WebGPU backend (in the same process and on the same adapter as
 * the engine) and its WebAssembly backend (XNNPACK with SIMD, on the CPU), written the way a TF.js
 * user writes these methods: the model loaded with tf.loadLayersModel / tf.loadGraphModel (or
 * built with tf.sequential), gradients with tf.grad over a whole batch, SmoothGrad noise from
 * tf.randomNormal, results read with `await tensor.data()`.
 *
 * Node: tfjs-backend-webgpu registers itself only when `navigator.gpu` exists when it is imported
 * (and its backend constructor checks it again), so navigator.gpu is provided first (a Dawn GPU
 * object from the `webgpu` package); TF.js then asks it for its adapter and device exactly as in
 * a browser. The wasm backend loads its .wasm files from `PeerPlatform.tfjsWasmFiles`.
 * Both peers share TF.js's one engine: loadModel switches it to the peer's backend.
 *
 * Filter visualization has no TF.js counterpart here: a hand-written TF.js gradient ascent would
 * not reproduce the engine's jitter, blur and normalization step for step, so its output could not
 * be checked, and an unchecked peer is not timed.
 */
import type * as TF from '@tensorflow/tfjs';
import { quadrature } from '../../src/explain/integrated_gradients.js';
import type { ModelFiles } from '../../src/model/loaders/files.js';
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import type { MethodPlan } from '../methods.js';
import { OCCLUSION_BATCH, PeerUnsupportedError, collectDeviceErrors, occlusionMask, provideNavigatorGpu, type CheckInputs, type Peer, type PeerModel, type PeerPlatform } from './peer.js';

type Tf = typeof TF;

let loaded: Promise<Tf> | undefined;

/** TF.js itself, once per process. */
export function loadTf(): Promise<Tf> {
  loaded ??= (async () => {
    const module = (await import('@tensorflow/tfjs')) as Tf & { default?: Tf };
    return typeof module.setBackend === 'function' ? module : module.default!;
  })();
  return loaded;
}

/** TF.js on `backend`; the backend initialized and checked to work. */
export async function loadTfjsPeer(backend: 'webgpu' | 'wasm', platform: PeerPlatform): Promise<Peer> {
  let tf: Tf;
  let details: Record<string, unknown>;
  let device: GPUDevice | undefined;
  let takeErrors = () => '';
  if (backend === 'webgpu') {
    provideNavigatorGpu(platform.gpu);
    tf = await loadTf();
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    const webgpu = tf.backend() as unknown as { device: GPUDevice; adapterInfo?: { vendor?: string; architecture?: string } };
    device = webgpu.device;
    details = { vendor: webgpu.adapterInfo?.vendor, architecture: webgpu.adapterInfo?.architecture };
    // TF.js leaves WebGPU validation errors uncaptured: collect them for the row's note
    takeErrors = collectDeviceErrors(device, 'TF.js WebGPU');
  } else {
    if (!platform.tfjsWasmFiles) throw new Error('no location for the tfjs-backend-wasm .wasm files was given');
    tf = await loadTf();
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(platform.tfjsWasmFiles);
    if (!(await tf.setBackend('wasm'))) throw new Error(`tf.setBackend("wasm") failed (wasm files from ${platform.tfjsWasmFiles})`);
    await tf.ready();
    details = { simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') };
  }
  return {
    name: `tfjs-${backend}`,
    version: tf.version.tfjs,
    details,
    device,
    unsupported: tfjsUnsupported,
    async loadModel(spec, logitsNode, classes, files) {
      if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
      return loadTfjsModel(tf, spec, logitsNode, classes, files);
    },
    async run(model, image, shape, plan, range, check) {
      try {
        return await runTfjs(tf, model as TfjsModel, image, shape, plan, range, check);
      } catch (error) {
        // e.g. the wasm backend has no Conv2DBackpropFilter, which the gradient of a graph model's fused conv asks for
        const missing = /Kernel '(\w+)' not registered for backend '(\w+)'/.exec(String((error as Error)?.message));
        if (missing) throw new PeerUnsupportedError(`TF.js's ${missing[2]} backend has no ${missing[1]} kernel, which this method needs on this model`);
        throw error;
      }
    },
    takeErrors: () => takeErrors(),
  };
}

/** A loaded model: `logits` is differentiable (tf.grad goes through it). */
interface TfjsModel extends PeerModel {
  logits(x: TF.Tensor4D): TF.Tensor2D;
  classes: number;
}

/** tf.sequential from a code-built Sequential spec, up to (and including) the logits node. */
function sequentialFromSpec(tf: Tf, spec: ModelSpec, logitsNode: string): TF.Sequential {
  const model = tf.sequential();
  const input = spec.layers[0] as Extract<LayerSpec, { kind: 'input' }>;
  let first = true;
  const inputShape = () => (first ? { inputShape: input.shape } : {});
  for (const layer of spec.layers.slice(1)) {
    switch (layer.kind) {
      case 'conv2d': {
        const [kh, kw, , filters] = layer.filter.shape;
        model.add(tf.layers.conv2d({
          ...inputShape(), filters, kernelSize: [kh, kw], strides: [...layer.strides], padding: layer.padding as 'same' | 'valid',
          activation: layer.activation as 'relu' | 'linear', useBias: !!layer.bias,
          weights: [tf.tensor(layer.filter.data, layer.filter.shape), ...(layer.bias ? [tf.tensor(layer.bias.data, layer.bias.shape)] : [])],
        }));
        break;
      }
      case 'maxPool':
        model.add(tf.layers.maxPooling2d({ ...inputShape(), poolSize: [...layer.poolSize], strides: [...layer.strides], padding: layer.padding as 'same' | 'valid' }));
        break;
      case 'reshape':
        model.add(tf.layers.flatten(inputShape()));
        break;
      case 'dense':
        model.add(tf.layers.dense({
          ...inputShape(), units: layer.weights.shape[1], activation: layer.activation as 'relu' | 'linear', useBias: !!layer.bias,
          weights: [tf.tensor(layer.weights.data, layer.weights.shape), ...(layer.bias ? [tf.tensor(layer.bias.data, layer.bias.shape)] : [])],
        }));
        break;
      default:
        throw new Error(`sequentialFromSpec: layer kind '${layer.kind}' is not built for TF.js`);
    }
    first = false;
    if (layer.name === logitsNode) return model;
  }
  throw new Error(`sequentialFromSpec: no node '${logitsNode}'`);
}

type Json = Record<string, any>;

/** model.json and its shards as TF.js ModelArtifacts. */
export async function artifacts(tf: Tf, files: ModelFiles): Promise<TF.io.ModelArtifacts> {
  const json = (await files.readModelJson()) as Json;
  const groups = json.weightsManifest as { paths: string[]; weights: TF.io.WeightsManifestEntry[] }[];
  const shards: ArrayBuffer[] = [];
  for (const group of groups) for (const path of group.paths) shards.push(await files.readBinary(path));
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
    userDefinedMetadata: json.userDefinedMetadata,
    modelInitializer: json.modelInitializer,
    weightSpecs: groups.flatMap((g) => g.weights),
    weightData: tf.io.concatenateArrayBuffers(shards),
  };
}

/**
 * The workload's model in TF.js: from its files as a TF.js user loads them (the output layer's
 * softmax/sigmoid made linear for a Layers model; a graph model executed up to the logits node),
 * or rebuilt with tf.sequential with the same weights for a code-built model.
 */
async function loadTfjsModel(tf: Tf, spec: ModelSpec, logitsNode: string, classes: number, files?: ModelFiles): Promise<TfjsModel> {
  if (!files) {
    const model = sequentialFromSpec(tf, spec, logitsNode);
    return { logits: (x) => model.apply(x) as TF.Tensor2D, classes, dispose: () => model.dispose() };
  }
  const art = await artifacts(tf, files);
  const topology = art.modelTopology as Json;
  if (art.format === 'graph-model' || Array.isArray(topology.node)) {
    const model = await tf.loadGraphModel(tf.io.fromMemory(art));
    const nodes = new Set((topology.node as { name: string }[]).map((n) => n.name));
    if (!nodes.has(logitsNode)) throw new Error(`graph model has no node '${logitsNode}' for the logits`);
    return { logits: (x) => model.execute(x, logitsNode) as TF.Tensor2D, classes, dispose: () => model.dispose() };
  }
  // Layers: the output layer's activation made linear gives the logits
  const copy = JSON.parse(JSON.stringify(topology)) as Json;
  const config = (copy.model_config ?? copy).config;
  const outputName = config.output_layers[0][0] as string;
  const output = (config.layers as Json[]).find((l) => l.name === outputName)!;
  if (output.config.activation !== 'softmax' && output.config.activation !== 'sigmoid' && output.config.activation !== 'linear') {
    throw new Error(`Layers model output '${outputName}' (${output.class_name}) has activation '${output.config.activation}': no logits to differentiate`);
  }
  output.config.activation = 'linear';
  const model = await tf.loadLayersModel(tf.io.fromMemory({ ...art, modelTopology: copy }));
  return { logits: (x) => model.apply(x) as TF.Tensor2D, classes, dispose: () => model.dispose() };
}

function tfjsUnsupported(plan: MethodPlan): string | undefined {
  if (plan.id === 'filters') return 'no TF.js counterpart: a hand-written gradient ascent would not match the engine step for step, so it cannot be checked';
  return undefined;
}

/** Peer.run for TF.js (the backend is whichever loadModel made current). */
async function runTfjs(tf: Tf, model: TfjsModel, image: Float32Array, shape: readonly number[], plan: MethodPlan, range: readonly [number, number], check: CheckInputs = {}): Promise<Float32Array> {
  const [h, w, c] = shape;
  const score = (target: TF.Tensor) => (v: TF.Tensor) => tf.sum(tf.mul(model.logits(v as TF.Tensor4D), target));
  const extra: TF.Tensor[] = [];
  const result = tf.tidy(() => {
    const x = tf.tensor4d(image, [1, h, w, c]);
    // the predicted class as a one-hot row, kept on the GPU (a single logit is its own target)
    const target = model.classes === 1 ? tf.ones([1, 1]) : tf.oneHot(tf.argMax(model.logits(x), 1), model.classes).toFloat();
    switch (plan.id) {
      case 'saliency':
        return tf.grad(score(target))(x);
      case 'smoothgrad': {
        const sigma = plan.noise * (range[1] - range[0]);
        const noisy = check.noisy ? tf.tensor4d(check.noisy, [plan.samples, h, w, c]) : tf.add(x, tf.randomNormal([plan.samples, h, w, c], 0, sigma));
        return tf.mean(tf.grad(score(target))(noisy), 0);
      }
      case 'ig': {
        const { alphas, weights } = quadrature(plan.rule, plan.steps);
        const baseline = tf.fill([1, h, w, c], range[0]);
        const difference = tf.sub(x, baseline);
        const path = tf.add(baseline, tf.mul(difference, tf.tensor4d(Float32Array.from(alphas), [plan.steps, 1, 1, 1])));
        const grads = tf.grad(score(target))(path);
        const average = tf.sum(tf.mul(grads, tf.tensor4d(Float32Array.from(weights), [plan.steps, 1, 1, 1])), 0);
        // F(x) and F(baseline), read with the map, as the engine does for its completeness check
        extra.push(tf.keep(model.logits(tf.concat([x, baseline]) as TF.Tensor4D)));
        return tf.mul(difference, average);
      }
      case 'occlusion': {
        const { windows, mask } = occlusionMask(h, w, plan);
        // inside[n, y, x, 0] = 1 where window n covers pixel (y, x)
        const inside = tf.tensor4d(mask, [windows, h, w, 1]);
        const cleanScore = tf.sum(tf.mul(model.logits(x), target));
        // inference in batches of 32, as LayersModel.predict does by default
        const scores: TF.Tensor[] = [];
        for (let start = 0; start < windows; start += OCCLUSION_BATCH) {
          const count = Math.min(OCCLUSION_BATCH, windows - start);
          const copies = tf.mul(x, tf.sub(1, tf.slice(inside, [start, 0, 0, 0], [count, h, w, 1]))) as TF.Tensor4D; // fill value 0
          scores.push(tf.sum(tf.mul(model.logits(copies), target), 1));
        }
        const drops = tf.sub(cleanScore, tf.concat(scores));
        const flat = tf.reshape(inside, [windows, h * w]);
        const total = tf.matMul(tf.reshape(drops, [1, windows]), flat);
        const covering = tf.sum(flat, 0, true);
        return tf.where(tf.greater(covering, 0), tf.div(total, tf.maximum(covering, 1)), tf.zerosLike(total));
      }
      case 'filters':
        throw new Error(tfjsUnsupported(plan));
    }
  });
  try {
    const values = (await result.data()) as Float32Array;
    for (const t of extra) await t.data();
    return values;
  } finally {
    result.dispose();
    for (const t of extra) t.dispose();
  }
}
