/**
 * Saving a Model in the TF.js Layers format (model.json + one weights shard), as tfjs-layers'
 * `model.save` writes it: a Keras 2 functional topology (`class_name: 'Model'`, inbound nodes as
 * `[[[layer, 0, 0, {}]]]`) and a weights manifest named `layer/weight`. The weights are the
 * model's CURRENT GPU weights (after training), read back once. TensorFlow.js
 * (`tf.loadLayersModel`) and this engine's Layers loader both read the result.
 * Inverse of src/model/loaders/layers_model.ts for the layer kinds Keras has: a channel affine map
 * becomes a BatchNormalization with mean 0, variance 1 and epsilon 0, which is the same map.
 */
import type { Tensor } from '../gpu/tensor.js';
import { functionName, type ActivationFunction, type PlainFunction } from '../ops/activation.js';
import { UnsupportedModelError } from './loaders/files.js';
import type { Model } from './model.js';
import type { LayerSpec, ModelSpec, WeightData } from './spec.js';

export interface SavedLayersModel {
  /** The model.json object (JSON.stringify it to a file). */
  modelJson: Record<string, unknown>;
  /** The one weights shard the manifest names (`weightsPath`). */
  weightData: Uint8Array;
}

type Json = Record<string, unknown>;

interface KerasEntry {
  class_name: string;
  config: Json;
  /** Engine weights (by spec field) -> Keras weight names, in manifest order. */
  weights: [string, WeightData][];
}

/** Engine functions with a Keras activation name that TF.js and Keras read back as the same function. */
const KERAS_ACTIVATIONS: Partial<Record<PlainFunction, string>> = {
  linear: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', tanh: 'tanh', selu: 'selu', softplus: 'softplus', softsign: 'softsign', swish: 'swish', gelu: 'gelu', mish: 'mish',
};

function kerasActivation(layer: LayerSpec, activation: ActivationFunction): string {
  const name = typeof activation === 'string' ? KERAS_ACTIVATIONS[activation] : activation.kind === 'elu' && activation.alpha === 1 ? 'elu' : undefined;
  if (!name) throw new UnsupportedModelError(`Cannot save layer '${layer.name}': activation '${functionName(activation)}' has no Keras name here`, { node: layer.name, op: layer.kind });
  return name;
}

const window = (spec: { strides: readonly [number, number]; padding: string }) => ({ strides: [...spec.strides], padding: spec.padding, data_format: 'channels_last' });

/** The Keras class, config and weights of one engine layer. */
function kerasLayer(layer: LayerSpec): KerasEntry {
  switch (layer.kind) {
    case 'conv2d':
    case 'depthwiseConv2d': {
      const [kh, kw, , out] = layer.filter.shape;
      const depthwise = layer.kind === 'depthwiseConv2d';
      const config: Json = {
        kernel_size: [kh, kw], ...window(layer), dilation_rate: [...layer.dilations], activation: kerasActivation(layer, layer.activation), use_bias: !!layer.bias,
        ...(depthwise ? { depth_multiplier: out } : { filters: out }),
      };
      const weights: [string, WeightData][] = [[depthwise ? 'depthwise_kernel' : 'kernel', layer.filter]];
      if (layer.bias) weights.push(['bias', layer.bias]);
      return { class_name: depthwise ? 'DepthwiseConv2D' : 'Conv2D', config, weights };
    }
    case 'conv2dTranspose': {
      // Keras computes the output size from the input (deconv_output_length): an explicit size or padding has no
      // Keras form, and tfjs-layers 4.22's Conv2DTranspose ignores output_padding (TF.js would read another size)
      if (layer.outputSize !== undefined || typeof layer.padding === 'object' || layer.outputPadding) break;
      const [kh, kw, filters] = layer.filter.shape;
      const config: Json = {
        filters, kernel_size: [kh, kw], ...window({ strides: layer.strides, padding: layer.padding }), dilation_rate: [...layer.dilations],
        output_padding: null, activation: kerasActivation(layer, layer.activation), use_bias: !!layer.bias,
      };
      const weights: [string, WeightData][] = [['kernel', layer.filter]];
      if (layer.bias) weights.push(['bias', layer.bias]);
      return { class_name: 'Conv2DTranspose', config, weights };
    }
    case 'dense': {
      const weights: [string, WeightData][] = [['kernel', layer.weights]];
      if (layer.bias) weights.push(['bias', layer.bias]);
      return { class_name: 'Dense', config: { units: layer.weights.shape[1], activation: kerasActivation(layer, layer.activation), use_bias: !!layer.bias }, weights };
    }
    case 'maxPool':
    case 'avgPool':
      return { class_name: layer.kind === 'maxPool' ? 'MaxPooling2D' : 'AveragePooling2D', config: { pool_size: [...layer.poolSize], ...window(layer) }, weights: [] };
    case 'globalAvgPool':
      if (layer.keepDims) break;
      return { class_name: 'GlobalAveragePooling2D', config: { data_format: 'channels_last' }, weights: [] };
    case 'activation':
      return { class_name: 'Activation', config: { activation: kerasActivation(layer, layer.activation) }, weights: [] };
    case 'softmax':
      return { class_name: 'Activation', config: { activation: 'softmax' }, weights: [] };
    case 'identity':
      return { class_name: 'Activation', config: { activation: 'linear' }, weights: [] };
    case 'add':
      return { class_name: 'Add', config: {}, weights: [] };
    case 'channelAffine': {
      const channels = layer.scale.shape[0];
      return {
        class_name: 'BatchNormalization',
        config: { axis: -1, epsilon: 0, center: true, scale: true },
        weights: [['gamma', layer.scale], ['beta', layer.shift], ['moving_mean', { shape: [channels], data: new Float32Array(channels) }], ['moving_variance', { shape: [channels], data: new Float32Array(channels).fill(1) }]],
      };
    }
    case 'zeroPad':
      return { class_name: 'ZeroPadding2D', config: { padding: [[layer.top, layer.bottom], [layer.left, layer.right]], data_format: 'channels_last' }, weights: [] };
    case 'reshape':
      return layer.shape.length === 1 && layer.shape[0] === -1
        ? { class_name: 'Flatten', config: { data_format: 'channels_last' }, weights: [] }
        : { class_name: 'Reshape', config: { target_shape: [...layer.shape] }, weights: [] };
    default:
      break;
  }
  throw new UnsupportedModelError(`Cannot save layer '${layer.name}' (${layer.kind}${'keepDims' in layer && layer.keepDims ? ', keepDims' : ''}${layer.kind === 'conv2dTranspose' ? ' with an explicit output size, explicit padding or output_padding' : ''}) in the TF.js Layers format: it has no Keras layer here`, { node: layer.name, op: layer.kind });
}

/** The model's spec with its current GPU weights (after training) in place of the loaded ones. */
export async function currentSpec(model: Model): Promise<ModelSpec> {
  const layers: LayerSpec[] = [];
  for (const name of model.order) {
    const layer = model.layer(name);
    const copy = { ...layer.spec } as Record<string, unknown>;
    for (const [field, tensor] of Object.entries(layer.weights) as [string, Tensor][]) {
      copy[field] = { shape: [...tensor.shape], data: await model.runtime.read(tensor) };
    }
    layers.push(copy as unknown as LayerSpec);
  }
  return { ...model.spec, layers };
}

/** Keras layer names: letters, digits, `_`, `-` and `.`; graph-model node names carry `/` and `:`. */
function kerasNames(layers: LayerSpec[]): Map<string, string> {
  const names = new Map<string, string>();
  const used = new Set<string>();
  for (const layer of layers) {
    const base = layer.name.replace(/[^A-Za-z0-9_.-]/g, '_') || 'layer';
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base}_${k}`;
    used.add(name);
    names.set(layer.name, name);
  }
  return names;
}

/** model.json and its weights shard for `model` (current weights). `weightsPath` is the shard's file name. */
export async function saveLayersModel(model: Model, options: { name?: string; weightsPath?: string } = {}): Promise<SavedLayersModel> {
  const spec = await currentSpec(model);
  const names = kerasNames(spec.layers);
  const layers: Json[] = [];
  const manifest: Json[] = [];
  const chunks: Float32Array[] = [];
  for (const layer of spec.layers) {
    const name = names.get(layer.name)!;
    if (layer.kind === 'input') {
      layers.push({ class_name: 'InputLayer', name, config: { batch_input_shape: [null, ...layer.shape], dtype: 'float32', sparse: false, name }, inbound_nodes: [] });
      continue;
    }
    const entry = kerasLayer(layer);
    layers.push({
      class_name: entry.class_name, name,
      config: { name, trainable: true, dtype: 'float32', ...entry.config },
      inbound_nodes: [layer.inputs.map((input) => [names.get(input)!, 0, 0, {}])],
    });
    for (const [weight, data] of entry.weights) {
      manifest.push({ name: `${name}/${weight}`, shape: [...data.shape], dtype: 'float32' });
      chunks.push(data.data);
    }
  }
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    bytes.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), offset);
    offset += c.byteLength;
  }
  const input = names.get(model.inputName)!;
  const modelName = options.name ?? 'model';
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: 'webgpu-xai',
      convertedBy: null,
      modelTopology: {
        class_name: 'Model',
        config: { name: modelName, layers, input_layers: [[input, 0, 0]], output_layers: [[names.get(spec.output)!, 0, 0]] },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      weightsManifest: [{ paths: [options.weightsPath ?? 'weights.bin'], weights: manifest }],
      ...(spec.labels ? { userDefinedMetadata: { labels: spec.labels } } : {}),
    },
    weightData: bytes,
  };
}
