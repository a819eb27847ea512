/**
 * The jax-js peer (@jax-js/jax 0.1.25) on its WebGPU device, written the way a JAX user writes
 * these methods: the network as a function of NCHW arrays (lax.convGeneralDilated, reduceWindow,
 * matmul) and `grad` of the target's summed logit over a whole batch, run eagerly. Not `jit`: on
 * this version jit returns wrong conv input gradients where eager is right (the engine's check
 * below would refuse it), so eager is the fair, correct form.
 *
 * jax-js has no TF.js model loader, so only the code-built workloads (Sequential specs of conv2d,
 * max pooling, flatten and dense) run on it; models from files are 'unsupported'. Arrays follow
 * jax-js's ownership rule: a function consumes its array arguments, `.ref` keeps one for reuse.
 * In Node, jax-js finds the Dawn GPU object as navigator.gpu and requests its own device from it
 * (with timestamp-query, so its passes are timed like the engine's).
 */
import type * as Jax from '@jax-js/jax';
import { quadrature } from '../../src/explain/integrated_gradients.js';
import type { Activation } from '../../src/ops/activation.js';
import { windowGeometry } from '../../src/ops/shapes.js';
import type { ModelSpec } from '../../src/model/spec.js';
import type { MethodPlan } from '../methods.js';
import { OCCLUSION_BATCH, collectDeviceErrors, occlusionMask, provideNavigatorGpu, type CheckInputs, type Peer, type PeerModel, type PeerPlatform } from './peer.js';

type JaxModule = typeof Jax;
type JArray = Jax.Array;

/** A network as a function: logits [n, classes] of NCHW input x (consumed). */
interface JaxModel extends PeerModel {
  logits(x: JArray): JArray;
  classes: number;
}

export async function loadJaxPeer(platform: PeerPlatform): Promise<Peer> {
  provideNavigatorGpu(platform.gpu);
  const jax = (await import('@jax-js/jax')) as JaxModule;
  const devices = await jax.init('webgpu');
  if (!devices.includes('webgpu')) throw new Error('jax-js found no WebGPU device');
  jax.defaultDevice('webgpu');
  const device = jax.getWebGPUDevice();
  const takeErrors = collectDeviceErrors(device, 'jax-js WebGPU');
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    name: 'jax-webgpu',
    version: '0.1.25',
    details: { vendor: info?.vendor, architecture: info?.architecture, mode: 'eager' },
    device,
    unsupported(plan, fromFiles) {
      if (fromFiles) return 'jax-js has no TF.js model loader: only the code-built CNNs run on it';
      if (plan.id === 'filters') return 'no jax-js counterpart: a hand-written gradient ascent would not match the engine step for step, so it cannot be checked';
      return undefined;
    },
    async loadModel(spec, logitsNode, classes, files) {
      if (files) throw new Error('jax-js has no TF.js model loader');
      return buildModel(jax, spec, logitsNode, classes);
    },
    run: (model, image, shape, plan, range, check) => runJax(jax, model as JaxModel, image, shape, plan, range, check),
    takeErrors,
  };
}

function activate(jax: JaxModule, x: JArray, activation: Activation): JArray {
  switch (activation) {
    case 'linear': return x;
    case 'relu': return jax.nn.relu(x);
    case 'relu6': return jax.nn.relu6(x);
    case 'sigmoid': return jax.nn.sigmoid(x);
    default: throw new Error(`jax peer: activation '${String(activation)}' is not built`);
  }
}

/** The Sequential spec up to `logitsNode` as a jax-js function; weights uploaded once (NCHW / OIHW). */
function buildModel(jax: JaxModule, spec: ModelSpec, logitsNode: string, classes: number): JaxModel {
  const { numpy: np, lax } = jax;
  const held: JArray[] = [];
  const upload = (data: Float32Array, shape: number[]) => {
    const array = np.array(data).reshape(shape);
    held.push(array);
    return array;
  };
  const steps: ((x: JArray) => JArray)[] = [];
  const input = spec.layers[0];
  if (input.kind !== 'input') throw new Error('jax peer: the spec does not start with its input');
  let [h, w, c] = input.shape;
  let reached = false;
  for (const layer of spec.layers.slice(1)) {
    switch (layer.kind) {
      case 'conv2d': {
        const [kh, kw, , cout] = layer.filter.shape;
        // HWIO -> OIHW, the layout of lax.convGeneralDilated's kernel
        const filter = np.array(layer.filter.data).reshape(layer.filter.shape).transpose([3, 2, 0, 1]);
        held.push(filter);
        const bias = layer.bias ? upload(layer.bias.data, [1, cout, 1, 1]) : undefined;
        const g = windowGeometry(h, w, [kh, kw], layer.strides, layer.dilations, layer.padding);
        // TF's padding spelled out: same puts the odd extra row/column at the bottom/right
        const after = (out: number, size: number, k: number, s: number, d: number, before: number) =>
          layer.padding === 'same' ? Math.max((out - 1) * s + (k - 1) * d + 1 - size, 0) - before : 0;
        const padding: [number, number][] = [
          [g.padTop, after(g.outHeight, h, kh, layer.strides[0], layer.dilations[0], g.padTop)],
          [g.padLeft, after(g.outWidth, w, kw, layer.strides[1], layer.dilations[1], g.padLeft)],
        ];
        const { strides, dilations, activation } = layer;
        steps.push((x) => {
          const y = lax.convGeneralDilated(x, filter.ref, [...strides], padding, { rhsDilation: [...dilations] });
          return activate(jax, bias ? y.add(bias.ref) : y, activation);
        });
        [h, w, c] = [g.outHeight, g.outWidth, cout];
        break;
      }
      case 'maxPool': {
        if (layer.padding !== 'valid') throw new Error(`jax peer: max pooling with '${layer.padding}' padding is not built`);
        const { poolSize, strides } = layer;
        steps.push((x) => lax.reduceWindow(x, (window) => np.max(window), [...poolSize], [...strides]));
        const g = windowGeometry(h, w, poolSize, strides, [1, 1], 'valid');
        [h, w] = [g.outHeight, g.outWidth];
        break;
      }
      case 'reshape': {
        // flatten in NHWC order, as TF does
        const size = h * w * c;
        steps.push((x) => x.transpose([0, 2, 3, 1]).reshape([-1, size]));
        [h, w, c] = [1, 1, size];
        break;
      }
      case 'dense': {
        const units = layer.weights.shape[1];
        const weights = upload(layer.weights.data, layer.weights.shape);
        const bias = layer.bias ? upload(layer.bias.data, [1, units]) : undefined;
        const { activation } = layer;
        steps.push((x) => {
          const y = np.matmul(x, weights.ref);
          return activate(jax, bias ? y.add(bias.ref) : y, activation);
        });
        c = units;
        break;
      }
      default:
        throw new Error(`jax peer: layer kind '${layer.kind}' is not built`);
    }
    if (layer.name === logitsNode) {
      reached = true;
      break;
    }
  }
  if (!reached) throw new Error(`jax peer: no node '${logitsNode}'`);
  return {
    classes,
    logits: (x) => steps.reduce((value, step) => step(value), x),
    dispose: () => held.forEach((array) => array.dispose()),
  };
}

/** Peer.run for jax-js: image NHWC in, map NHWC (or [H, W]) out. */
async function runJax(jax: JaxModule, model: JaxModel, image: Float32Array, shape: readonly number[], plan: MethodPlan, range: readonly [number, number], check: CheckInputs = {}): Promise<Float32Array> {
  const { numpy: np, grad, random, nn } = jax;
  const [h, w, c] = shape;
  const nchw = (data: Float32Array, n: number) => np.array(data).reshape([n, h, w, c]).transpose([0, 3, 1, 2]);
  const x = nchw(image, 1);
  // the predicted class as a one-hot row, kept on the GPU
  const target = model.classes === 1 ? np.ones([1, 1]) : nn.oneHot(np.argmax(model.logits(x.ref), 1), model.classes);
  const score = (v: JArray) => np.sum(model.logits(v).mul(target.ref));
  const toNhwc = (a: JArray) => a.transpose([0, 2, 3, 1]).data() as Promise<Float32Array>;
  const extra: JArray[] = [];
  let result: JArray;
  switch (plan.id) {
    case 'saliency':
      result = grad(score)(x);
      break;
    case 'smoothgrad': {
      const sigma = plan.noise * (range[1] - range[0]);
      const noisy = check.noisy
        ? nchw(check.noisy, plan.samples)
        : x.add(random.normal(random.key(plan.seed), [plan.samples, c, h, w]).mul(sigma));
      if (check.noisy) x.dispose();
      result = np.mean(grad(score)(noisy), 0, { keepdims: true });
      break;
    }
    case 'ig': {
      const { alphas, weights } = quadrature(plan.rule, plan.steps);
      const baseline = np.full([1, c, h, w], range[0]);
      const difference = x.ref.sub(baseline.ref);
      const path = baseline.ref.add(difference.ref.mul(np.array(Float32Array.from(alphas)).reshape([plan.steps, 1, 1, 1])));
      const grads = grad(score)(path);
      const average = np.sum(grads.mul(np.array(Float32Array.from(weights)).reshape([plan.steps, 1, 1, 1])), 0, { keepdims: true });
      // F(x) and F(baseline), read with the map, as the engine does for its completeness check
      extra.push(model.logits(np.concatenate([x, baseline])));
      result = difference.mul(average);
      break;
    }
    case 'occlusion': {
      const { windows, mask } = occlusionMask(h, w, plan);
      const inside = np.array(mask).reshape([windows, 1, h, w]);
      const clean = np.sum(model.logits(x.ref).mul(target.ref));
      const scores: JArray[] = [];
      for (let start = 0; start < windows; start += OCCLUSION_BATCH) {
        const count = Math.min(OCCLUSION_BATCH, windows - start);
        const copies = x.ref.mul(np.ones([count, 1, h, w]).sub(inside.ref.slice([start, start + count]))); // fill value 0
        scores.push(np.sum(model.logits(copies).mul(target.ref), 1));
      }
      x.dispose();
      const drops = clean.sub(np.concatenate(scores)).reshape([1, windows]);
      const flat = inside.reshape([windows, h * w]);
      const total = np.matmul(drops, flat.ref);
      const covering = np.sum(flat, 0, { keepdims: true });
      const average = np.where(covering.ref.greater(0), total.div(np.maximum(covering, 1)), 0);
      target.dispose();
      return (await average.data()) as Float32Array;
    }
    case 'filters':
      throw new Error('no jax-js counterpart for filter visualization');
  }
  target.dispose();
  const values = await toNhwc(result);
  for (const array of extra) await array.data();
  return values;
}
