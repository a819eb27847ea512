/**
 * TF.js Layers models: model.json with a Keras `modelTopology` and a `weightsManifest`, turned into
 * a ModelSpec. Reads both exports in use:
 * - Keras 2 (tfjs-layers `model.save`, tensorflowjs_converter on tf.keras / Keras 2): InputLayer
 *   `batch_input_shape`, inbound nodes as `[[[layer, node, tensor, kwargs], ...]]`, weights named
 *   `layer/weight` (the converter wraps the topology in `model_config`);
 * - Keras 3: InputLayer `batch_shape`, inbound nodes as `[{args, kwargs}]` whose args hold
 *   `{class_name: '__keras_tensor__', config: {keras_history: [layer, node, tensor]}}`, weights
 *   that may carry the model's name as a prefix (`sequential/conv2d/kernel`).
 * Every layer and option is checked here, at load time: whatever the engine cannot run exactly is an
 * UnsupportedModelError naming the layer, its class and what is supported. A nested model (a
 * Sequential or Functional used as a layer) is inlined when it is called once, on one tensor, and
 * returns one tensor. Batch normalisation is folded into a per-channel affine map.
 * Format references: tfjs-layers src/keras_format/ and src/engine/container.ts (fromConfig), Keras 3
 * keras/src/models/functional.py (serialize_node / deserialize_node).
 */
import { isFusable, type Activation, type ActivationFunction } from '../../ops/activation.js';
import type { BinaryOp } from '../../ops/binary.js';
import { foldBatchNorm } from '../../ops/channel_affine.js';
import type { Padding } from '../../ops/shapes.js';
import type { LayerSpec, ModelSpec, Pair, WeightData } from '../spec.js';
import { ModelLoadError, UnsupportedModelError, type ModelFiles } from './files.js';
import { loadWeights, type WeightsManifestGroup } from './weights.js';

type Json = Record<string, unknown>;

interface KerasLayer {
  class_name: string;
  name: string;
  config: Json;
  inbound_nodes?: unknown;
  /** Keras 3 (and tf.keras >= 2.13): 'Custom>Name' or 'package>Name' for a user-registered class, null for Keras's own. */
  registered_name?: unknown;
  /** Keras 3: `{input_shape}` the layer was built with. */
  build_config?: unknown;
  /** Written by Keras 3 (its layer entries carry `module` / `registered_name`). */
  keras3?: boolean;
}

/** Layer classes that hold Python code (a serialized function), which JSON cannot carry. */
const CODE_LAYERS = new Set(['Lambda', 'TFOpLambda', 'SlicingOpLambda']);

const MODEL_CLASSES = new Set(['Sequential', 'Functional', 'Model']);
/** Layers with a `data_format` option (only channels_last is supported). */
const DATA_FORMAT_LAYERS = new Set([
  'Conv2D', 'DepthwiseConv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten', 'ZeroPadding2D',
  // ops-resize-conv
  'UpSampling2D', 'Conv2DTranspose', 'SeparableConv2D',
  // ops-layout
  'Cropping2D', 'GlobalMaxPooling2D', 'GlobalMaxPool2D',
]);
/** Layers that are the identity at inference. */
const INFERENCE_IDENTITY = new Set(['Dropout', 'SpatialDropout2D', 'GaussianDropout', 'GaussianNoise']);

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads model.json and its weight shards and returns the ModelSpec. Throws ModelLoadError for
 * malformed files or missing weights, UnsupportedModelError for layers or options the engine lacks.
 */
export interface LayersModelOptions {
  /**
   * The layer whose output is the model's output: one of a Functional model's several outputs, or
   * any layer of the top-level model (the model is cut there). Default: the model's one output.
   */
  output?: string;
}

export async function loadLayersModel(files: ModelFiles, options: LayersModelOptions = {}): Promise<ModelSpec> {
  const json = await files.readModelJson();
  const where = files.description;
  if (!isObject(json)) throw new ModelLoadError(`${where}: model.json must be a JSON object`);
  if (json.format === 'graph-model' || (isObject(json.modelTopology) && 'node' in json.modelTopology)) {
    throw new UnsupportedModelError(`${where} is a TF.js graph model, not a Layers model: load it with the graph-model loader`);
  }
  let topology = json.modelTopology;
  if (isObject(topology) && isObject(topology.model_config)) topology = topology.model_config; // tensorflowjs_converter wraps it
  if (!isObject(topology) || typeof topology.class_name !== 'string') {
    throw new ModelLoadError(`${where}: model.json has no Keras modelTopology (expected {class_name, config}); is this a TF.js Layers model?`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new ModelLoadError(`${where}: model.json has no weightsManifest`);
  const weights = new WeightBank(where, await loadWeights(files, json.weightsManifest as WeightsManifestGroup[]));
  const source = `${where} (TF.js Layers)`;
  const converter = new Converter(source, weights, options.output);
  converter.savedByTfjs = typeof json.generatedBy === 'string' && json.generatedBy.startsWith('TensorFlow.js tfjs-layers');
  const output = converter.model(topology as unknown as KerasLayer, [], '', undefined);
  return { source, layers: converter.layers, output };
}

// ---------------------------------------------------------------------------------------------
// Weights by name

/**
 * The manifest's weights, looked up by layer and weight name. Keras 2 names them `layer/weight`,
 * Keras 3 may prefix the model path (`model/layer/weight`), some exporters append `:0`. A name is
 * found when it ends with `/layer/weight`; among several, the one whose prefix matches more of the
 * enclosing model path wins, and a tie is an error.
 */
class WeightBank {
  private readonly byName = new Map<string, WeightData>();

  constructor(private readonly where: string, weights: Map<string, WeightData>) {
    for (const [name, data] of weights) this.byName.set(name.replace(/:\d+$/, ''), data);
  }

  /** `path` is the enclosing model names then the layer name; `names` are alternatives ('depthwise_kernel', 'kernel'). */
  get(path: string[], names: string[], layer: KerasLayer): WeightData {
    const found = this.find(path, names, layer);
    if (found) return found;
    const layerName = path[path.length - 1];
    const related = [...this.byName.keys()].filter((n) => n.split('/').includes(layerName));
    const all = [...this.byName.keys()];
    throw new ModelLoadError(
      `${this.where}: layer '${layer.name}' (${layer.class_name}) needs weight '${layerName}/${names.join("' or '")}', which the weights manifest does not have ` +
        (related.length ? `(it has for this layer: ${related.join(', ')})` : `(no weight mentions '${layerName}'; the manifest has ${all.length}: ${all.slice(0, 8).join(', ')}${all.length > 8 ? ', ...' : ''})`),
    );
  }

  find(path: string[], names: string[], layer: KerasLayer): WeightData | undefined {
    const layerName = path[path.length - 1];
    const scope = path.slice(0, -1);
    for (const weight of names) {
      const key = `${layerName}/${weight}`;
      const candidates = [...this.byName.keys()].filter((n) => n === key || n.endsWith(`/${key}`));
      if (candidates.length === 0) continue;
      // rank: more trailing components of the prefix equal to the model path, then fewer left over
      const ranked = candidates
        .map((n) => {
          const prefix = n.split('/').slice(0, -key.split('/').length);
          let matched = 0;
          while (matched < prefix.length && matched < scope.length && prefix[prefix.length - 1 - matched] === scope[scope.length - 1 - matched]) matched++;
          return { n, matched, unmatched: prefix.length - matched };
        })
        .sort((a, b) => b.matched - a.matched || a.unmatched - b.unmatched);
      const [best, second] = ranked;
      if (second && second.matched === best.matched && second.unmatched === best.unmatched) {
        throw new ModelLoadError(`${this.where}: weight '${key}' of layer '${layer.name}' (${layer.class_name}) is ambiguous: the manifest has ${candidates.join(', ')}`);
      }
      return this.byName.get(best.n);
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Topology

interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

class Converter {
  readonly layers: LayerSpec[] = [];
  /**
   * The model was saved by TF.js itself (model.json's generatedBy), not converted from Keras: its
   * UpSampling2D bilinear layers were trained with TF.js's legacy resize (see upSampling).
   */
  savedByTfjs = false;
  /** Rank (with the batch) of every emitted node's output, for axis checks. */
  private readonly ranks = new Map<string, number>();

  /** `output`: the top-level layer to end at (LayersModelOptions.output). */
  constructor(private readonly source: string, private readonly weights: WeightBank, private readonly output: string | undefined) {}

  unsupported(layer: KerasLayer, what: string): UnsupportedModelError {
    return new UnsupportedModelError(`${this.source}: layer '${layer.name}' (${layer.class_name}): ${what}`, { node: layer.name, op: layer.class_name });
  }

  malformed(layer: KerasLayer, what: string): ModelLoadError {
    return new ModelLoadError(`${this.source}: layer '${layer.name}' (${layer.class_name}): ${what}`);
  }

  emit(spec: LayerSpec, rank: number): string {
    if (this.ranks.has(spec.name)) throw new ModelLoadError(`${this.source}: two layers are named '${spec.name}'`);
    this.layers.push(spec);
    this.ranks.set(spec.name, rank);
    return spec.name;
  }

  rank(node: string): number {
    return this.ranks.get(node)!;
  }

  /**
   * Converts a Sequential or Functional topology. `path` holds the enclosing models' names (for
   * weight lookup), `prefix` is prepended to node names of nested models, and `input` is the node
   * feeding a nested model (undefined at the top, where the model's InputLayer becomes the input).
   * Returns the node holding the model's output.
   */
  model(topology: KerasLayer, path: string[], prefix: string, input: string | undefined): string {
    const kind = topology.class_name;
    if (!MODEL_CLASSES.has(kind)) {
      throw new UnsupportedModelError(`${this.source}: the top-level model is a ${kind}; only Sequential and Functional (Model) topologies are supported`, { op: kind });
    }
    // very old Keras 2 Sequential configs are a bare list of layers
    const config: Json = Array.isArray(topology.config) ? { layers: topology.config } : (topology.config ?? {});
    const name = typeof config.name === 'string' ? config.name : (topology.name ?? kind);
    const layers = config.layers;
    if (!Array.isArray(layers) || layers.length === 0) throw new ModelLoadError(`${this.source}: model '${name}' (${kind}) lists no layers`);
    const entries = layers.map((layer): KerasLayer => {
      if (!isObject(layer) || typeof layer.class_name !== 'string' || !isObject(layer.config)) {
        throw new ModelLoadError(`${this.source}: model '${name}' has a malformed layer entry ${JSON.stringify(layer)?.slice(0, 200)}`);
      }
      // Sequential entries keep the name in config only
      const layerName = layer.name ?? layer.config.name;
      if (typeof layerName !== 'string') throw new ModelLoadError(`${this.source}: a ${layer.class_name} layer of model '${name}' has no name`);
      return { class_name: layer.class_name, name: layerName, config: layer.config, inbound_nodes: layer.inbound_nodes, registered_name: layer.registered_name, build_config: layer.build_config, keras3: 'module' in layer || 'registered_name' in layer };
    });
    const scope = [...path, name];
    return kind === 'Sequential'
      ? this.sequential(entries, scope, prefix, input, config.build_input_shape)
      : this.functional(config, entries, scope, prefix, input, name);
  }

  /** `built`: the Sequential's own build_input_shape (Keras 3 writes no InputLayer for a model built without one). */
  private sequential(layers: KerasLayer[], scope: string[], prefix: string, input: string | undefined, built: unknown): string {
    let current: string;
    let rest = layers;
    const first = layers[0];
    if (first.class_name === 'InputLayer') {
      current = this.input(first, prefix, input);
      rest = layers.slice(1);
    } else {
      // Keras names the implicit input '<first layer>_input'
      const implicit: KerasLayer = { class_name: 'InputLayer', name: `${first.name}_input`, config: { batch_input_shape: batchShapeOf(first) ?? built } };
      current = this.input(implicit, prefix, input);
    }
    const topLevel = input === undefined;
    let end = rest.length - 1;
    if (topLevel && this.output !== undefined) {
      end = rest.findIndex((l) => l.name === this.output);
      if (end < 0) throw this.noSuchOutput(layers.map((l) => l.name));
    }
    rest.slice(0, end + 1).forEach((layer, i) => {
      current = this.layer(layer, [current], scope, prefix, topLevel && i === end);
    });
    return current;
  }

  private functional(config: Json, layers: KerasLayer[], scope: string[], prefix: string, input: string | undefined, name: string): string {
    const inputs = tensorList(config.input_layers);
    const outputs = tensorList(config.output_layers);
    if (inputs.length !== 1) throw new UnsupportedModelError(`${this.source}: model '${name}' has ${inputs.length} inputs; only models with one image input are supported`);
    const byName = new Map(layers.map((l) => [l.name, l]));
    const topLevel = input === undefined;
    if (topLevel && this.output !== undefined) {
      const chosen = byName.get(this.output);
      if (!chosen || chosen.class_name === 'InputLayer') throw this.noSuchOutput(layers.filter((l) => l.class_name !== 'InputLayer').map((l) => l.name), outputs);
      outputs.splice(0, outputs.length, { layer: chosen.name, node: 0, tensor: 0 });
    }
    if (outputs.length !== 1) {
      throw new UnsupportedModelError(`${this.source}: model '${name}' has ${outputs.length} outputs (${outputs.map((o) => o.layer).join(', ')}); ` +
        (topLevel ? 'pass { output: <layer name> } (CLI: --output NAME) to choose the one to explain' : 'a nested model must have one output'));
    }
    const nodes = new Map<string, string>(); // Keras layer name -> node holding its output
    const visiting = new Set<string>();
    const resolve = (ref: TensorRef, from: string): string => {
      const layer = byName.get(ref.layer);
      if (!layer) throw new ModelLoadError(`${this.source}: '${from}' reads layer '${ref.layer}', which model '${name}' does not define`);
      // a nested model's node 0 is its own construction, so its call here may be node 1
      if ((ref.node !== 0 && !MODEL_CLASSES.has(layer.class_name)) || ref.tensor !== 0) {
        throw this.unsupported(layer, `is used as node ${ref.node}, output ${ref.tensor}; shared layers and layers with several outputs are not supported`);
      }
      const done = nodes.get(layer.name);
      if (done !== undefined) return done;
      if (visiting.has(layer.name)) throw new ModelLoadError(`${this.source}: model '${name}' has a cycle through layer '${layer.name}'`);
      visiting.add(layer.name);
      let node: string;
      if (layer.class_name === 'InputLayer') {
        if (layer.name !== inputs[0].layer) throw this.unsupported(layer, `is an input that model '${name}' does not list as its input`);
        node = this.input(layer, prefix, input);
      } else {
        const calls = inboundNodes(layer, this.source);
        if (calls.length !== 1) throw this.unsupported(layer, `is called ${calls.length} times; shared layers are not supported`);
        const sources = calls[0].map((r) => resolve(r, layer.name));
        node = this.layer(layer, sources, scope, prefix, topLevel && layer.name === outputs[0].layer);
      }
      visiting.delete(layer.name);
      nodes.set(layer.name, node);
      return node;
    };
    return resolve(outputs[0], `model '${name}' output`);
  }

  private noSuchOutput(layers: string[], outputs: TensorRef[] = []): ModelLoadError {
    const declared = outputs.length ? `; its outputs are ${outputs.map((o) => o.layer).join(', ')}` : '';
    return new ModelLoadError(`${this.source}: the output option names layer '${this.output}', which the top-level model does not have${declared} (layers: ${layers.join(', ')})`);
  }

  /** The model input at the top level; inside a nested model, the outer node that feeds it. */
  private input(layer: KerasLayer, prefix: string, outer: string | undefined): string {
    if (outer !== undefined) return outer;
    const batchShape = layer.config.batch_input_shape ?? layer.config.batch_shape;
    if (!Array.isArray(batchShape)) {
      throw this.malformed(layer, 'the model input has no batch_input_shape / batch_shape');
    }
    const shape = batchShape.slice(1);
    if (shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d <= 0)) {
      throw this.unsupported(layer, `the input shape [${batchShape.map(String).join(', ')}] has unknown dimensions; the engine needs a fixed input size`);
    }
    return this.emit({ kind: 'input', name: prefix + layer.name, inputs: [], shape: shape as number[] }, shape.length + 1);
  }

  /** Emits the engine layers of one Keras layer; returns the node holding its output. */
  private layer(layer: KerasLayer, inputs: string[], scope: string[], prefix: string, isOutput: boolean): string {
    const cls = layer.class_name;
    const path = [...scope, layer.name];
    if (MODEL_CLASSES.has(cls)) {
      if (inputs.length !== 1) throw this.unsupported(layer, `has ${inputs.length} inputs; it takes one`);
      return this.model(layer, scope, `${prefix}${layer.name}/`, inputs[0]);
    }
    if (DATA_FORMAT_LAYERS.has(cls)) this.channelsLast(layer);
    const convert = KERAS_LAYERS[cls] ?? (INFERENCE_IDENTITY.has(cls) ? inferenceIdentity : undefined);
    if (!convert) throw this.unknownLayer(layer);
    const call: KerasCall = {
      layer, config: layer.config, name: prefix + layer.name, inputs, isOutput,
      weight: (...names) => this.weights.get(path, names, layer),
      one: () => {
        if (inputs.length !== 1) throw this.unsupported(layer, `has ${inputs.length} inputs; it takes one`);
        return inputs[0];
      },
      rankOf: (expected) => {
        if (inputs.length !== 1) throw this.unsupported(layer, `has ${inputs.length} inputs; it takes one`);
        const r = this.rank(inputs[0]);
        if (expected !== undefined && r !== expected) {
          throw this.unsupported(layer, `needs a rank-${expected} input, got rank ${r}` + (expected === 2 ? ' (flatten or pool first; per-pixel dense layers are not supported)' : ' (NHWC images)'));
        }
        return r;
      },
    };
    return convert(this, call);
  }

  /** The refusal of a layer class no table row maps; Lambda and custom layers say that their code cannot travel in JSON. */
  private unknownLayer(layer: KerasLayer): UnsupportedModelError {
    const cls = layer.class_name;
    const registered = typeof layer.registered_name === 'string' && layer.registered_name !== cls ? layer.registered_name : undefined;
    const why = CODE_LAYERS.has(cls)
      ? `a ${cls} layer: it runs a Python function, and custom code cannot be loaded from model.json; rebuild the model with built-in layers in its place before exporting`
      : registered
        ? `a custom layer (class ${cls}, registered as '${registered}'): its code is Python, and custom code cannot be loaded from model.json; export the model with built-in Keras layers only`
        : `a ${cls}, which this engine does not support (if it is a custom layer: custom code cannot be loaded from model.json)`;
    return new UnsupportedModelError(`${this.source}: layer '${layer.name}' is ${why} (supported layers: ${SUPPORTED_LAYERS.join(', ')})`, { node: layer.name, op: cls });
  }

  /**
   * A layer with a fused activation. The conv/dense kernels fuse ReLU, ReLU6 and sigmoid. Softmax
   * is not fusable: the layer runs linear and a softmax node named after the Keras layer follows.
   * At the model output a sigmoid is split off the same way, so that the executor finds the logits
   * before it. Every other activation (tanh, GELU, ...) also follows a linear `<name>/linear` layer
   * as its own activation node.
   */
  withActivation(layer: KerasLayer, name: string, isOutput: boolean, rank: number, make: (name: string, activation: Activation) => LayerSpec): string {
    const activation = this.activation(layer, layer.config.activation);
    if (activation === 'softmax' || (activation === 'sigmoid' && isOutput)) {
      const logits = this.emit(make(`${name}/logits`, 'linear'), rank);
      return activation === 'softmax'
        ? this.emit({ kind: 'softmax', name, inputs: [logits] }, rank)
        : this.emit({ kind: 'activation', name, inputs: [logits], activation: 'sigmoid' }, rank);
    }
    if (!isFusable(activation)) {
      const linear = this.emit(make(`${name}/linear`, 'linear'), rank);
      return this.emit({ kind: 'activation', name, inputs: [linear], activation }, rank);
    }
    return this.emit(make(name, activation), rank);
  }

  activation(layer: KerasLayer, value: unknown): ActivationFunction | 'softmax' {
    // Keras 3 may serialize an activation as {module, class_name: 'function', config: 'relu'}
    const raw = value == null ? 'linear' : isObject(value) && typeof value.config === 'string' ? value.config : value;
    const keras3 = layer.keras3 === true || (isObject(value) && 'module' in value);
    const found = typeof raw === 'string' ? kerasActivation(raw, keras3) : undefined;
    if (!found) throw this.unsupported(layer, `activation ${JSON.stringify(raw)} is not supported (supported: ${Object.keys(KERAS_ACTIVATIONS).join(', ')})`);
    return found;
  }

  bias(layer: KerasLayer, weight: (...names: string[]) => WeightData, channels: number): WeightData | undefined {
    if (layer.config.use_bias === false) return undefined;
    const bias = weight('bias');
    this.expectShape(layer, 'bias', bias, [channels]);
    return bias;
  }

  expectShape(layer: KerasLayer, label: string, w: WeightData, expected: (number | undefined)[]): void {
    if (w.shape.length !== expected.length || expected.some((d, i) => d !== undefined && d !== w.shape[i])) {
      const shown = expected.map((d) => (d === undefined ? '?' : String(d))).join(', ');
      throw this.malformed(layer, `weight '${label}' has shape [${w.shape.join(', ')}] but the layer's config implies [${shown}]`);
    }
  }

  private channelsLast(layer: KerasLayer): void {
    const format = layer.config.data_format;
    if (format != null && format !== 'channels_last') throw this.unsupported(layer, `data_format '${String(format)}' is not supported (only channels_last)`);
  }

  lastAxis(layer: KerasLayer, axis: unknown, rank: number): void {
    const value = Array.isArray(axis) && axis.length === 1 ? axis[0] : axis;
    if (typeof value !== 'number' || (value !== -1 && value !== rank - 1)) {
      throw this.unsupported(layer, `axis ${JSON.stringify(axis)} is not supported on a rank-${rank} input (only the last axis, -1)`);
    }
  }

  /** A pair option (n or [h, w]) of positive integers, or with `orZero` of non-negative ones. */
  pair(layer: KerasLayer, key: string, fallback?: Pair, orZero = false): Pair {
    const v = layer.config[key];
    if (v == null && fallback) return fallback;
    const valid = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && (d > 0 || (orZero && d === 0));
    if (valid(v)) return [v, v];
    if (Array.isArray(v) && v.length === 2 && v.every(valid)) return [v[0], v[1]];
    throw this.malformed(layer, `${key} ${JSON.stringify(v)} must be a ${orZero ? 'non-negative' : 'positive'} integer or a pair of them`);
  }

  padding(layer: KerasLayer): Padding {
    const p = layer.config.padding ?? 'valid';
    if (p === 'valid' || p === 'same') return p;
    throw this.unsupported(layer, `padding ${JSON.stringify(p)} is not supported (supported: valid, same)`);
  }

  /** ZeroPadding2D's `padding` (Cropping2D's `cropping`): n, [h, w] or [[top, bottom], [left, right]]. */
  zeroPadding(layer: KerasLayer, key = 'padding', fallback = 1): [Pair, Pair] {
    const p = layer.config[key] ?? fallback;
    const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
    if (count(p)) return [[p as number, p as number], [p as number, p as number]];
    if (Array.isArray(p) && p.length === 2) {
      if (p.every(count)) return [[p[0], p[0]], [p[1], p[1]]];
      if (p.every((q) => Array.isArray(q) && q.length === 2 && q.every(count))) return [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
    }
    throw this.malformed(layer, `${key} ${JSON.stringify(p)} must be n, [h, w] or [[top, bottom], [left, right]]`);
  }
}

/** The batch shape declared on a layer, or on the first layer of a nested model. */
function batchShapeOf(layer: { class_name?: unknown; config?: unknown; build_config?: unknown }): unknown {
  const config = layer.config;
  const isModel = typeof layer.class_name === 'string' && MODEL_CLASSES.has(layer.class_name);
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (isObject(config)) {
    const own = config.batch_input_shape ?? config.batch_shape;
    if (own !== undefined) return own;
  }
  if (isModel && Array.isArray(layers) && isObject(layers[0])) return batchShapeOf(layers[0]);
  if (isObject(config) && config.build_input_shape !== undefined) return config.build_input_shape;
  // Keras 3: the shape the layer was built with
  return isObject(layer.build_config) ? layer.build_config.input_shape : undefined;
}

/** input_layers / output_layers: [[layer, node, tensor], ...], or one such triple (Keras 3, single input). */
function tensorList(value: unknown): TensorRef[] {
  if (!Array.isArray(value)) return [];
  const list = typeof value[0] === 'string' ? [value] : value;
  return list.map((entry) => {
    const [layer, node = 0, tensor = 0] = entry as [string, number?, number?];
    return { layer, node, tensor };
  });
}

/** A layer's calls, each the list of tensors it was called on, from either export's inbound_nodes. */
function inboundNodes(layer: KerasLayer, source: string): TensorRef[][] {
  const nodes = layer.inbound_nodes;
  if (!Array.isArray(nodes)) throw new ModelLoadError(`${source}: layer '${layer.name}' (${layer.class_name}) has no inbound_nodes`);
  return nodes.map((node) => {
    if (Array.isArray(node)) {
      // Keras 2: [[layer, node, tensor, kwargs], ...]
      return node.map((entry) => {
        if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new ModelLoadError(`${source}: layer '${layer.name}' has a malformed inbound node ${JSON.stringify(entry)}`);
        return { layer: entry[0], node: Number(entry[1] ?? 0), tensor: Number(entry[2] ?? 0) };
      });
    }
    if (isObject(node) && Array.isArray(node.args)) {
      // Keras 3: {args: [tensor or [tensors]], kwargs}; tensors are __keras_tensor__ entries
      const refs: TensorRef[] = [];
      collectKerasTensors(node.args, refs);
      if (refs.length === 0) throw new ModelLoadError(`${source}: layer '${layer.name}' has an inbound node with no input tensors`);
      return refs;
    }
    throw new ModelLoadError(`${source}: layer '${layer.name}' has a malformed inbound node ${JSON.stringify(node)?.slice(0, 200)}`);
  });
}

function collectKerasTensors(value: unknown, into: TensorRef[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectKerasTensors(v, into);
  } else if (isObject(value) && value.class_name === '__keras_tensor__' && isObject(value.config) && Array.isArray(value.config.keras_history)) {
    const [layer, node = 0, tensor = 0] = value.config.keras_history as [string, number?, number?];
    into.push({ layer, node, tensor });
  }
}

// ---------------------------------------------------------------------------------------------
// Layer classes

/** One Keras layer as its conversion sees it. */
interface KerasCall {
  layer: KerasLayer;
  config: Json;
  /** The engine node name for the layer's output. */
  name: string;
  /** Nodes feeding the layer, in argument order. */
  inputs: string[];
  /** The model's output layer (a sigmoid there is split off so that the logits stay visible). */
  isOutput: boolean;
  /** The layer's weight by name (alternatives in order of preference). */
  weight(...names: string[]): WeightData;
  /** The single input; an error for layers called on several. */
  one(): string;
  /** The single input's rank (with the batch), checked against `expected` when given. */
  rankOf(expected?: number): number;
}

/** Converts one Keras layer; returns the node holding its output. */
type KerasConversion = (cv: Converter, call: KerasCall) => string;

function convolution(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  call.rankOf(4);
  const depthwise = call.layer.class_name === 'DepthwiseConv2D';
  const kernelSize = cv.pair(call.layer, 'kernel_size');
  const groups = config.groups ?? 1;
  if (groups !== 1) throw cv.unsupported(call.layer, `groups=${String(groups)} is not supported (only 1)`);
  const filter = depthwise ? call.weight('depthwise_kernel', 'kernel') : call.weight('kernel');
  const last = depthwise ? (config.depth_multiplier ?? 1) : config.filters;
  cv.expectShape(call.layer, 'kernel', filter, [kernelSize[0], kernelSize[1], undefined, last as number]);
  const outChannels = depthwise ? filter.shape[2] * filter.shape[3] : filter.shape[3];
  const bias = cv.bias(call.layer, call.weight, outChannels);
  const options = { strides: cv.pair(call.layer, 'strides', [1, 1]), dilations: cv.pair(call.layer, 'dilation_rate', [1, 1]), padding: cv.padding(call.layer) };
  return cv.withActivation(call.layer, call.name, call.isOutput, 4, (n, activation) => ({
    kind: depthwise ? 'depthwiseConv2d' : 'conv2d', name: n, inputs: [x], filter, bias, ...options, activation,
  }));
}

function pooling(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  call.rankOf(4);
  const poolSize = cv.pair(call.layer, 'pool_size', [2, 2]);
  const strides = config.strides == null ? poolSize : cv.pair(call.layer, 'strides');
  const kind = call.layer.class_name === 'MaxPooling2D' ? 'maxPool' : 'avgPool';
  return cv.emit({ kind, name: call.name, inputs: [x], poolSize, strides, padding: cv.padding(call.layer) }, 4);
}

function globalAveragePooling(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  call.rankOf(4);
  const keepDims = config.keepdims === true;
  return cv.emit({ kind: 'globalAvgPool', name: call.name, inputs: [x], keepDims }, keepDims ? 4 : 2);
}

function denseLayer(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  call.rankOf(2);
  const weights = call.weight('kernel');
  cv.expectShape(call.layer, 'kernel', weights, [undefined, config.units as number]);
  const bias = cv.bias(call.layer, call.weight, weights.shape[1]);
  return cv.withActivation(call.layer, call.name, call.isOutput, 2, (n, activation) => ({ kind: 'dense', name: n, inputs: [x], weights, bias, activation }));
}

function flatten(cv: Converter, call: KerasCall): string {
  const x = call.one();
  const r = call.rankOf();
  return r === 2 ? cv.emit({ kind: 'identity', name: call.name, inputs: [x] }, 2) : cv.emit({ kind: 'reshape', name: call.name, inputs: [x], shape: [-1] }, 2);
}

function reshapeLayer(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  const target = config.target_shape;
  if (!Array.isArray(target) || target.some((d) => typeof d !== 'number' || !Number.isInteger(d) || (d <= 0 && d !== -1))) {
    throw cv.malformed(call.layer, `target_shape ${JSON.stringify(target)} is not a list of positive integers (one may be -1)`);
  }
  return cv.emit({ kind: 'reshape', name: call.name, inputs: [x], shape: target as number[] }, target.length + 1);
}

function activationLayer(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  const r = call.rankOf();
  const activation = cv.activation(call.layer, config.activation);
  if (activation === 'linear') return cv.emit({ kind: 'identity', name: call.name, inputs: [x] }, r);
  if (activation === 'softmax') return cv.emit({ kind: 'softmax', name: call.name, inputs: [x] }, r);
  return cv.emit({ kind: 'activation', name: call.name, inputs: [x], activation }, r);
}


function softmaxLayer(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  const r = call.rankOf();
  cv.lastAxis(call.layer, config.axis ?? -1, r);
  return cv.emit({ kind: 'softmax', name: call.name, inputs: [x] }, r);
}

function batchNormalization(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  const r = call.rankOf();
  cv.lastAxis(call.layer, config.axis ?? -1, r);
  const center = config.center ?? true;
  const scaleOn = config.scale ?? true;
  const epsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
  const movingMean = call.weight('moving_mean');
  const movingVariance = call.weight('moving_variance');
  const gamma = scaleOn ? call.weight('gamma') : undefined;
  const beta = center ? call.weight('beta') : undefined;
  const channels = movingMean.data.length;
  for (const [label, w] of [['moving_variance', movingVariance], ['gamma', gamma], ['beta', beta]] as const) {
    if (w) cv.expectShape(call.layer, label, w, [channels]);
  }
  const folded = foldBatchNorm({ gamma: gamma?.data, beta: beta?.data, movingMean: movingMean.data, movingVariance: movingVariance.data, epsilon });
  return cv.emit({ kind: 'channelAffine', name: call.name, inputs: [x], scale: { shape: [channels], data: folded.scale }, shift: { shape: [channels], data: folded.shift } }, r);
}

function zeroPaddingLayer(cv: Converter, call: KerasCall): string {
  const x = call.one();
  call.rankOf(4);
  const [[top, bottom], [left, right]] = cv.zeroPadding(call.layer);
  return cv.emit({ kind: 'zeroPad', name: call.name, inputs: [x], top, bottom, left, right }, 4);
}

// ---- ops-binary: merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate)

/**
 * A merge layer's inputs at one rank. Keras merges broadcast like NumPy over the axes after the
 * batch, giving a lower-rank input new axes after the batch (tfjs-layers Merge.call: expandDims(x,
 * 1)); a rank-2 [N, C] input becomes [N, 1, ..., 1, C] (squeeze-and-excitation after a pooling
 * without keepdims). Other rank changes would need the input's sizes, which this loader does not
 * track, and are refused.
 */
function mergeInputs(cv: Converter, call: KerasCall, least: number, most = Infinity): { inputs: string[]; rank: number } {
  const count = call.inputs.length;
  if (count < least || count > most) {
    throw cv.unsupported(call.layer, `has ${count} input(s); ${call.layer.class_name} takes ${least === most ? least : `${least} or more`}`);
  }
  const ranks = call.inputs.map((i) => cv.rank(i));
  const rank = Math.max(...ranks);
  const inputs = call.inputs.map((input, k) => {
    if (ranks[k] === rank) return input;
    if (ranks[k] !== 2) throw cv.unsupported(call.layer, `input ${k} has rank ${ranks[k]} and another rank ${rank}; only a rank-2 [N, C] input can be broadcast to a higher rank (reshape it first)`);
    return cv.emit({ kind: 'reshape', name: `${call.name}/expand${k}`, inputs: [input], shape: [...new Array<number>(rank - 2).fill(1), -1] }, rank);
  });
  return { inputs, rank };
}

/** op(op(x0, x1), x2) ...: a chain of two-input layers, the last carrying the layer's name. */
function mergeChain(cv: Converter, call: KerasCall, op: BinaryOp, least = 2, most = Infinity): string {
  const { inputs, rank } = mergeInputs(cv, call, least, most);
  const average = call.layer.class_name === 'Average';
  let result = inputs[0];
  for (let i = 1; i < inputs.length; i++) {
    const last = i === inputs.length - 1;
    const name = last ? call.name : `${call.name}/partial${i}`;
    // residual Add keeps the 'add' kind; Average divides the last sum by the input count
    const spec: LayerSpec = op === 'add' && !(average && last)
      ? { kind: 'add', name, inputs: [result, inputs[i]] }
      : { kind: 'binary', op, name, inputs: [result, inputs[i]], ...(average && last ? { scale: 1 / inputs.length } : {}) };
    result = cv.emit(spec, rank);
  }
  return result;
}

function concatenateLayer(cv: Converter, call: KerasCall): string {
  if (call.inputs.length < 2) throw cv.unsupported(call.layer, `has ${call.inputs.length} input(s); Concatenate takes 2 or more`);
  const ranks = call.inputs.map((i) => cv.rank(i));
  const rank = ranks[0];
  if (ranks.some((r) => r !== rank)) throw cv.unsupported(call.layer, `inputs have ranks ${ranks.join(', ')}; Concatenate needs one rank`);
  const axis = call.config.axis ?? -1;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis >= rank || axis < -rank || axis === 0 || axis === -rank) {
    throw cv.unsupported(call.layer, `axis ${JSON.stringify(axis)} is not supported on rank-${rank} inputs (an axis after the batch: 1..${rank - 1} or -1..-${rank - 1})`);
  }
  return cv.emit({ kind: 'concat', name: call.name, inputs: call.inputs, axis }, rank);
}

// ---- ops-layout: data movement and reductions

function croppingLayer(cv: Converter, call: KerasCall): string {
  const x = call.one();
  call.rankOf(4);
  const [[top, bottom], [left, right]] = cv.zeroPadding(call.layer, 'cropping', 0);
  return cv.emit({ kind: 'crop', name: call.name, inputs: [x], top, bottom, left, right }, 4);
}

/** Permute: `dims` orders the axes after the batch, counted from 1. */
function permuteLayer(cv: Converter, call: KerasCall): string {
  const x = call.one();
  const rank = call.rankOf();
  const dims = call.config.dims;
  const sorted = Array.isArray(dims) ? [...dims].sort((a, b) => Number(a) - Number(b)) : [];
  if (!Array.isArray(dims) || dims.length !== rank - 1 || sorted.some((d, k) => d !== k + 1)) {
    throw cv.malformed(call.layer, `dims ${JSON.stringify(dims)} must order the ${rank - 1} axes after the batch, counted from 1`);
  }
  return cv.emit({ kind: 'transpose', name: call.name, inputs: [x], perm: [0, ...(dims as number[])] }, rank);
}

function globalMaxPooling(cv: Converter, call: KerasCall): string {
  const x = call.one();
  call.rankOf(4);
  const keepDims = call.config.keepdims === true;
  return cv.emit({ kind: 'reduce', name: call.name, inputs: [x], reduction: 'max', axes: [1, 2], keepDims }, keepDims ? 4 : 2);
}

// ---- ops-elementwise: activation layers and per-channel affine preprocessing

/**
 * Keras activation names -> functions. hard_sigmoid differs by version: Keras 2 and TF.js define
 * clip(0.2 x + 0.5, 0, 1), Keras 3 relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1); the export tells
 * which (Keras 3 layer entries carry `module`). Both take clip_by_value's gradient rule (the slope
 * on the closed interval), which for Keras 3 differs from its Relu6 rule only at exactly x = +-3.
 * 'gelu' is Keras' default approximate=False (erf form); TF.js's 'gelu_new' is the tanh form.
 */
const KERAS_ACTIVATIONS: Readonly<Record<string, ActivationFunction | 'softmax' | ((keras3: boolean) => ActivationFunction)>> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', softmax: 'softmax', tanh: 'tanh',
  elu: { kind: 'elu', alpha: 1 }, selu: 'selu', softplus: 'softplus', softsign: 'softsign',
  swish: 'swish', silu: 'swish', gelu: 'gelu', gelu_new: 'geluTanh', mish: 'mish', exponential: 'exp',
  hard_sigmoid: (keras3) => ({ kind: 'hardSigmoid', slope: keras3 ? 1 / 6 : 0.2, offset: 0.5 }),
  hardSigmoid: (keras3) => ({ kind: 'hardSigmoid', slope: keras3 ? 1 / 6 : 0.2, offset: 0.5 }),
  hard_swish: 'hardSwish', hard_silu: 'hardSwish', leaky_relu: { kind: 'leakyRelu', alpha: 0.2 },
  hard_tanh: { kind: 'clip', lo: -1, hi: 1 },
};

function kerasActivation(name: string, keras3: boolean): ActivationFunction | 'softmax' | undefined {
  const found = Object.hasOwn(KERAS_ACTIVATIONS, name) ? KERAS_ACTIVATIONS[name] : undefined;
  return typeof found === 'function' ? found(keras3) : found;
}

const finiteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A numeric option, `fallback` when absent; anything else is a malformed config. */
function numberOption(cv: Converter, call: KerasCall, key: string, fallback: number): number {
  const v = call.config[key] ?? fallback;
  if (!finiteNumber(v)) throw cv.malformed(call.layer, `${key} ${JSON.stringify(v)} must be a number`);
  return v;
}

function activationOf(cv: Converter, call: KerasCall, fn: ActivationFunction): string {
  return cv.emit({ kind: 'activation', name: call.name, inputs: [call.one()], activation: fn }, call.rankOf());
}

/**
 * ReLU(max_value, negative_slope, threshold): plain ReLU, ReLU6 (max 6), leaky ReLU (a slope
 * alone, as Keras 3 does: TF's LeakyRelu rule, alpha at 0), else Keras' general relu.
 */
function reluLayer(cv: Converter, call: KerasCall): string {
  const negativeSlope = numberOption(cv, call, 'negative_slope', 0);
  const threshold = numberOption(cv, call, 'threshold', 0);
  const maxValue = call.config.max_value == null ? undefined : numberOption(cv, call, 'max_value', 0);
  if (maxValue !== undefined && maxValue < 0) throw cv.unsupported(call.layer, `max_value=${maxValue} is not supported (it must be >= 0)`);
  if (negativeSlope === 0 && threshold === 0 && (maxValue === undefined || maxValue === 6)) return activationOf(cv, call, maxValue === 6 ? 'relu6' : 'relu');
  if (threshold === 0 && maxValue === undefined) return activationOf(cv, call, { kind: 'leakyRelu', alpha: negativeSlope });
  return activationOf(cv, call, { kind: 'generalRelu', negativeSlope, threshold, maxValue });
}

/** LeakyReLU: Keras 2 / TF.js `alpha`, Keras 3 `negative_slope`; both default to 0.3. */
function leakyReluLayer(cv: Converter, call: KerasCall): string {
  const key = call.config.negative_slope !== undefined ? 'negative_slope' : 'alpha';
  return activationOf(cv, call, { kind: 'leakyRelu', alpha: numberOption(cv, call, key, 0.3) });
}

function eluLayer(cv: Converter, call: KerasCall): string {
  return activationOf(cv, call, { kind: 'elu', alpha: numberOption(cv, call, 'alpha', 1) });
}

/** ThresholdedReLU: x > theta ? x : 0 (Keras' gradient: the cast mask, 1 where x > theta). */
function thresholdedReluLayer(cv: Converter, call: KerasCall): string {
  return activationOf(cv, call, { kind: 'generalRelu', negativeSlope: 0, threshold: numberOption(cv, call, 'theta', 1) });
}

/**
 * PReLU: the `alpha` weight has the input's shape after the batch with the shared axes set to 1.
 * The engine broadcasts alpha over leading axes only, so the shared axes must be the first ones
 * ([1, 2] on images: one slope per channel; none: one per element).
 */
function preluLayer(cv: Converter, call: KerasCall): string {
  const x = call.one();
  const r = call.rankOf();
  const raw = call.config.shared_axes;
  const shared = (raw == null ? [] : Array.isArray(raw) ? raw : [raw]).map((a) => (typeof a === 'number' && a < 0 ? a + r : a)).sort();
  if (!shared.every((a, i) => a === i + 1)) {
    throw cv.unsupported(call.layer, `shared_axes ${JSON.stringify(raw)} is not supported (only leading axes: none, [1], [1, 2], ...)`);
  }
  const alpha = call.weight('alpha');
  if (alpha.shape.length !== r - 1) throw cv.malformed(call.layer, `weight 'alpha' has shape [${alpha.shape.join(', ')}]; expected rank ${r - 1} (the input without the batch)`);
  return cv.emit({ kind: 'prelu', name: call.name, inputs: [x], alpha }, r);
}

/** One value or one per channel, as [channels] (channels = the list's length, or 1). */
function channelValues(cv: Converter, call: KerasCall, key: string, value: unknown): number[] {
  const list = Array.isArray(value) ? value.flat(4) : [value];
  if (list.length === 0 || !list.every(finiteNumber)) throw cv.malformed(call.layer, `${key} ${JSON.stringify(value)} must be a number or a list of numbers (one per channel)`);
  return list as number[];
}

/** y = scale x + offset per channel: one elementwise affine when both are scalars, else a channelAffine. */
function affine(cv: Converter, call: KerasCall, scale: number[], offset: number[]): string {
  const x = call.one();
  const r = call.rankOf();
  if (scale.length === 1 && offset.length === 1) return cv.emit({ kind: 'activation', name: call.name, inputs: [x], activation: { kind: 'affine', scale: scale[0], offset: offset[0] } }, r);
  const channels = Math.max(scale.length, offset.length);
  if ((scale.length !== 1 && scale.length !== channels) || (offset.length !== 1 && offset.length !== channels)) {
    throw cv.malformed(call.layer, `has ${scale.length} scale and ${offset.length} offset values; they must be one or one per channel`);
  }
  const expand = (v: number[]) => Float32Array.from({ length: channels }, (_, c) => v[v.length === 1 ? 0 : c]);
  return cv.emit({ kind: 'channelAffine', name: call.name, inputs: [x], scale: { shape: [channels], data: expand(scale) }, shift: { shape: [channels], data: expand(offset) } }, r);
}

/** Rescaling: x * scale + offset (scalars, or per channel). */
function rescalingLayer(cv: Converter, call: KerasCall): string {
  return affine(cv, call, channelValues(cv, call, 'scale', call.config.scale ?? 1), channelValues(cv, call, 'offset', call.config.offset ?? 0));
}

/**
 * Normalization over the last axis: (x - mean) / max(sqrt(variance), 1e-7) (Keras' epsilon
 * guard), or with invert = true (Keras 3) mean + x * sqrt(variance). Mean and variance come from
 * the adapted weights, else from the config.
 */
function normalizationLayer(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const r = call.rankOf();
  cv.lastAxis(call.layer, config.axis ?? -1, r);
  const fromConfig = config.mean != null && config.variance != null;
  const mean = fromConfig ? channelValues(cv, call, 'mean', config.mean) : [...call.weight('mean').data];
  const variance = fromConfig ? channelValues(cv, call, 'variance', config.variance) : [...call.weight('variance').data];
  if (mean.length !== variance.length && mean.length !== 1 && variance.length !== 1) throw cv.malformed(call.layer, `mean has ${mean.length} values and variance ${variance.length}`);
  const channels = Math.max(mean.length, variance.length);
  const at = (v: number[], c: number) => v[v.length === 1 ? 0 : c];
  const deviation = Array.from({ length: channels }, (_, c) => Math.max(Math.sqrt(at(variance, c)), 1e-7));
  if (deviation.some((d) => !Number.isFinite(d))) throw cv.malformed(call.layer, `variance [${variance.join(', ')}] must be non-negative`);
  const means = Array.from({ length: channels }, (_, c) => at(mean, c));
  return config.invert === true
    ? affine(cv, call, deviation, means)
    : affine(cv, call, deviation.map((d) => 1 / d), means.map((m, c) => -m / deviation[c]));
}

function inferenceIdentity(cv: Converter, call: KerasCall): string {
  const x = call.one();
  return cv.emit({ kind: 'identity', name: call.name, inputs: [x] }, call.rankOf());
}

// ---- ops-resize-conv: UpSampling2D, Conv2DTranspose, SeparableConv2D

/**
 * UpSampling2D: resize by integer factors. Keras computes bilinear as tf.image.resize (tf.keras in
 * TF 2, Keras 3), i.e. half_pixel_centers = true; tfjs-layers calls tf.image.resizeBilinear with
 * its defaults, both flags false. The engine follows Keras, the framework such models are
 * converted from, except for models TF.js saved itself (trained with TF.js's version). Standalone
 * Keras before 2.4 also resized with both flags false; its exports are read as modern Keras.
 * Nearest is the same pixel either way for integer factors.
 */
function upSampling(cv: Converter, call: KerasCall): string {
  const x = call.one();
  call.rankOf(4);
  const factor = cv.pair(call.layer, 'size', [2, 2]);
  const interpolation = call.config.interpolation ?? 'nearest';
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') {
    throw cv.unsupported(call.layer, `interpolation ${JSON.stringify(interpolation)} is not supported (supported: nearest, bilinear)`);
  }
  const halfPixelCenters = interpolation === 'bilinear' && !cv.savedByTfjs;
  return cv.emit({ kind: 'resize', name: call.name, inputs: [x], method: interpolation, factor, alignCorners: false, halfPixelCenters }, 4);
}

/** Conv2DTranspose: kernel [kh, kw, filters, in]; the output size follows from the input at run time (Keras deconv_output_length). */
function convTranspose(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  call.rankOf(4);
  const kernelSize = cv.pair(call.layer, 'kernel_size');
  const filter = call.weight('kernel');
  cv.expectShape(call.layer, 'kernel', filter, [kernelSize[0], kernelSize[1], config.filters as number, undefined]);
  const bias = cv.bias(call.layer, call.weight, filter.shape[2]);
  const outputPadding = config.output_padding == null ? undefined : cv.pair(call.layer, 'output_padding', undefined, true);
  const options = { strides: cv.pair(call.layer, 'strides', [1, 1]), dilations: cv.pair(call.layer, 'dilation_rate', [1, 1]), padding: cv.padding(call.layer), outputPadding };
  if (outputPadding && outputPadding.some((p, i) => p >= options.strides[i])) {
    throw cv.malformed(call.layer, `output_padding [${outputPadding.join(', ')}] must be smaller than the strides [${options.strides.join(', ')}], as Keras requires`);
  }
  return cv.withActivation(call.layer, call.name, call.isOutput, 4, (n, activation) => ({ kind: 'conv2dTranspose', name: n, inputs: [x], filter, bias, ...options, activation }));
}

/**
 * SeparableConv2D (tf.nn.separable_conv2d): a depthwise convolution with the strides, dilation and
 * padding (no bias, linear), then a 1x1 convolution with the bias and the activation, as two
 * engine layers: '<name>/depthwise' and '<name>'.
 */
function separableConvolution(cv: Converter, call: KerasCall): string {
  const config = call.config;
  const x = call.one();
  call.rankOf(4);
  const kernelSize = cv.pair(call.layer, 'kernel_size');
  const depthwise = call.weight('depthwise_kernel');
  // tfjs-layers leaves depth_multiplier out of the config it saves: then the kernel says it
  cv.expectShape(call.layer, 'depthwise_kernel', depthwise, [kernelSize[0], kernelSize[1], undefined, config.depth_multiplier as number | undefined]);
  const pointwise = call.weight('pointwise_kernel');
  cv.expectShape(call.layer, 'pointwise_kernel', pointwise, [1, 1, depthwise.shape[2] * depthwise.shape[3], config.filters as number]);
  const bias = cv.bias(call.layer, call.weight, pointwise.shape[3]);
  const strides = cv.pair(call.layer, 'strides', [1, 1]);
  const dilations = cv.pair(call.layer, 'dilation_rate', [1, 1]);
  const padding = cv.padding(call.layer);
  const spatial = cv.emit({ kind: 'depthwiseConv2d', name: `${call.name}/depthwise`, inputs: [x], filter: depthwise, strides, dilations, padding, activation: 'linear' }, 4);
  return cv.withActivation(call.layer, call.name, call.isOutput, 4, (n, activation) => ({
    kind: 'conv2d', name: n, inputs: [spatial], filter: pointwise, bias, strides: [1, 1], dilations: [1, 1], padding: 'valid', activation,
  }));
}

/** Keras layer class -> its conversion: one row per class. */
const KERAS_LAYERS: Readonly<Record<string, KerasConversion>> = {
  Conv2D: convolution,
  DepthwiseConv2D: convolution,
  MaxPooling2D: pooling,
  AveragePooling2D: pooling,
  GlobalAveragePooling2D: globalAveragePooling,
  Dense: denseLayer,
  Flatten: flatten,
  Reshape: reshapeLayer,
  Activation: activationLayer,
  ReLU: reluLayer,
  Softmax: softmaxLayer,
  BatchNormalization: batchNormalization,
  ZeroPadding2D: zeroPaddingLayer,
  // ops-resize-conv
  UpSampling2D: upSampling,
  Conv2DTranspose: convTranspose,
  SeparableConv2D: separableConvolution,
  // ops-layout
  Cropping2D: croppingLayer,
  Permute: permuteLayer,
  GlobalMaxPooling2D: globalMaxPooling,
  GlobalMaxPool2D: globalMaxPooling,
  // ops-elementwise
  LeakyReLU: leakyReluLayer,
  PReLU: preluLayer,
  ELU: eluLayer,
  ThresholdedReLU: thresholdedReluLayer,
  Rescaling: rescalingLayer,
  Normalization: normalizationLayer,
  // ops-binary: merge layers
  Add: (cv, call) => mergeChain(cv, call, 'add'),
  Subtract: (cv, call) => mergeChain(cv, call, 'sub', 2, 2),
  Multiply: (cv, call) => mergeChain(cv, call, 'mul'),
  Average: (cv, call) => mergeChain(cv, call, 'add'),
  Maximum: (cv, call) => mergeChain(cv, call, 'maximum'),
  Minimum: (cv, call) => mergeChain(cv, call, 'minimum'),
  Concatenate: concatenateLayer,
};

/** Layer classes this loader turns into engine layers (for messages). */
export const SUPPORTED_LAYERS: readonly string[] = ['InputLayer', ...Object.keys(KERAS_LAYERS), ...INFERENCE_IDENTITY, 'Sequential / Functional (nested, called once)'];
