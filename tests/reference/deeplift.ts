/**
 * Float64 DeepLIFT, rescale rule (Shrikumar et al. 2017, Sec. 3.5.1), written layer by layer from
 * the definition rather than as the GPU's paired batch: the input and the reference run forward
 * separately, and the backward multiplies by (f(z) - f(z0)) / (z - z0) at every elementwise
 * nonlinearity (own layers, the activations conv/dense fuse, PReLU, clips), by Captum's max-pool
 * rule at max pooling, and by the gradient at linear layers.
 */
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import { rescaleEpsilon } from '../../src/ops/rescale.js';
import { activationDerivative } from './activation.js';
import { layerBackward, layerForward, referenceForward, scoreSeed } from './model.js';
import { maxPoolBackwardRef, maxPoolRef, type RefPoolOptions } from './pool.js';
import { refTensor, type RefTensor } from './tensor.js';

/** dy * (y - y0) / (x - x0) elementwise, `gradient` where |x - x0| <= epsilon. */
function secant(dy: RefTensor, x: RefTensor, x0: RefTensor, y: RefTensor, y0: RefTensor, gradient: RefTensor, epsilon: number): RefTensor {
  return refTensor(x.shape, x.data.map((v, i) => {
    const d = v - x0.data[i];
    return Math.abs(d) <= epsilon ? gradient.data[i] : (dy.data[i] * (y.data[i] - y0.data[i])) / d;
  }));
}

/** Captum's DeepLift max-pool rule for one pair of batches x, x0 [N, H, W, C] and dy on the pooled output. */
export function maxPoolRescaleRef(x: RefTensor, x0: RefTensor, dy: RefTensor, o: RefPoolOptions): RefTensor {
  const y = maxPoolRef(x, o);
  const y0 = maxPoolRef(x0, o);
  const cross = y.data.map((v, i) => Math.max(v, y0.data[i]));
  const toInput = maxPoolBackwardRef(x, refTensor(dy.shape, dy.data.map((g, i) => g * (cross[i] - y0.data[i]))), o);
  const toReference = maxPoolBackwardRef(x0, refTensor(dy.shape, dy.data.map((g, i) => g * (y.data[i] - cross[i]))), o);
  const gradient = maxPoolBackwardRef(x, dy, o);
  return refTensor(x.shape, x.data.map((v, i) => {
    const d = v - x0.data[i];
    return d === 0 ? gradient.data[i] : (toInput.data[i] + toReference.data[i]) / d;
  }));
}

const FUSING = ['conv2d', 'depthwiseConv2d', 'dense', 'conv2dTranspose'];

/** The layer's backward under the rescale rule, from its inputs for x and x0 and their outputs. */
function rescaleLayer(layer: LayerSpec, inputs: RefTensor[], inputs0: RefTensor[], y: RefTensor, y0: RefTensor, dy: RefTensor): RefTensor[] {
  if (FUSING.includes(layer.kind) && 'activation' in layer && layer.activation !== 'linear') {
    const linear = { ...layer, activation: 'linear' } as LayerSpec;
    const z = layerForward(linear, inputs);
    const z0 = layerForward(linear, inputs0);
    const plain = refTensor(z.shape, z.data.map((v, i) => dy.data[i] * activationDerivative(v, layer.activation)));
    const dz = secant(dy, z, z0, y, y0, plain, rescaleEpsilon(layer.activation));
    return layerBackward(linear, inputs, dz).inputs;
  }
  switch (layer.kind) {
    case 'activation':
    case 'prelu':
    case 'channelClip': {
      const epsilon = rescaleEpsilon(layer.kind === 'activation' ? layer.activation : layer.kind === 'prelu' ? { kind: 'leakyRelu', alpha: 0 } : { kind: 'clip', lo: 0, hi: 0 });
      return [secant(dy, inputs[0], inputs0[0], y, y0, layerBackward(layer, inputs, dy).inputs[0], epsilon)];
    }
    case 'maxPool':
      return [maxPoolRescaleRef(inputs[0], inputs0[0], dy, { poolSize: [...layer.poolSize], strides: [...layer.strides], padding: layer.padding })];
    default:
      // linear layers: the gradient is the multiplier
      return layerBackward(layer, inputs, dy).inputs;
  }
}

/**
 * DeepLIFT multipliers d score / d input under the rescale rule for inputs x and references x0
 * (both [N, ...]; item n's target targets[n] at `node`), and the attributions m (x - x0).
 */
export function referenceDeepLift(spec: ModelSpec, x: RefTensor, x0: RefTensor, node: string, targets: number[]): { multipliers: RefTensor; attribution: Float64Array; input: number[]; baseline: number[] } {
  const values = referenceForward(spec, x);
  const values0 = referenceForward(spec, x0);
  const inputName = spec.layers.find((l) => l.kind === 'input')!.name;
  const gradients = new Map<string, RefTensor>([[node, scoreSeed(values.get(node)!.shape, targets)]]);
  const accumulate = (name: string, g: RefTensor) => {
    const previous = gradients.get(name);
    gradients.set(name, previous ? refTensor(g.shape, g.data.map((v, i) => v + previous.data[i])) : g);
  };
  for (const layer of [...spec.layers].reverse()) {
    const dy = gradients.get(layer.name);
    if (!dy || layer.kind === 'input') continue;
    const inputs = layer.inputs.map((i) => values.get(i)!);
    const inputs0 = layer.inputs.map((i) => values0.get(i)!);
    const grads = rescaleLayer(layer, inputs, inputs0, values.get(layer.name)!, values0.get(layer.name)!, dy);
    layer.inputs.forEach((name, i) => accumulate(name, grads[i]));
  }
  const multipliers = gradients.get(inputName)!;
  const scores = (v: Map<string, RefTensor>) => {
    const out = v.get(node)!;
    const per = out.data.length / out.shape[0];
    return targets.map((t, n) => out.data[n * per + t]);
  };
  return { multipliers, attribution: multipliers.data.map((m, i) => m * (x.data[i] - x0.data[i])), input: scores(values), baseline: scores(values0) };
}
