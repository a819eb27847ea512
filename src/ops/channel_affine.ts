/**
 * Per-channel affine map over the last axis: y = x * scale[c] + shift[c]. Inference-mode batch
 * normalisation folds into it at load time (`foldBatchNorm`), so a BatchNormalization layer costs
 * one elementwise pass. Backward: dx = dy * scale[c], dscale[c] = sum of dy * x over every other
 * axis, dshift[c] = sum of dy; the forward input x is needed only for dscale.
 */
import { OptionError, ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { sumToChannels } from './reduce.js';
import { formatShape, sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

function checkChannels(x: Tensor, params: [string, Tensor][], op: string): number {
  const channels = x.shape[x.shape.length - 1];
  for (const [name, t] of params) {
    if (t.shape.length !== 1 || t.shape[0] !== channels) {
      throw new ShapeError(`${op}: ${name} ${formatShape(t.shape)} must be [${channels}], one value per channel of the input ${formatShape(x.shape)}`);
    }
  }
  return channels;
}

/** y = x * scale[c] + shift[c]; x [..., C], scale and shift [C]. */
export function channelAffine(rt: Runtime, x: Tensor, scale: Tensor, shift: Tensor): Tensor {
  const channels = checkChannels(x, [['scale', scale], ['shift', shift]], 'channelAffine');
  const output = rt.empty(x.shape, 'channel_affine.output');
  rt.dispatch({ shader: 'elementwise', entry: 'channel_affine', constants: { WORKGROUP_SIZE } }, {
    bindings: { input: x, scale, shift, output },
    uniforms: { channels },
    workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  return output;
}

export interface ChannelAffineGradients {
  input?: Tensor;
  scale?: Tensor;
  shift?: Tensor;
}

/**
 * Gradients of `channelAffine` for the requested parts (default: all three): dx = dy * scale[c]
 * ([..., C]), dscale = sum(dy * x) and dshift = sum(dy) per channel ([C]). Intermediates are disposed.
 */
export function channelAffineBackward(
  rt: Runtime,
  x: Tensor,
  dy: Tensor,
  scale: Tensor,
  want: { input?: boolean; scale?: boolean; shift?: boolean } = { input: true, scale: true, shift: true },
): ChannelAffineGradients {
  sameShape(x, dy, 'channelAffineBackward: input and output gradient');
  const channels = checkChannels(x, [['scale', scale]], 'channelAffineBackward');
  const gradients: ChannelAffineGradients = {};
  const workgroups = rt.grid(x.size, WORKGROUP_SIZE);
  if (want.input) {
    const dx = rt.empty(x.shape, 'channel_affine.input_grad');
    rt.dispatch({ shader: 'elementwise', entry: 'channel_scale', constants: { WORKGROUP_SIZE } }, {
      bindings: { input: dy, scale, output: dx },
      uniforms: { channels },
      workgroups,
    });
    gradients.input = dx;
  }
  if (want.scale) {
    const product = rt.empty(x.shape, 'channel_affine.dy_x');
    rt.dispatch({ shader: 'elementwise', entry: 'multiply', constants: { WORKGROUP_SIZE } }, { bindings: { a: dy, b: x, output: product }, workgroups });
    gradients.scale = sumToChannels(rt, product);
    product.dispose();
  }
  if (want.shift) gradients.shift = sumToChannels(rt, dy);
  return gradients;
}

export interface BatchNormParameters {
  /** Per-channel scale γ; absent (Keras `scale=False`) means 1. */
  gamma?: ArrayLike<number>;
  /** Per-channel offset β; absent (Keras `center=False`) means 0. */
  beta?: ArrayLike<number>;
  movingMean: ArrayLike<number>;
  movingVariance: ArrayLike<number>;
  /** Keras' default is 1e-3. */
  epsilon: number;
}

/**
 * Folds inference-mode batch normalisation, y = γ (x - μ) / sqrt(σ² + ε) + β, into a per-channel
 * affine map y = x * scale + shift with scale = γ / sqrt(σ² + ε) and shift = β - μ * scale.
 * Computed in float64 on the CPU at load time; the results are rounded once to float32.
 */
export function foldBatchNorm(bn: BatchNormParameters): { scale: Float32Array; shift: Float32Array } {
  const channels = bn.movingMean.length;
  const lengths: [string, ArrayLike<number> | undefined][] = [['movingVariance', bn.movingVariance], ['gamma', bn.gamma], ['beta', bn.beta]];
  for (const [name, values] of lengths) {
    if (values && values.length !== channels) throw new ShapeError(`foldBatchNorm: ${name} has ${values.length} values but movingMean has ${channels}`);
  }
  if (!(bn.epsilon >= 0)) throw new OptionError(`foldBatchNorm: epsilon must be a non-negative number, got ${bn.epsilon}`);
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const variance = bn.movingVariance[c] + bn.epsilon;
    if (!(variance > 0)) throw new OptionError(`foldBatchNorm: channel ${c} has movingVariance + epsilon = ${variance}; it must be positive`);
    const s = (bn.gamma ? bn.gamma[c] : 1) / Math.sqrt(variance);
    scale[c] = s;
    shift[c] = (bn.beta ? bn.beta[c] : 0) - bn.movingMean[c] * s;
  }
  return { scale, shift };
}
