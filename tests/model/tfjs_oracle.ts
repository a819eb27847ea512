/**
 * TF.js on its CPU backend as the oracle for whole models: loads the same files the engine loads
 * (graph or Layers model, through a ModelFiles-backed IOHandler), runs them, and takes tf.grad of
 * a weighted sum of an output with respect to the input. Float32 throughout, like the engine.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelFiles } from '../../src/model/loaders/files.js';
import type { WeightsManifestGroup } from '../../src/model/loaders/weights.js';
export { relativeL2 } from '../reference/tensor.js';

export interface HostTensor {
  shape: number[];
  data: Float32Array;
}

export type TfjsModel = tf.GraphModel | tf.LayersModel;

let ready: Promise<void> | undefined;

/** Selects the CPU backend once per process (TF.js logs a hint about tfjs-node; harmless). */
export function useCpuBackend(): Promise<void> {
  ready ??= tf.setBackend('cpu').then((ok) => {
    if (!ok) throw new Error('TF.js could not select its cpu backend');
  });
  return ready;
}

export interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { s?: string; list?: { s?: string[] } }>;
}

const UNFUSED: Record<string, string> = { _FusedConv2D: 'Conv2D', FusedDepthwiseConv2dNative: 'DepthwiseConv2dNative', _FusedMatMul: 'MatMul' };

/**
 * Rewrites _FusedConv2D / FusedDepthwiseConv2dNative / _FusedMatMul with fused BiasAdd and an
 * activation into separate nodes, the last keeping the fused node's name. Same values; but TF.js's
 * fused kernels' custom gradients always compute the filter gradient too (its CPU
 * Conv2DBackpropFilter takes tens of seconds on a 128x128 model), where tf.grad of the unfused
 * ops prunes it.
 */
export function unfuse(nodes: GraphNode[]): GraphNode[] {
  const out: GraphNode[] = [];
  for (const node of nodes) {
    const plain = UNFUSED[node.op];
    if (!plain) {
      out.push(node);
      continue;
    }
    const fused = (node.attr?.fused_ops?.list?.s ?? []).map((s) => atob(s));
    const inputs = (node.input ?? []).filter((i) => !i.startsWith('^'));
    if (fused.length === 0) {
      out.push({ ...node, op: plain });
      continue;
    }
    // Prelu takes its alpha as the input after the bias
    const prelu = fused[1] === 'Prelu';
    if (fused[0] !== 'BiasAdd' || fused.length > 2 || inputs.length !== (prelu ? 4 : 3)) throw new Error(`unfuse: node '${node.name}' has fused_ops [${fused.join(', ')}]`);
    const { fused_ops: _ops, num_args: _args, epsilon: _epsilon, ...attr } = node.attr ?? {};
    const product = `${node.name}/unfused`;
    const biased = fused[1] ? `${node.name}/unfused_bias` : node.name;
    out.push({ name: product, op: plain, input: inputs.slice(0, 2), attr });
    out.push({ name: biased, op: 'BiasAdd', input: [product, inputs[2]], attr: { data_format: { s: btoa('NHWC') } } });
    if (fused[1]) out.push({ name: node.name, op: fused[1], input: prelu ? [biased, inputs[3]] : [biased] });
  }
  return out;
}

/**
 * An IOHandler that reads model.json and its shards through `files`; `unfused` splits fused
 * graph-model nodes (see `unfuse`) for fast gradients.
 */
export function tfjsHandler(files: ModelFiles, unfused = false): tf.io.IOHandler {
  return {
    load: async () => {
      const json = (await files.readModelJson()) as Record<string, unknown>;
      const topology = json.modelTopology as { node?: GraphNode[] } | undefined;
      const modelTopology = unfused && topology?.node ? { ...topology, node: unfuse(topology.node) } : topology;
      const groups = (json.weightsManifest ?? []) as WeightsManifestGroup[];
      const shards: ArrayBuffer[] = [];
      for (const group of groups) for (const path of group.paths) shards.push(await files.readBinary(path));
      const joined = new Uint8Array(shards.reduce((n, s) => n + s.byteLength, 0));
      let at = 0;
      for (const shard of shards) {
        joined.set(new Uint8Array(shard), at);
        at += shard.byteLength;
      }
      return {
        modelTopology: modelTopology as tf.io.ModelArtifacts['modelTopology'],
        format: json.format as string | undefined,
        generatedBy: json.generatedBy as string | undefined,
        convertedBy: json.convertedBy as string | undefined,
        signature: json.signature as object | undefined,
        userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
        trainingConfig: json.trainingConfig as tf.io.TrainingConfig | undefined,
        weightSpecs: groups.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
        weightData: joined.buffer,
      };
    },
  };
}

export async function loadTfjsGraphModel(files: ModelFiles, unfused = false): Promise<tf.GraphModel> {
  await useCpuBackend();
  return tf.loadGraphModel(tfjsHandler(files, unfused));
}

export async function loadTfjsLayersModel(files: ModelFiles): Promise<tf.LayersModel> {
  await useCpuBackend();
  return tf.loadLayersModel(tfjsHandler(files));
}

/**
 * The value of `node` (a graph node name, or a layer name of a Layers model; default the model
 * output) for input x, as a symbolic function usable inside tf.grad.
 */
function runner(model: TfjsModel, node: string | undefined): (x: tf.Tensor) => tf.Tensor {
  if (model instanceof tf.GraphModel) return (x) => model.execute(x, node) as tf.Tensor;
  const target = node ? tf.model({ inputs: model.inputs, outputs: model.getLayer(node).output as tf.SymbolicTensor }) : model;
  return (x) => target.apply(x, { training: false }) as tf.Tensor;
}

async function toHost(t: tf.Tensor): Promise<HostTensor> {
  return { shape: t.shape, data: Float32Array.from(await t.data()) };
}

/** The values of `nodes` (default: the model output) for input x. */
export async function tfjsRun(model: TfjsModel, x: HostTensor, nodes: (string | undefined)[] = [undefined]): Promise<HostTensor[]> {
  const input = tf.tensor(x.data, x.shape, 'float32');
  const results: HostTensor[] = [];
  for (const node of nodes) {
    const y = tf.tidy(() => runner(model, node)(input));
    results.push(await toHost(y));
    y.dispose();
  }
  input.dispose();
  return results;
}

/** d sum(node(x) * seed) / dx: the vector-Jacobian product with upstream gradient `seed`. */
export async function tfjsInputGradient(model: TfjsModel, x: HostTensor, node: string | undefined, seed: HostTensor): Promise<HostTensor> {
  const input = tf.tensor(x.data, x.shape, 'float32');
  const upstream = tf.tensor(seed.data, seed.shape, 'float32');
  const run = runner(model, node);
  const gradient = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(run(t), upstream)))(input));
  const result = await toHost(gradient);
  tf.dispose([input, upstream, gradient]);
  return result;
}

/** One-hot rows at each row's largest entry of a [N, K] tensor (K = 1 gives ones): the "top logit" seed. */
export function topClassSeed(logits: HostTensor): HostTensor {
  const [n, k] = logits.shape;
  const seed = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits.data[row * k + j] > logits.data[row * k + best]) best = j;
    seed[row * k + best] = 1;
  }
  return { shape: [n, k], data: seed };
}

