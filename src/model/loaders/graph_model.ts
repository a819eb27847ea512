/**
 * TF.js graph models (model.json with format 'graph-model', written by tensorflowjs_converter from
 * a SavedModel or frozen graph) to the ModelSpec IR. The topology is a TensorFlow GraphDef in
 * JSON: `node[]` with `op`, `input` ("name", "name:0", "^control") and `attr` (strings base64,
 * int64 as decimal strings); each Const's value is the manifest weight named after the node.
 *
 * Only the nodes the output depends on are read, in dependency order. Inference graphs spell one
 * Keras layer as several ops (Conv2D, BiasAdd, Relu; Mul and Add for a batch norm): where an op's
 * input has no other reader, the op is folded into the layer that produced that input (bias,
 * per-channel scale, ReLU), and the layer takes the name of the last op folded in, as the
 * converter names its own fused nodes. Sigmoid is never folded, so the logits stay a node.
 * Maximum / Minimum with a constant are clip bounds, merged along a chain (clip_by_value) and into
 * ReLU / ReLU6 where the bounds are theirs. Identity nodes are elided. Anything else fails here, at
 * load time, before any weight is read:
 * UnsupportedModelError names the node and its op.
 * Format: tfjs-converter src/operations/operation_mapper.ts (signature, outputs, input names);
 * TensorFlow core/framework/{node_def,attr_value}.proto and core/ops/nn_ops.cc (attributes).
 */
import { isFusable, type Activation, type ActivationFunction } from '../../ops/activation.js';
import { broadcastShape, type BinaryOp } from '../../ops/binary.js';
import { foldBatchNorm } from '../../ops/channel_affine.js';
import { concatShape } from '../../ops/concat.js';
import { depthToSpaceShape, spaceToDepthShape } from '../../ops/depth_to_space.js';
import { paddedShape, type PadMode } from '../../ops/pad.js';
import { preluAlphaFits } from '../../ops/prelu.js';
import { reductionExtents, type Reduction } from '../../ops/reduce_axes.js';
import type { ResizeMethod } from '../../ops/resize.js';
import { formatShape, windowGeometry, type ExplicitPadding, type Padding } from '../../ops/shapes.js';
import type { LayerSpec, ModelSpec, Pair, WeightData } from '../spec.js';
import { ModelLoadError, UnsupportedModelError, type ModelFiles } from './files.js';
import { FOLDED_OPS, Folder } from './graph_constants.js';
import { loadWeights, type WeightsManifestGroup } from './weights.js';

interface AttrList {
  s?: string[];
  i?: (string | number)[];
  f?: (string | number)[];
  b?: boolean[];
}

interface AttrValue {
  s?: string;
  i?: string | number;
  f?: string | number;
  b?: boolean;
  type?: string;
  shape?: { dim?: { size?: string | number }[]; unknownRank?: boolean };
  list?: AttrList;
}

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

interface SignatureEntry {
  name?: string;
}

interface Signature {
  inputs?: Record<string, SignatureEntry>;
  outputs?: Record<string, SignatureEntry>;
}

interface GraphModelJson {
  format?: string;
  modelTopology?: { node?: GraphNode[] };
  weightsManifest?: WeightsManifestGroup[];
  signature?: Signature;
  userDefinedMetadata?: { signature?: Signature };
}

export interface GraphModelOptions {
  /**
   * The node to use as the model's output ("name" or "name:0", or a signature output's key).
   * Default: the signature's output, else the one node nothing reads.
   */
  output?: string;
}

const DEPTHWISE = ['DepthwiseConv2dNative', 'DepthwiseConv2d', 'FusedDepthwiseConv2dNative', '_FusedDepthwiseConv2dNative'];
const BATCH_NORM = ['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3'];
/** ops-binary: ops of two computed tensors and the binary op each is. */
const COMPUTED_BINARY: Readonly<Record<string, BinaryOp>> = { Add: 'add', AddV2: 'add', Sub: 'sub', Mul: 'mul', RealDiv: 'div', Maximum: 'maximum', Minimum: 'minimum' };

/** Reads a TF.js graph model (model.json and its weight shards) into the IR. */
export async function loadGraphModel(files: ModelFiles, options: GraphModelOptions = {}): Promise<ModelSpec> {
  const source = `${files.description} (TF.js graph model)`;
  const json = (await files.readModelJson()) as GraphModelJson;
  if (typeof json !== 'object' || json === null) throw new ModelLoadError(`${source}: model.json is not a JSON object`);
  if (json.format !== undefined && json.format !== 'graph-model') {
    throw new ModelLoadError(`${source}: format is '${json.format}', not 'graph-model' (a Layers model needs the Layers loader)`);
  }
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes)) throw new ModelLoadError(`${source}: modelTopology.node is missing; is this a TF.js graph model?`);
  // TF.js lets userDefinedMetadata.signature override the top-level one (graph_model.ts)
  const signature = json.userDefinedMetadata?.signature ?? json.signature;
  const graph = new Graph(source, nodes, outputOf(source, nodes, signature, options.output));
  const weights = await loadWeights(files, json.weightsManifest ?? []);
  return new Converter(graph, weights).convert();
}

interface Ref {
  node: string;
  index: number;
}

/** "name", "name:0" -> {node, index}; "^name" (a control input) -> undefined. */
function parseRef(input: string): Ref | undefined {
  if (input.startsWith('^')) return undefined;
  const colon = input.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(input.slice(colon + 1))) return { node: input.slice(0, colon), index: Number(input.slice(colon + 1)) };
  return { node: input, index: 0 };
}

function outputOf(source: string, nodes: GraphNode[], signature: Signature | undefined, requested: string | undefined): string {
  const names = new Set(nodes.map((n) => n.name));
  const pick = (ref: string, from: string) => {
    const parsed = parseRef(ref);
    if (!parsed || !names.has(parsed.node)) throw new ModelLoadError(`${source}: ${from} names output '${ref}', which is not a node of the graph`);
    if (parsed.index !== 0) throw new UnsupportedModelError(`${source}: ${from} names output '${ref}'; only a node's first output (:0) can be the model output`, { node: parsed.node });
    return parsed.node;
  };
  const outputs = Object.entries(signature?.outputs ?? {});
  if (requested) {
    // a signature output's key ('output_faceflag') stands for the node it names
    const keyed = outputs.find(([key]) => key === requested && !names.has(parseRef(requested)?.node ?? ''));
    return pick(keyed ? (keyed[1].name ?? requested) : requested, 'the output option');
  }
  if (outputs.length > 1) {
    throw new UnsupportedModelError(`${source}: the signature has ${outputs.length} outputs (${outputs.map(([key, o]) => o.name ?? key).join(', ')}); pass { output } (CLI: --output NODE) to choose the one to explain`);
  }
  if (outputs.length === 1) return pick(outputs[0][1].name ?? outputs[0][0], 'the signature');
  const read = new Set<string>();
  for (const node of nodes) for (const input of node.input ?? []) read.add(parseRef(input)?.node ?? input.slice(1));
  const sinks = nodes.filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp' && !n.op.startsWith('Placeholder'));
  if (sinks.length !== 1) {
    throw new UnsupportedModelError(`${source}: no signature, and ${sinks.length} nodes are read by no other (${sinks.map((n) => n.name).join(', ') || 'none'}); pass { output } (CLI: --output NODE) to choose the model output`);
  }
  return sinks[0].name;
}

/** The graph cut down to what the output depends on, in dependency order, with reader counts. */
class Graph {
  readonly byName = new Map<string, GraphNode>();
  /** Live nodes, each after every node it reads. */
  readonly order: GraphNode[] = [];
  /** How many times each node's value is read by live nodes (the model output counts once). */
  readonly readers = new Map<string, number>();

  constructor(readonly source: string, nodes: GraphNode[], readonly output: string) {
    for (const node of nodes) {
      if (typeof node?.name !== 'string' || typeof node.op !== 'string') throw new ModelLoadError(`${source}: a node lacks a name or an op: ${JSON.stringify(node).slice(0, 200)}`);
      if (this.byName.has(node.name)) throw new ModelLoadError(`${source}: two nodes are named '${node.name}'`);
      this.byName.set(node.name, node);
    }
    // depth-first from the output, each node emitted after its inputs (iterative: graphs can be deep)
    const state = new Map<string, 'open' | 'done'>();
    const stack: { node: GraphNode; next: number }[] = [{ node: this.byName.get(output)!, next: 0 }];
    state.set(output, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const inputs = this.inputs(top.node);
      if (top.next < inputs.length) {
        const child = inputs[top.next++].node;
        const seen = state.get(child);
        if (seen === 'open') throw new ModelLoadError(`${source}: the graph has a cycle through '${child}'`);
        if (!seen) {
          state.set(child, 'open');
          stack.push({ node: this.byName.get(child)!, next: 0 });
        }
        continue;
      }
      stack.pop();
      state.set(top.node.name, 'done');
      this.order.push(top.node);
    }
    this.readers.set(output, 1);
    for (const node of this.order) {
      if (!(node.op in GRAPH_OPS) && !FOLDED_OPS.includes(node.op)) {
        throw new UnsupportedModelError(`${source}: node '${node.name}' has op '${node.op}', which webgpu-xai does not support (supported: ${GRAPH_MODEL_OPS.join(', ')}; on constants and shapes, folded at load time: ${FOLDED_OPS.join(', ')})`, { node: node.name, op: node.op });
      }
      // Shape reads its input's shape, not its value: it does not stop folding into that input
      if (node.op === 'Shape') continue;
      for (const input of this.inputs(node)) this.readers.set(input.node, (this.readers.get(input.node) ?? 0) + 1);
    }
    const inputs = this.order.filter((n) => n.op === 'Placeholder');
    if (inputs.length !== 1) {
      throw new UnsupportedModelError(`${source}: the output '${output}' depends on ${inputs.length} Placeholder inputs (${inputs.map((n) => n.name).join(', ') || 'none'}); webgpu-xai runs models with exactly one image input`);
    }
  }

  /** Data inputs (control inputs dropped); each must name an existing node's first output. */
  inputs(node: GraphNode): Ref[] {
    const refs: Ref[] = [];
    for (const input of node.input ?? []) {
      const ref = parseRef(input);
      if (!ref) continue;
      if (!this.byName.has(ref.node)) throw new ModelLoadError(`${this.source}: node '${node.name}' reads '${input}', which is not a node of the graph`);
      if (ref.index !== 0) {
        const producer = this.byName.get(ref.node)!;
        // the op at fault is the producer: an op with several outputs
        throw new UnsupportedModelError(`${this.source}: node '${node.name}' reads output ${ref.index} of '${ref.node}' (${producer.op}); only first outputs are supported`, { node: ref.node, op: producer.op });
      }
      refs.push(ref);
    }
    return refs;
  }
}

/** An activation: the IR layer holding it and its shape without the batch. */
interface Value {
  layer: string;
  dims: number[];
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Decodes a base64 string attribute (TF.js writes bytes fields in base64). */
function decodeBase64(text: string, what: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
  } catch (cause) {
    throw new ModelLoadError(`${what} is not valid base64: '${text}'`, { cause });
  }
}

class Converter {
  private readonly layers: LayerSpec[] = [];
  private readonly layerByName = new Map<string, LayerSpec>();
  /** Graph node -> the activation it produces. */
  private readonly values = new Map<string, Value>();
  /** IR layer -> the graph node whose value it currently is (folding moves it down the chain). */
  private readonly owner = new Map<string, string>();
  private readonly source: string;
  /** Values known at load time: constants and what is computed from them and from shapes. */
  private readonly folder: Folder;
  /** The Placeholder's batch size, NaN when it is left open (-1). */
  private batch = Number.NaN;

  constructor(private readonly graph: Graph, weights: Map<string, WeightData>) {
    this.source = graph.source;
    this.folder = new Folder({
      source: this.source,
      node: (name) => graph.byName.get(name)!,
      inputs: (name) => graph.inputs(graph.byName.get(name)!).map((r) => r.node),
      weight: (name) => {
        const weight = weights.get(name);
        if (!weight) throw new ModelLoadError(`${this.source}: Const '${name}' has no entry in the weights manifest`);
        return weight;
      },
      activationShape: (name) => {
        const value = this.values.get(name);
        return value && [this.batch, ...value.dims];
      },
    });
  }

  convert(): ModelSpec {
    // a node whose value is known at load time is a constant to its readers, never a layer
    for (const node of this.graph.order) if (node.op === 'Placeholder' || !this.folder.value(node.name)) this.node(node);
    const output = this.values.get(this.graph.output);
    if (!output) throw new UnsupportedModelError(`${this.source}: the output '${this.graph.output}' is a constant, not a function of the input`, { node: this.graph.output });
    return { source: this.source, layers: this.layers, output: output.layer };
  }

  // ---- reading nodes

  private fail(node: GraphNode, message: string): never {
    throw new UnsupportedModelError(`${this.source}: node '${node.name}' (${node.op}): ${message}`, { node: node.name, op: node.op });
  }

  private attr(node: GraphNode, key: string): AttrValue | undefined {
    return node.attr?.[key];
  }

  private string(node: GraphNode, key: string): string | undefined {
    const s = this.attr(node, key)?.s;
    return s === undefined ? undefined : decodeBase64(s, `${this.source}: node '${node.name}' attribute ${key}`);
  }

  private strings(node: GraphNode, key: string): string[] {
    return (this.attr(node, key)?.list?.s ?? []).map((s) => decodeBase64(s, `${this.source}: node '${node.name}' attribute ${key}`));
  }

  private ints(node: GraphNode, key: string): number[] | undefined {
    return this.attr(node, key)?.list?.i?.map(Number);
  }

  private bool(node: GraphNode, key: string, fallback: boolean): boolean {
    return this.attr(node, key)?.b ?? fallback;
  }

  private float(node: GraphNode, key: string, fallback: number): number {
    const f = this.attr(node, key)?.f;
    return f === undefined ? fallback : Number(f);
  }

  private checkNhwc(node: GraphNode): void {
    const format = this.string(node, 'data_format');
    if (format !== undefined && format !== 'NHWC') this.fail(node, `data_format '${format}' is not supported; only NHWC (channels last)`);
  }

  /** A 4-entry NHWC window attribute [1, h, w, 1] -> [h, w]; absent -> fallback. */
  private window(node: GraphNode, key: string, fallback?: Pair): Pair {
    const list = this.ints(node, key);
    if (!list || list.length === 0) {
      if (fallback) return fallback;
      this.fail(node, `attribute ${key} is missing`);
    }
    if (list.length !== 4 || list[0] !== 1 || list[3] !== 1 || !(list[1] >= 1 && list[2] >= 1)) {
      this.fail(node, `${key} ${formatShape(list)} must be [1, h, w, 1]: windows over the batch or channel axis are not supported`);
    }
    return [list[1], list[2]];
  }

  /** padding 'SAME'/'VALID', or 'EXPLICIT' with explicit_paddings over H and W only. */
  private padding(node: GraphNode, allowExplicit: boolean): { padding: Padding; explicit?: [number, number, number, number] } {
    const padding = this.string(node, 'padding');
    if (padding === 'SAME') return { padding: 'same' };
    if (padding === 'VALID') return { padding: 'valid' };
    if (padding === 'EXPLICIT' && allowExplicit) {
      const p = this.ints(node, 'explicit_paddings') ?? [];
      if (p.length !== 8 || p[0] || p[1] || p[6] || p[7] || p.some((v) => !(v >= 0))) {
        this.fail(node, `explicit_paddings ${formatShape(p)} must be [0, 0, top, bottom, left, right, 0, 0]`);
      }
      return { padding: 'valid', explicit: [p[2], p[3], p[4], p[5]] };
    }
    return this.fail(node, `padding '${padding}' is not supported (SAME, VALID${allowExplicit ? ', or EXPLICIT over height and width' : ''})`);
  }

  inputRefs(node: GraphNode, count: number | [number, number]): string[] {
    const refs = this.graph.inputs(node).map((r) => r.node);
    const [low, high] = typeof count === 'number' ? [count, count] : count;
    if (refs.length < low || refs.length > high) this.fail(node, `expected ${low === high ? low : `${low} to ${high}`} inputs, got ${refs.length}`);
    return refs;
  }

  private isConstant(name: string | undefined): boolean {
    return name !== undefined && this.graph.byName.has(name) && this.folder.value(name) !== undefined;
  }

  /**
   * A constant input's value: a Const, or a value folded at load time (graph_constants.ts). With
   * `batchFirst`, a first entry that is the unknown batch size (NaN) is allowed (Reshape's target).
   */
  private constant(node: GraphNode, name: string, batchFirst = false): WeightData {
    const value = this.folder.value(name);
    if (!value) this.fail(node, `input '${name}' must be a constant, but it is computed (${this.graph.byName.get(name)!.op})`);
    // a NaN from the unknown batch; a weight's own NaN is left to Model's non-finite weight check
    if (this.folder.dependsOnBatch(name) && value.data.some((v, i) => Number.isNaN(v) && !(batchFirst && i === 0))) {
      const shown = value.data.length <= 16 ? `[${[...value.data].join(', ')}]` : formatShape(value.shape);
      this.fail(node, `input '${name}' ${shown} depends on the batch size, which is not known at load time (NaN)`);
    }
    return value;
  }

  private activation(node: GraphNode, name: string): Value {
    const value = this.values.get(name);
    if (!value) this.fail(node, `input '${name}' must be computed from the model input, but it is a constant`);
    return value;
  }

  private spatial(node: GraphNode, x: Value): [number, number, number] {
    if (x.dims.length !== 3) this.fail(node, `needs an NHWC input [N, H, W, C], got [N, ${x.dims.join(', ')}]`);
    return x.dims as [number, number, number];
  }

  /** A constant that broadcasts over the last axis of an activation with `channels` channels, as [channels]. */
  private perChannel(node: GraphNode, c: WeightData, channels: number, rank: number): Float32Array {
    const shape = c.shape;
    if (product(shape) === 1) return new Float32Array(channels).fill(c.data[0]);
    const leading = shape.slice(0, -1);
    if (shape[shape.length - 1] === channels && leading.every((d) => d === 1) && shape.length <= rank + 1) return c.data;
    return this.fail(node, `constant ${formatShape(shape)} does not broadcast per channel over [N, ..., ${channels}]; only per-channel or scalar constants are supported`);
  }

  // ---- emitting layers

  private unique(base: string): string {
    let name = base;
    for (let k = 2; this.graph.byName.has(name) || this.layerByName.has(name); k++) name = `${base}_${k}`;
    return name;
  }

  private emit(layer: LayerSpec, dims: number[], node?: GraphNode): Value {
    this.layers.push(layer);
    this.layerByName.set(layer.name, layer);
    const value = { layer: layer.name, dims };
    if (node) {
      this.values.set(node.name, value);
      this.owner.set(layer.name, node.name);
    }
    return value;
  }

  /**
   * The layer producing graph node `name` if `name` is read only by the node now being converted
   * (so changing that layer changes no other reader's value), else undefined.
   */
  private foldable(name: string): LayerSpec | undefined {
    const value = this.values.get(name);
    if (!value || this.graph.readers.get(name) !== 1 || this.owner.get(value.layer) !== name) return undefined;
    return this.layerByName.get(value.layer);
  }

  /** `layer` now computes `node`'s value: it takes the node's name. */
  private absorb(layer: LayerSpec, node: GraphNode, dims: number[]): void {
    const old = layer.name;
    this.layerByName.delete(old);
    this.owner.delete(old);
    layer.name = node.name;
    this.layerByName.set(node.name, layer);
    this.owner.set(node.name, node.name);
    for (const [key, value] of this.values) if (value.layer === old) this.values.set(key, { layer: node.name, dims: value.dims });
    this.values.set(node.name, { layer: node.name, dims });
  }

  private alias(node: GraphNode, value: Value): void {
    this.values.set(node.name, value);
  }

  /**
   * y = x * scale + shift per channel, x being graph node `from`'s value: folded into the layer
   * producing x when possible, else a channelAffine.
   */
  private affine(node: GraphNode, from: string, scale: Float32Array | undefined, shift: Float32Array | undefined): void {
    const x = this.activation(node, from);
    const channels = x.dims[x.dims.length - 1];
    const producer = this.foldable(from);
    if (producer && (producer.kind === 'conv2d' || producer.kind === 'depthwiseConv2d' || producer.kind === 'dense' || producer.kind === 'conv2dTranspose') && producer.activation === 'linear') {
      const bias = new Float32Array(channels);
      if (producer.bias) bias.set(producer.bias.data);
      if (scale) {
        const weights = producer.kind === 'dense' ? producer.weights : producer.filter;
        // the output channel is the last filter axis, but the third of a transposed convolution's [kh, kw, out, in]
        const last = producer.kind === 'conv2dTranspose' ? producer.filter.shape[3] : 1;
        const scaled = Float32Array.from(weights.data, (v, i) => v * scale[Math.floor(i / last) % channels]);
        if (producer.kind === 'dense') producer.weights = { shape: weights.shape, data: scaled };
        else producer.filter = { shape: weights.shape, data: scaled };
        for (let c = 0; c < channels; c++) bias[c] *= scale[c];
      }
      if (shift) for (let c = 0; c < channels; c++) bias[c] += shift[c];
      producer.bias = { shape: [channels], data: bias };
      this.absorb(producer, node, x.dims);
      return;
    }
    if (producer && producer.kind === 'channelAffine') {
      const s = Float32Array.from(producer.scale.data, (v, c) => v * (scale ? scale[c] : 1));
      const t = Float32Array.from(producer.shift.data, (v, c) => v * (scale ? scale[c] : 1) + (shift ? shift[c] : 0));
      producer.scale = { shape: [channels], data: s };
      producer.shift = { shape: [channels], data: t };
      this.absorb(producer, node, x.dims);
      return;
    }
    this.emit({
      kind: 'channelAffine', name: node.name, inputs: [x.layer],
      scale: { shape: [channels], data: scale ?? new Float32Array(channels).fill(1) },
      shift: { shape: [channels], data: shift ?? new Float32Array(channels) },
    }, x.dims, node);
  }

  act(node: GraphNode, from: string, kind: ActivationFunction): void {
    const x = this.activation(node, from);
    const producer = kind === 'sigmoid' || !isFusable(kind) ? undefined : this.foldable(from);
    if (producer && (producer.kind === 'conv2d' || producer.kind === 'depthwiseConv2d' || producer.kind === 'dense' || producer.kind === 'conv2dTranspose') && producer.activation === 'linear') {
      producer.activation = kind as Activation;
      this.absorb(producer, node, x.dims);
      return;
    }
    this.emit({ kind: 'activation', name: node.name, inputs: [x.layer], activation: kind }, x.dims, node);
  }

  /**
   * The `fused_ops` tail of _FusedConv2D / _FusedMatMul: BiasAdd or FusedBatchNorm, then at most
   * one activation (Prelu's alpha is the extra input after the bias or batch-norm inputs,
   * LeakyRelu's slope the leakyrelu_alpha attribute). Returns the per-channel scale (batch norm),
   * bias, activation and PReLU alpha.
   */
  private epilogue(node: GraphNode, channels: number): { scale?: Float32Array; bias?: Float32Array; activation: ActivationFunction; preluAlpha?: WeightData } {
    const ops = this.strings(node, 'fused_ops');
    let args = this.graph.inputs(node).slice(2).map((r) => this.constant(node, r.node));
    const [first, second, ...rest] = ops;
    const activations: Record<string, ActivationFunction> = {
      Relu: 'relu', Relu6: 'relu6', Sigmoid: 'sigmoid', Elu: { kind: 'elu', alpha: 1 }, Tanh: 'tanh',
      LeakyRelu: { kind: 'leakyRelu', alpha: this.float(node, 'leakyrelu_alpha', 0.2) },
    };
    const names = [...Object.keys(activations), 'Prelu'].join('|');
    const supported = `supported fused_ops: [], [BiasAdd], [BiasAdd, ${names}], [FusedBatchNorm], [FusedBatchNorm, ${names}]`;
    if (rest.length > 0 || (second !== undefined && !activations[second] && second !== 'Prelu') || (first !== undefined && first !== 'BiasAdd' && first !== 'FusedBatchNorm')) {
      this.fail(node, `fused_ops [${ops.join(', ')}] are not supported (${supported})`);
    }
    let preluAlpha: WeightData | undefined;
    if (second === 'Prelu') {
      if (args.length < 1) this.fail(node, 'Prelu needs its alpha as the last extra input');
      preluAlpha = args[args.length - 1];
      if (!preluAlphaFits([1, channels], preluAlpha.shape)) this.fail(node, `Prelu alpha ${formatShape(preluAlpha.shape)} must be one value or [${channels}] (one per channel)`);
      args = args.slice(0, -1);
    }
    const activation: ActivationFunction = second === 'Prelu' ? 'linear' : second ? activations[second] : 'linear';
    const withPrelu = <T extends object>(e: T) => (preluAlpha ? { ...e, preluAlpha } : e);
    const vector = (w: WeightData, what: string) => {
      if (w.shape.length !== 1 || w.shape[0] !== channels) this.fail(node, `${what} ${formatShape(w.shape)} must be [${channels}]`);
      return w.data;
    };
    if (first === 'BiasAdd') {
      if (args.length !== 1) this.fail(node, `BiasAdd needs 1 extra input${preluAlpha ? ' besides the Prelu alpha' : ''}, got ${args.length}`);
      return withPrelu({ bias: vector(args[0], 'bias'), activation });
    }
    if (first === 'FusedBatchNorm') {
      if (args.length !== 4) this.fail(node, `FusedBatchNorm needs 4 extra inputs (scale, offset, mean, variance), got ${args.length}`);
      const [gamma, beta, movingMean, movingVariance] = args.map((a, i) => vector(a, ['scale', 'offset', 'mean', 'variance'][i]));
      const { scale, shift } = foldBatchNorm({ gamma, beta, movingMean, movingVariance, epsilon: this.float(node, 'epsilon', 1e-4) });
      return withPrelu({ scale, bias: shift, activation });
    }
    if (args.length !== 0) this.fail(node, `${args.length} extra inputs but no fused_ops`);
    return withPrelu({ activation });
  }

  /**
   * A conv/dense layer with a fused epilogue. The kernels fuse ReLU and ReLU6; a fused Sigmoid
   * becomes its own layer (the logits stay visible), and so do the activations the kernels do not
   * fuse (Elu, Tanh, LeakyRelu) and Prelu: a linear `<node>/linear` layer, then the activation.
   */
  private emitWithEpilogue(node: GraphNode, build: (name: string, activation: Activation) => LayerSpec, dims: number[], activation: ActivationFunction, preluAlpha?: WeightData): void {
    if (isFusable(activation) && activation !== 'sigmoid' && !preluAlpha) {
      this.emit(build(node.name, activation), dims, node);
      return;
    }
    const linear = this.emit(build(this.unique(`${node.name}/linear`), 'linear'), dims);
    if (preluAlpha) this.emit({ kind: 'prelu', name: node.name, inputs: [linear.layer], alpha: preluAlpha }, dims, node);
    else this.emit({ kind: 'activation', name: node.name, inputs: [linear.layer], activation }, dims, node);
  }

  // ---- ops

  node(node: GraphNode): void {
    const convert = GRAPH_OPS[node.op];
    if (!convert && FOLDED_OPS.includes(node.op)) {
      this.fail(node, `${node.op} is supported only where its value is known at load time (computed from constants and shapes); here it reads a value computed from the model input`);
    }
    if (!convert) this.fail(node, `no mapping (supported: ${GRAPH_MODEL_OPS.join(', ')})`);
    convert(this, node);
  }

  identity(node: GraphNode): void {
    this.alias(node, this.activation(node, this.inputRefs(node, 1)[0]));
  }

  softmax(node: GraphNode): void {
    const x = this.activation(node, this.inputRefs(node, 1)[0]);
    this.emit({ kind: 'softmax', name: node.name, inputs: [x.layer] }, x.dims, node);
  }

  placeholder(node: GraphNode): void {
    const type = this.attr(node, 'dtype')?.type;
    if (type !== undefined && type !== 'DT_FLOAT') this.fail(node, `input dtype ${type} is not supported; the input must be float32`);
    const shape = this.attr(node, 'shape')?.shape;
    const dims = shape?.dim?.map((d) => Number(d.size ?? -1));
    if (!dims || shape?.unknownRank || dims.length !== 4 || dims.slice(1).some((d) => !(Number.isInteger(d) && d > 0))) {
      this.fail(node, `the input shape must be a fixed NHWC image [N, H, W, C], got ${dims ? formatShape(dims) : 'an unknown shape'}`);
    }
    if (dims[0] > 0) this.batch = dims[0];
    this.emit({ kind: 'input', name: node.name, inputs: [], shape: dims.slice(1) }, dims.slice(1), node);
  }

  conv(node: GraphNode, depthwise: boolean): void {
    const fused = node.op.includes('Fused');
    const refs = this.inputRefs(node, fused ? [2, 6] : 2);
    this.checkNhwc(node);
    let x = this.activation(node, refs[0]);
    const [, , channels] = this.spatial(node, x);
    const filter = this.constant(node, refs[1]);
    const [kh, kw, cin, cout] = filter.shape;
    if (filter.shape.length !== 4 || cin !== channels) this.fail(node, `filter ${formatShape(filter.shape)} must be [kh, kw, ${channels}, ${depthwise ? 'multiplier' : 'out'}] for input [N, ${x.dims.join(', ')}]`);
    const strides = this.window(node, 'strides');
    const dilations = this.window(node, 'dilations', [1, 1]);
    const { padding, explicit } = this.padding(node, true);
    const outChannels = depthwise ? cin * cout : cout;
    const { scale, bias, activation, preluAlpha } = fused ? this.epilogue(node, outChannels) : { activation: 'linear' as Activation, preluAlpha: undefined };
    if (explicit && explicit.some((p) => p > 0)) {
      const [top, bottom, left, right] = explicit;
      const [h, w, c] = x.dims;
      x = this.emit({ kind: 'zeroPad', name: this.unique(`${node.name}/explicit_padding`), inputs: [x.layer], top, bottom, left, right }, [h + top + bottom, w + left + right, c]);
    }
    const geometry = this.geometry(node, x, [kh, kw], strides, dilations, padding);
    const dims = [geometry.outHeight, geometry.outWidth, outChannels];
    const folded = scale ? { shape: filter.shape, data: Float32Array.from(filter.data, (v, i) => v * scale[i % outChannels]) } : filter;
    const biasData = bias && { shape: [outChannels], data: bias };
    const kind = depthwise ? 'depthwiseConv2d' : 'conv2d';
    this.emitWithEpilogue(node, (name, act) => ({ kind, name, inputs: [x.layer], filter: folded, bias: biasData, strides, dilations, padding, activation: act }), dims, activation, preluAlpha);
  }

  private geometry(node: GraphNode, x: Value, kernel: Pair, strides: Pair, dilations: Pair, padding: Padding | ExplicitPadding) {
    try {
      return windowGeometry(x.dims[0], x.dims[1], kernel, strides, dilations, padding);
    } catch (cause) {
      return this.fail(node, (cause as Error).message);
    }
  }

  pool(node: GraphNode): void {
    const [ref] = this.inputRefs(node, 1);
    this.checkNhwc(node);
    const x = this.activation(node, ref);
    const [, , channels] = this.spatial(node, x);
    const poolSize = this.window(node, 'ksize');
    const strides = this.window(node, 'strides');
    const { padding } = this.padding(node, false);
    const geometry = this.geometry(node, x, poolSize, strides, [1, 1], padding);
    const kind = node.op === 'MaxPool' ? 'maxPool' : 'avgPool';
    this.emit({ kind, name: node.name, inputs: [x.layer], poolSize, strides, padding }, [geometry.outHeight, geometry.outWidth, channels], node);
  }

  mean(node: GraphNode): void {
    const [ref, axesRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    const axes = [...this.constant(node, axesRef).data].map((a) => (a < 0 ? a + x.dims.length + 1 : a)).sort((p, q) => p - q);
    // over H and W of an image: global average pooling; anything else: the general reduction
    if (x.dims.length !== 3 || axes.length !== 2 || axes[0] !== 1 || axes[1] !== 2) return this.reduce(node, 'mean');
    const channels = x.dims[2];
    const keepDims = this.bool(node, 'keep_dims', false);
    this.emit({ kind: 'globalAvgPool', name: node.name, inputs: [x.layer], keepDims }, keepDims ? [1, 1, channels] : [channels], node);
  }

  matMul(node: GraphNode): void {
    const fused = node.op === '_FusedMatMul';
    const refs = this.inputRefs(node, fused ? [2, 6] : 2);
    if (this.bool(node, 'transpose_a', false)) this.fail(node, 'transpose_a = true is not supported');
    const x = this.activation(node, refs[0]);
    let weights = this.constant(node, refs[1]);
    if (weights.shape.length !== 2) this.fail(node, `weights ${formatShape(weights.shape)} must be a matrix`);
    if (this.bool(node, 'transpose_b', false)) {
      // [out, in] -> [in, out] once, at load time
      const [m, k] = weights.shape;
      const data = new Float32Array(k * m);
      for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) data[j * m + i] = weights.data[i * k + j];
      weights = { shape: [k, m], data };
    }
    const [k, m] = weights.shape;
    if (x.dims.length !== 1 || x.dims[0] !== k) this.fail(node, `input [N, ${x.dims.join(', ')}] does not fit weights ${formatShape(weights.shape)}; expected [N, ${k}]`);
    const { scale, bias, activation, preluAlpha } = fused ? this.epilogue(node, m) : { activation: 'linear' as Activation, preluAlpha: undefined };
    const folded = scale ? { shape: weights.shape, data: Float32Array.from(weights.data, (v, i) => v * scale[i % m]) } : weights;
    const biasData = bias && { shape: [m], data: bias };
    this.emitWithEpilogue(node, (name, act) => ({ kind: 'dense', name, inputs: [x.layer], weights: folded, bias: biasData, activation: act }), [m], activation, preluAlpha);
  }

  /**
   * BiasAdd, Add/AddV2, Sub, Mul, RealDiv: of an activation and a per-channel constant; and of two
   * activations, with broadcasting (see `computedBinary`).
   */
  binary(node: GraphNode): void {
    const [a, b] = this.inputRefs(node, 2);
    if (node.op === 'BiasAdd') this.checkNhwc(node);
    const constA = this.isConstant(a);
    const constB = this.isConstant(b);
    if (!constA && !constB) return this.computedBinary(node, this.activation(node, a), this.activation(node, b));
    if (constA && node.op !== 'Add' && node.op !== 'AddV2' && node.op !== 'Mul' && node.op !== 'Sub') this.fail(node, 'the constant must be the second input');
    const from = constA ? b : a;
    const x = this.activation(node, from);
    const channels = x.dims[x.dims.length - 1];
    const c = this.perChannel(node, this.constant(node, constA ? a : b), channels, x.dims.length);
    switch (node.op) {
      case 'Mul':
        return this.affine(node, from, c, undefined);
      case 'RealDiv':
        return this.affine(node, from, c.map((v) => 1 / v), undefined);
      case 'Sub':
        // x - c, or c - x when the constant comes first
        return constA ? this.affine(node, from, new Float32Array(channels).fill(-1), c) : this.affine(node, from, undefined, c.map((v) => -v));
      default:
        return this.affine(node, from, undefined, c);
    }
  }

  // ---- ops-binary: multi-input ops of computed tensors

  /**
   * Add/AddV2, Sub, Mul, RealDiv, Maximum, Minimum of two computed tensors of one rank, broadcast
   * where one has size 1 (squeeze-and-excitation's [N, 1, 1, C] * [N, H, W, C]). Different ranks
   * are refused: TF aligns the trailing axes, so the smaller tensor's batch axis would meet an image
   * axis.
   */
  private computedBinary(node: GraphNode, x: Value, y: Value): void {
    const op = COMPUTED_BINARY[node.op];
    if (!op) this.fail(node, `${node.op} of two computed tensors is not supported (supported: ${Object.keys(COMPUTED_BINARY).join(', ')})`);
    if (x.dims.length !== y.dims.length) this.fail(node, `combines [N, ${x.dims.join(', ')}] and [N, ${y.dims.join(', ')}]; computed tensors must have one rank (reshape to [N, 1, 1, C] first)`);
    const dims = this.broadcastDims(node, x.dims, y.dims);
    const inputs = [x.layer, y.layer];
    this.emit(op === 'add' ? { kind: 'add', name: node.name, inputs } : { kind: 'binary', op, name: node.name, inputs }, dims, node);
  }

  private broadcastDims(node: GraphNode, x: number[], y: number[]): number[] {
    try {
      return broadcastShape([1, ...x], [1, ...y], node.op).slice(1);
    } catch (cause) {
      return this.fail(node, (cause as Error).message);
    }
  }

  /** AddN of N computed tensors: a chain of adds, the last named after the node. */
  addN(node: GraphNode): void {
    const refs = this.inputRefs(node, [1, Infinity]);
    const values = refs.map((r) => this.activation(node, r));
    if (values.length === 1) return this.alias(node, values[0]);
    let sum = values[0];
    for (let i = 1; i < values.length; i++) {
      if (sum.dims.length !== values[i].dims.length) this.fail(node, `adds [N, ${sum.dims.join(', ')}] and [N, ${values[i].dims.join(', ')}]; inputs must have one rank`);
      const dims = this.broadcastDims(node, sum.dims, values[i].dims);
      const inputs = [sum.layer, values[i].layer];
      sum = i === values.length - 1
        ? this.emit({ kind: 'add', name: node.name, inputs }, dims, node)
        : this.emit({ kind: 'add', name: this.unique(`${node.name}/partial${i}`), inputs }, dims);
    }
  }

  /** ConcatV2 (inputs..., axis) and Concat (axis, inputs...) of computed tensors on an axis after the batch. */
  concat(node: GraphNode): void {
    const refs = this.inputRefs(node, [2, Infinity]);
    const [axisRef, parts] = node.op === 'Concat' ? [refs[0], refs.slice(1)] : [refs[refs.length - 1], refs.slice(0, -1)];
    const values = parts.map((r) => this.activation(node, r));
    const axisData = this.constant(node, axisRef).data;
    const rank = values[0].dims.length + 1;
    const axis = axisData[0] < 0 ? axisData[0] + rank : axisData[0];
    if (axisData.length !== 1 || !(axis >= 1 && axis < rank)) this.fail(node, `axis ${[...axisData].join(', ')} is not supported on rank ${rank} (an axis after the batch: 1..${rank - 1} or -1..-${rank - 1})`);
    const shapes = values.map((v) => [1, ...v.dims]);
    let dims: number[];
    try {
      dims = concatShape(shapes, axis).slice(1);
    } catch (cause) {
      return this.fail(node, (cause as Error).message);
    }
    if (values.length === 1) return this.alias(node, values[0]);
    this.emit({ kind: 'concat', name: node.name, inputs: values.map((v) => v.layer), axis }, dims, node);
  }

  batchNorm(node: GraphNode): void {
    const refs = this.inputRefs(node, 5);
    this.checkNhwc(node);
    if (this.bool(node, 'is_training', false)) this.fail(node, 'is_training = true: a training-mode batch norm depends on the batch; export the model for inference');
    const x = this.activation(node, refs[0]);
    const channels = x.dims[x.dims.length - 1];
    const [gamma, beta, movingMean, movingVariance] = refs.slice(1).map((r) => this.perChannel(node, this.constant(node, r), channels, x.dims.length));
    const { scale, shift } = foldBatchNorm({ gamma, beta, movingMean, movingVariance, epsilon: this.float(node, 'epsilon', 1e-4) });
    this.affine(node, refs[0], scale, shift);
  }

  private reshapeTo(node: GraphNode, x: Value, dims: number[]): void {
    if (formatShape(dims) === formatShape(x.dims)) return this.alias(node, x);
    this.emit({ kind: 'reshape', name: node.name, inputs: [x.layer], shape: dims }, dims, node);
  }

  reshape(node: GraphNode): void {
    const [ref, shapeRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    // an unknown batch entry (NaN, from Shape of an activation) is the batch: -1
    const target = [...this.constant(node, shapeRef, true).data].map((d, i) => (i === 0 && Number.isNaN(d) ? -1 : d));
    const size = product(x.dims);
    // the first entry is the batch: -1, or 1 in graphs exported for one image
    if (target.length < 1 || (target[0] !== -1 && target[0] !== 1)) this.fail(node, `target shape [${target.join(', ')}] must keep the batch first (-1)`);
    const rest = target.slice(1);
    const free = rest.filter((d) => d === -1).length;
    const known = product(rest.filter((d) => d !== -1));
    if (free > 1 || rest.some((d) => d !== -1 && !(Number.isInteger(d) && d > 0)) || (free === 1 ? size % known !== 0 : known !== size)) {
      this.fail(node, `cannot reshape [N, ${x.dims.join(', ')}] to [${target.join(', ')}]`);
    }
    this.reshapeTo(node, x, rest.map((d) => (d === -1 ? size / known : d)));
  }

  squeeze(node: GraphNode): void {
    const [ref] = this.inputRefs(node, 1);
    const x = this.activation(node, ref);
    const rank = x.dims.length + 1;
    const listed = (this.ints(node, 'squeeze_dims') ?? []).map((a) => (a < 0 ? a + rank : a));
    const axes = listed.length > 0 ? listed : x.dims.map((d, i) => (d === 1 ? i + 1 : -1)).filter((a) => a > 0);
    if (axes.some((a) => a < 1 || a >= rank || x.dims[a - 1] !== 1)) this.fail(node, `cannot squeeze axes [${listed.join(', ')}] of [N, ${x.dims.join(', ')}] (only size-1 axes after the batch)`);
    this.reshapeTo(node, x, x.dims.filter((_, i) => !axes.includes(i + 1)));
  }

  // ---- ops-layout: data movement and reductions

  private int(node: GraphNode, key: string, fallback: number): number {
    const i = this.attr(node, key)?.i;
    return i === undefined ? fallback : Number(i);
  }

  /** A constant's values as integers (int32 index constants). */
  private intConstant(node: GraphNode, name: string, what: string): number[] {
    const values = [...this.constant(node, name).data];
    if (values.some((v) => !Number.isInteger(v))) this.fail(node, `${what} [${values.join(', ')}] must be integers`);
    return values;
  }

  /** Pad, PadV2 (any constant value), MirrorPad (REFLECT, SYMMETRIC) of any axis but the batch. */
  pad(node: GraphNode): void {
    const refs = this.inputRefs(node, node.op === 'PadV2' ? 3 : 2);
    const x = this.activation(node, refs[0]);
    const rank = x.dims.length + 1;
    const p = this.constant(node, refs[1]);
    if (formatShape(p.shape) !== formatShape([rank, 2])) this.fail(node, `paddings ${formatShape(p.shape)} must be [${rank}, 2] for input [N, ${x.dims.join(', ')}]`);
    const flat = this.intConstant(node, refs[1], 'paddings');
    if (flat[0] || flat[1]) this.fail(node, `pads the batch axis (paddings [${flat.join(', ')}]); only the axes after the batch can be padded`);
    const paddings = x.dims.map((_, k): Pair => [flat[2 * k + 2], flat[2 * k + 3]]);
    let mode: PadMode = 'constant';
    if (node.op === 'MirrorPad') {
      const name = this.string(node, 'mode');
      if (name !== 'REFLECT' && name !== 'SYMMETRIC') this.fail(node, `mode '${name}' is not supported (REFLECT, SYMMETRIC)`);
      mode = name === 'REFLECT' ? 'reflect' : 'symmetric';
    }
    let value = 0;
    if (node.op === 'PadV2') {
      const fill = this.constant(node, refs[2]);
      if (product(fill.shape) !== 1) this.fail(node, `constant_values ${formatShape(fill.shape)} must be a scalar`);
      value = fill.data[0];
    }
    let dims: number[];
    try {
      dims = paddedShape([1, ...x.dims], { paddings: [[0, 0], ...paddings], mode, value }, 'paddings').slice(1);
    } catch (cause) {
      return this.fail(node, (cause as Error).message);
    }
    if (paddings.every(([b, a]) => !b && !a)) return this.alias(node, x);
    const spatialOnly = x.dims.length === 3 && !paddings[2][0] && !paddings[2][1];
    if (mode === 'constant' && value === 0 && spatialOnly) {
      const [[top, bottom], [left, right]] = paddings;
      this.emit({ kind: 'zeroPad', name: node.name, inputs: [x.layer], top, bottom, left, right }, dims, node);
      return;
    }
    this.emit({ kind: 'pad', name: node.name, inputs: [x.layer], paddings, mode, value }, dims, node);
  }

  /**
   * A slice of the axes after the batch, then (when axes are added or dropped) a reshape: emits
   * `node`'s value from per-axis windows over `x` and the final dims.
   */
  private sliceTo(node: GraphNode, x: Value, begin: number[], size: number[], strides: number[], dims: number[]): void {
    if (size.some((n) => n <= 0)) this.fail(node, `selects no elements of [N, ${x.dims.join(', ')}] (sizes [${size.join(', ')}]); empty tensors are not supported`);
    const whole = begin.every((b, k) => b === 0 && size[k] === x.dims[k] && strides[k] === 1);
    if (whole) return this.reshapeTo(node, x, dims);
    const reshaped = formatShape(dims) !== formatShape(size);
    const sliced = this.emit({ kind: 'slice', name: reshaped ? this.unique(`${node.name}/slice`) : node.name, inputs: [x.layer], begin, size, strides }, size, reshaped ? undefined : node);
    if (reshaped) this.reshapeTo(node, sliced, dims);
  }

  /** Slice: begin and size constants (size -1: to the end); the batch must be taken whole. */
  slice(node: GraphNode): void {
    const [ref, beginRef, sizeRef] = this.inputRefs(node, 3);
    const x = this.activation(node, ref);
    const begin = this.intConstant(node, beginRef, 'begin');
    const size = this.intConstant(node, sizeRef, 'size');
    const rank = x.dims.length + 1;
    if (begin.length !== rank || size.length !== rank) this.fail(node, `begin [${begin.join(', ')}] and size [${size.join(', ')}] need ${rank} entries for input [N, ${x.dims.join(', ')}]`);
    if (begin[0] !== 0 || size[0] !== -1) this.fail(node, `begin [${begin.join(', ')}], size [${size.join(', ')}] slice the batch axis; it must be taken whole (begin 0, size -1)`);
    const b = begin.slice(1);
    const n = size.slice(1).map((d, k) => (d === -1 ? x.dims[k] - b[k] : d));
    if (b.some((v, k) => v < 0 || v + n[k] > x.dims[k])) this.fail(node, `begin [${begin.join(', ')}], size [${size.join(', ')}] reach outside [N, ${x.dims.join(', ')}]`);
    this.sliceTo(node, x, b, n, n.map(() => 1), n);
  }

  /**
   * StridedSlice with constant begin/end/strides and TF's five masks (tensorflow/core/util/
   * strided_slice_op.cc: sparse spec -> dense spec with an implicit trailing ellipsis, then per
   * axis: masks, negative indices from the end, clamping). The batch axis must be taken whole.
   */
  stridedSlice(node: GraphNode): void {
    const [ref, beginRef, endRef, stridesRef] = this.inputRefs(node, 4);
    const x = this.activation(node, ref);
    const begin = this.intConstant(node, beginRef, 'begin');
    const end = this.intConstant(node, endRef, 'end');
    const strides = this.intConstant(node, stridesRef, 'strides');
    if (end.length !== begin.length || strides.length !== begin.length) this.fail(node, `begin, end and strides have ${begin.length}, ${end.length} and ${strides.length} entries`);
    if (strides.some((s) => s === 0)) this.fail(node, `strides [${strides.join(', ')}] contain 0`);
    const masks = { begin: this.int(node, 'begin_mask', 0), end: this.int(node, 'end_mask', 0), ellipsis: this.int(node, 'ellipsis_mask', 0), newAxis: this.int(node, 'new_axis_mask', 0), shrink: this.int(node, 'shrink_axis_mask', 0) };
    const bit = (mask: number, i: number) => ((mask >>> i) & 1) === 1;
    if ((masks.ellipsis & (masks.ellipsis - 1)) !== 0) this.fail(node, `ellipsis_mask ${masks.ellipsis} marks more than one ellipsis`);
    const rank = x.dims.length + 1;
    // sparse spec -> one entry per input axis; 'new' and 'shrink' shape the output
    type Dense = { begin: number; end: number; stride: number; beginMask: boolean; endMask: boolean; shrink: boolean };
    const dense: Dense[] = [];
    const outAxes: (number | 'new')[] = [];
    const sparse = masks.ellipsis ? begin.length : begin.length + 1; // an implicit ellipsis at the end
    const newAfterEllipsis = (from: number) => begin.slice(from).filter((_, j) => bit(masks.newAxis, from + j)).length;
    for (let i = 0; i < sparse; i++) {
      const implicitEllipsis = i === begin.length;
      if (implicitEllipsis || bit(masks.ellipsis, i)) {
        const stop = Math.min(rank - (sparse - i) + 1 + newAfterEllipsis(i + 1), rank);
        while (dense.length < stop) {
          outAxes.push(dense.length);
          dense.push({ begin: 0, end: 0, stride: 1, beginMask: true, endMask: true, shrink: false });
        }
      } else if (bit(masks.newAxis, i)) {
        outAxes.push('new');
      } else {
        if (dense.length === rank) this.fail(node, `indexes ${begin.length} axes of the rank-${rank} input [N, ${x.dims.join(', ')}]`);
        const shrink = bit(masks.shrink, i);
        if (!shrink) outAxes.push(dense.length);
        dense.push({ begin: begin[i], end: end[i], stride: strides[i], beginMask: bit(masks.begin, i), endMask: bit(masks.end, i), shrink });
      }
    }
    if (dense.length !== rank) this.fail(node, `indexes ${dense.length} axes of the rank-${rank} input [N, ${x.dims.join(', ')}]`);
    const batch = dense[0];
    if (outAxes[0] !== 0 || batch.shrink || batch.stride !== 1 || !(batch.beginMask || batch.begin === 0) || !batch.endMask) {
      this.fail(node, `begin [${begin.join(', ')}], end [${end.join(', ')}], strides [${strides.join(', ')}] with masks ${JSON.stringify(masks)} do not take the batch axis whole and first; only slices after the batch are supported`);
    }
    const window = dense.slice(1).map((d, k) => {
      const dim = x.dims[k];
      const canonical = (v: number) => (v < 0 ? v + dim : v);
      if (d.shrink) {
        const at = canonical(d.begin);
        if (at < 0 || at >= dim) this.fail(node, `shrinks axis ${k + 1} at index ${d.begin}, outside [N, ${x.dims.join(', ')}]`);
        return { begin: at, size: 1, stride: 1 };
      }
      // TF: masked bounds take the whole axis in the stride's direction; others clamp into range
      const [low, high] = d.stride > 0 ? [0, dim] : [-1, dim - 1];
      const clamp = (v: number) => Math.min(Math.max(v, low), high);
      const first = d.beginMask ? (d.stride > 0 ? 0 : dim - 1) : clamp(canonical(d.begin));
      const stop = d.endMask ? (d.stride > 0 ? dim : -1) : clamp(canonical(d.end));
      return { begin: first, size: Math.max(0, Math.ceil((stop - first) / d.stride)), stride: d.stride };
    });
    const dims = outAxes.slice(1).map((a) => (a === 'new' ? 1 : window[a - 1].size));
    this.sliceTo(node, x, window.map((w) => w.begin), window.map((w) => w.size), window.map((w) => w.stride), dims);
  }

  /** Transpose with a constant perm that keeps the batch first (NCHW <-> NHWC conversions). */
  transpose(node: GraphNode): void {
    const [ref, permRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    const rank = x.dims.length + 1;
    const perm = this.intConstant(node, permRef, 'perm').map((a) => (a < 0 ? a + rank : a));
    const sorted = [...perm].sort((p, q) => p - q);
    if (perm.length !== rank || sorted.some((a, k) => a !== k)) this.fail(node, `perm [${perm.join(', ')}] is not a permutation of the ${rank} axes of [N, ${x.dims.join(', ')}]`);
    if (perm[0] !== 0) this.fail(node, `perm [${perm.join(', ')}] moves the batch axis; only transposes that keep it first (perm[0] = 0) are supported`);
    if (perm.every((a, k) => a === k)) return this.alias(node, x);
    this.emit({ kind: 'transpose', name: node.name, inputs: [x.layer], perm }, perm.slice(1).map((a) => x.dims[a - 1]), node);
  }

  /** DepthToSpace / SpaceToDepth, NHWC (DCR order). */
  depthSpace(node: GraphNode): void {
    const [ref] = this.inputRefs(node, 1);
    this.checkNhwc(node);
    const x = this.activation(node, ref);
    this.spatial(node, x);
    const blockSize = this.int(node, 'block_size', 0);
    const toSpace = node.op === 'DepthToSpace';
    let dims: number[];
    try {
      dims = (toSpace ? depthToSpaceShape : spaceToDepthShape)([1, ...x.dims], blockSize, 'block_size').slice(1);
    } catch (cause) {
      return this.fail(node, (cause as Error).message);
    }
    this.emit({ kind: toSpace ? 'depthToSpace' : 'spaceToDepth', name: node.name, inputs: [x.layer], blockSize }, dims, node);
  }

  /** ExpandDims with a constant axis after the batch: a reshape. */
  expandDims(node: GraphNode): void {
    const [ref, axisRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    const axis = this.intConstant(node, axisRef, 'axis');
    const rank = x.dims.length + 1;
    const at = axis.length === 1 && axis[0] < 0 ? axis[0] + rank + 1 : axis[0];
    if (axis.length !== 1 || !(at >= 1 && at <= rank)) this.fail(node, `axis [${axis.join(', ')}] must be one axis after the batch of [N, ${x.dims.join(', ')}] (1 to ${rank}, or negative)`);
    this.reshapeTo(node, x, [...x.dims.slice(0, at - 1), 1, ...x.dims.slice(at - 1)]);
  }

  /** Max / Sum / Mean with constant axes: adjacent axes after the batch. */
  reduce(node: GraphNode, reduction: Reduction): void {
    const [ref, axesRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    const rank = x.dims.length + 1;
    const listed = this.intConstant(node, axesRef, 'axes');
    const axes = listed.map((a) => (a < 0 ? a + rank : a));
    if (axes.includes(0)) this.fail(node, `reduces over the batch axis (axes [${listed.join(', ')}]); only axes after the batch are supported`);
    const keepDims = this.bool(node, 'keep_dims', false);
    let dims: number[];
    try {
      dims = reductionExtents([1, ...x.dims], axes, keepDims, 'axes').outShape.slice(1);
    } catch (cause) {
      return this.fail(node, (cause as Error).message);
    }
    this.emit({ kind: 'reduce', name: node.name, inputs: [x.layer], reduction, axes, keepDims }, dims, node);
  }

  // ---- ops-resize-conv: ResizeBilinear / ResizeNearestNeighbor, Conv2DBackpropInput

  /** ResizeBilinear / ResizeNearestNeighbor (images, size): size must be a constant [height, width]. */
  resize(node: GraphNode, method: ResizeMethod): void {
    const [ref, sizeRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    const [, , channels] = this.spatial(node, x);
    const size = [...this.constant(node, sizeRef).data];
    if (size.length !== 2 || size.some((d) => !(Number.isInteger(d) && d > 0))) this.fail(node, `size [${size.join(', ')}] must be [height, width] of positive integers`);
    const alignCorners = this.bool(node, 'align_corners', false);
    const halfPixelCenters = this.bool(node, 'half_pixel_centers', false);
    if (alignCorners && halfPixelCenters) this.fail(node, 'align_corners and half_pixel_centers are both true, which TensorFlow refuses');
    const pair: Pair = [size[0], size[1]];
    this.emit({ kind: 'resize', name: node.name, inputs: [x.layer], method, size: pair, alignCorners, halfPixelCenters }, [pair[0], pair[1], channels], node);
  }

  /**
   * Conv2DBackpropInput (input_sizes, filter, out_backprop) as a transposed convolution of
   * out_backprop: input_sizes, a constant, gives the output size (its batch entry is ignored).
   */
  conv2dTranspose(node: GraphNode): void {
    const [sizesRef, filterRef, ref] = this.inputRefs(node, 3);
    this.checkNhwc(node);
    const x = this.activation(node, ref);
    const [, , channels] = this.spatial(node, x);
    const filter = this.constant(node, filterRef);
    const [kh, kw, outChannels, inChannels] = filter.shape;
    if (filter.shape.length !== 4 || inChannels !== channels) this.fail(node, `filter ${formatShape(filter.shape)} must be [kh, kw, out, ${channels}] for out_backprop [N, ${x.dims.join(', ')}]`);
    // the batch entry may be the unknown batch (NaN): a Keras Conv2DTranspose packs Shape(x)[0]
    const sizes = [...this.constant(node, sizesRef, true).data];
    if (sizes.length !== 4 || sizes.slice(1, 3).some((d) => !(Number.isInteger(d) && d > 0)) || sizes[3] !== outChannels) {
      this.fail(node, `input_sizes [${sizes.join(', ')}] must be [N, height, width, ${outChannels}]`);
    }
    const { padding: named, explicit } = this.padding(node, true);
    // EXPLICIT: the convolution being transposed pads by these; its input gradient crops them off
    const padding = explicit ? { top: explicit[0], bottom: explicit[1], left: explicit[2], right: explicit[3] } : named;
    const strides = this.window(node, 'strides');
    const dilations = this.window(node, 'dilations', [1, 1]);
    const outputSize: Pair = [sizes[1], sizes[2]];
    const geometry = this.geometry(node, { layer: x.layer, dims: [outputSize[0], outputSize[1], outChannels] }, [kh, kw], strides, dilations, padding);
    if (geometry.outHeight !== x.dims[0] || geometry.outWidth !== x.dims[1]) {
      this.fail(node, `input_sizes ${outputSize.join('x')} convolve to ${geometry.outHeight}x${geometry.outWidth} with these strides and padding, not to out_backprop's ${x.dims[0]}x${x.dims[1]}`);
    }
    this.emit({ kind: 'conv2dTranspose', name: node.name, inputs: [x.layer], filter, outputSize, strides, dilations, padding, activation: 'linear' }, [outputSize[0], outputSize[1], outChannels], node);
  }

  // ---- ops-elementwise: parametrized unary ops, clip bounds, PReLU

  leakyRelu(node: GraphNode): void {
    this.act(node, this.inputRefs(node, 1)[0], { kind: 'leakyRelu', alpha: this.float(node, 'alpha', 0.2) });
  }

  /**
   * Maximum / Minimum of an activation and a constant (a scalar or one value per channel): a clip
   * bound. Folded into the layer producing the activation when that is a clip, ReLU, ReLU6 or
   * linear layer read only here, so clip_by_value's Minimum(Maximum(x, lo), hi) becomes one clip;
   * bounds (0, 6) (a converted ReLU6) and (0, inf) become relu6 / relu, fused into a linear
   * conv/dense. Bounds that differ between channels make a channelClip layer. Gradient: TF's
   * Maximum sends it to x where x >= c, Minimum where x <= c, i.e. clip's closed interval; merged
   * into ReLU/ReLU6, their rule (0 at the bounds) applies.
   */
  clipBound(node: GraphNode): void {
    const [a, b] = this.inputRefs(node, 2);
    const constA = this.isConstant(a);
    const constB = this.isConstant(b);
    if (!constA && !constB) return this.computedBinary(node, this.activation(node, a), this.activation(node, b));
    if (constA && constB) this.fail(node, 'both inputs are constants; constant folding is not supported');
    const from = constA ? b : a;
    const x = this.activation(node, from);
    const channels = x.dims[x.dims.length - 1];
    const bound = [...this.perChannel(node, this.constant(node, constA ? a : b), channels, x.dims.length)];
    const isMax = node.op === 'Maximum';
    const producer = this.foldable(from);
    const prior = producer && clipBoundsOf(producer, channels);
    if (producer && prior) {
      // max(clamp(x, lo, hi), c) = clamp(x, max(lo, c), max(hi, c)); min likewise
      const combine = isMax ? Math.max : Math.min;
      const [lo, hi] = prior.map((side) => side.map((v, c) => combine(v, bound[c])));
      const merged = clipLayer(producer.name, producer.inputs, lo, hi);
      if (producer.kind === 'activation' || producer.kind === 'channelClip') {
        this.layers[this.layers.indexOf(producer)] = merged;
        this.layerByName.set(producer.name, merged);
        return this.absorb(merged, node, x.dims);
      }
      if (merged.kind === 'activation' && isFusable(merged.activation) && (producer.kind === 'conv2d' || producer.kind === 'depthwiseConv2d' || producer.kind === 'dense' || producer.kind === 'conv2dTranspose')) {
        producer.activation = merged.activation;
        return this.absorb(producer, node, x.dims);
      }
    }
    const open = bound.map(() => (isMax ? Infinity : -Infinity));
    this.emit(isMax ? clipLayer(node.name, [x.layer], bound, open) : clipLayer(node.name, [x.layer], open, bound), x.dims, node);
  }

  /** Prelu(x, alpha): alpha constant, one per channel ([C], [1, 1, C]) or per element of the trailing axes. */
  prelu(node: GraphNode): void {
    const [ref, alphaRef] = this.inputRefs(node, 2);
    const x = this.activation(node, ref);
    const alpha = this.constant(node, alphaRef);
    if (!preluAlphaFits([1, ...x.dims], alpha.shape)) this.fail(node, `alpha ${formatShape(alpha.shape)} does not match the trailing axes of its input [N, ${x.dims.join(', ')}]`);
    this.emit({ kind: 'prelu', name: node.name, inputs: [x.layer], alpha }, x.dims, node);
  }
}

/** The bounds of a clip-like function (linear, relu, relu6, clip); undefined for the others. */
function clipBounds(fn: ActivationFunction): [number, number] | undefined {
  if (fn === 'linear') return [-Infinity, Infinity];
  if (fn === 'relu') return [0, Infinity];
  if (fn === 'relu6') return [0, 6];
  return typeof fn === 'object' && fn.kind === 'clip' ? [fn.lo, fn.hi] : undefined;
}

/** Per-channel [lower, upper] of a layer that clips (or passes) its pre-activation; undefined for any other layer. */
function clipBoundsOf(layer: LayerSpec, channels: number): [number[], number[]] | undefined {
  if (layer.kind === 'channelClip') return [[...layer.lower.data].map(unbounded), [...layer.upper.data].map(unbounded)];
  const fn = layer.kind === 'activation' || layer.kind === 'conv2d' || layer.kind === 'depthwiseConv2d' || layer.kind === 'dense' || layer.kind === 'conv2dTranspose' ? layer.activation : undefined;
  const bounds = fn === undefined ? undefined : clipBounds(fn);
  return bounds && [new Array<number>(channels).fill(bounds[0]), new Array<number>(channels).fill(bounds[1])];
}

/** A channelClip stores an open bound as the largest float32; read back, it is infinite again. */
const FLOAT32_MAX = 3.4028234663852886e38;
const unbounded = (v: number) => (v >= FLOAT32_MAX ? Infinity : v <= -FLOAT32_MAX ? -Infinity : v);

/**
 * clamp(x, lo, hi) per channel by its simplest layer: relu for (0, inf), relu6 for (0, 6), a clip
 * activation when every channel has the same bounds, else a channelClip.
 */
function clipLayer(name: string, inputs: string[], lo: number[], hi: number[]): LayerSpec {
  if (lo.every((v) => v === lo[0]) && hi.every((v) => v === hi[0])) {
    const [l, h] = [lo[0], hi[0]];
    const activation: ActivationFunction = l === 0 && h === Infinity ? 'relu' : l === 0 && h === 6 ? 'relu6' : { kind: 'clip', lo: l, hi: h };
    return { kind: 'activation', name, inputs, activation };
  }
  const finite = (v: number[]) => ({ shape: [v.length], data: Float32Array.from(v, (b) => Math.min(Math.max(b, -FLOAT32_MAX), FLOAT32_MAX)) });
  return { kind: 'channelClip', name, inputs, lower: finite(lo), upper: finite(hi) };
}

type OpConversion = (converter: Converter, node: GraphNode) => void;
const each = (ops: string[], convert: OpConversion) => Object.fromEntries(ops.map((op) => [op, convert]));
const activationOp = (kind: ActivationFunction): OpConversion => (c, node) => c.act(node, c.inputRefs(node, 1)[0], kind);

/** Graph-model op -> its conversion: one row per op (the converter's methods do the work). */
const GRAPH_OPS: Readonly<Record<string, OpConversion>> = {
  Placeholder: (c, node) => c.placeholder(node),
  Const: () => {}, // read by the ops that take constants
  Identity: (c, node) => c.identity(node),
  Conv2D: (c, node) => c.conv(node, false),
  _FusedConv2D: (c, node) => c.conv(node, false),
  ...each(DEPTHWISE, (c, node) => c.conv(node, true)),
  MaxPool: (c, node) => c.pool(node),
  AvgPool: (c, node) => c.pool(node),
  Mean: (c, node) => c.mean(node),
  MatMul: (c, node) => c.matMul(node),
  _FusedMatMul: (c, node) => c.matMul(node),
  ...each(['BiasAdd', 'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv'], (c, node) => c.binary(node)),
  ...each(BATCH_NORM, (c, node) => c.batchNorm(node)),
  Relu: activationOp('relu'),
  Relu6: activationOp('relu6'),
  Sigmoid: activationOp('sigmoid'),
  Softmax: (c, node) => c.softmax(node),
  Reshape: (c, node) => c.reshape(node),
  Squeeze: (c, node) => c.squeeze(node),
  // ops-resize-conv
  ResizeBilinear: (c, node) => c.resize(node, 'bilinear'),
  ResizeNearestNeighbor: (c, node) => c.resize(node, 'nearest'),
  Conv2DBackpropInput: (c, node) => c.conv2dTranspose(node),
  // ops-layout: data movement and reductions
  ...each(['Pad', 'PadV2', 'MirrorPad'], (c, node) => c.pad(node)),
  Slice: (c, node) => c.slice(node),
  StridedSlice: (c, node) => c.stridedSlice(node),
  Transpose: (c, node) => c.transpose(node),
  ...each(['DepthToSpace', 'SpaceToDepth'], (c, node) => c.depthSpace(node)),
  ExpandDims: (c, node) => c.expandDims(node),
  Max: (c, node) => c.reduce(node, 'max'),
  Sum: (c, node) => c.reduce(node, 'sum'),
  // ops-elementwise
  LeakyRelu: (c, node) => c.leakyRelu(node),
  Elu: activationOp({ kind: 'elu', alpha: 1 }),
  Selu: activationOp('selu'),
  Tanh: activationOp('tanh'),
  Softplus: activationOp('softplus'),
  Softsign: activationOp('softsign'),
  Abs: activationOp('abs'),
  Neg: activationOp('neg'),
  Square: activationOp('square'),
  Sqrt: activationOp('sqrt'),
  Rsqrt: activationOp('rsqrt'),
  Exp: activationOp('exp'),
  Log: activationOp('log'),
  Erf: activationOp('erf'),
  Reciprocal: activationOp('reciprocal'),
  Inv: activationOp('reciprocal'),
  Maximum: (c, node) => c.clipBound(node),
  Minimum: (c, node) => c.clipBound(node),
  Prelu: (c, node) => c.prelu(node),
  // ops-binary: multi-input ops (Maximum / Minimum of two computed tensors: clipBound hands them to computedBinary)
  AddN: (c, node) => c.addN(node),
  ConcatV2: (c, node) => c.concat(node),
  Concat: (c, node) => c.concat(node),
};

/** Every op this loader maps, for messages. */
export const GRAPH_MODEL_OPS: readonly string[] = Object.keys(GRAPH_OPS);
