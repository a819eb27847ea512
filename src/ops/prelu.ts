/**
 * PReLU (He et al. 2015): y = x > 0 ? x : alpha * x with a learned slope per element of the
 * trailing axes, broadcast over the leading ones: alpha of shape [C] (Keras shared_axes [1, 2]) or
 * [H, W, C] (no shared axes) over x [N, H, W, C]; element i uses alpha[i % alpha.size].
 * Backward: dx = dy * (x > 0 ? 1 : alpha) (tfjs prelu's rule: alpha at 0), dalpha = sum over the
 * leading axes of dy * min(x, 0). Both read the forward input. Kernels in shaders/activation.wgsl.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { sumToChannels } from './reduce.js';
import { formatShape, sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

/** True when alpha is one value, or its shape (leading 1s dropped) equals the trailing axes of `shape` after the batch. */
export function preluAlphaFits(shape: Shape, alphaShape: Shape): boolean {
  const dims = [...alphaShape];
  while (dims.length > 0 && dims[0] === 1) dims.shift();
  if (dims.length === 0) return true;
  return dims.length < shape.length && formatShape(dims) === formatShape(shape.slice(shape.length - dims.length));
}

function checkAlpha(x: Tensor, alpha: Tensor, op: string): void {
  if (!preluAlphaFits(x.shape, alpha.shape)) {
    throw new ShapeError(`${op}: alpha ${formatShape(alpha.shape)} must match the trailing axes of the input ${formatShape(x.shape)} (e.g. [C] or [H, W, C])`);
  }
}

/** y = prelu(x; alpha). */
export function prelu(rt: Runtime, x: Tensor, alpha: Tensor): Tensor {
  checkAlpha(x, alpha, 'prelu');
  const y = rt.empty(x.shape, 'prelu.output');
  rt.dispatch({ shader: 'activation', entry: 'prelu_forward', constants: { WORKGROUP_SIZE } }, {
    bindings: { input: x, alpha, output: y }, uniforms: { size: alpha.size }, workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  return y;
}

export interface PreluGradients {
  input?: Tensor;
  alpha?: Tensor;
}

/** The requested gradients of prelu from x and dL/dy; dalpha has alpha's shape. */
export function preluBackward(rt: Runtime, x: Tensor, alpha: Tensor, dy: Tensor, want: { input?: boolean; alpha?: boolean } = { input: true, alpha: true }): PreluGradients {
  checkAlpha(x, alpha, 'preluBackward');
  sameShape(x, dy, 'preluBackward: input and output gradient');
  const gradients: PreluGradients = {};
  const workgroups = rt.grid(x.size, WORKGROUP_SIZE);
  if (want.input) {
    const dx = rt.empty(x.shape, 'prelu.input_grad');
    rt.dispatch({ shader: 'activation', entry: 'prelu_backward', constants: { WORKGROUP_SIZE } }, {
      bindings: { output_grad: dy, input: x, alpha, input_grad: dx }, uniforms: { size: alpha.size }, workgroups,
    });
    gradients.input = dx;
  }
  if (want.alpha) {
    // viewed as [rows, alpha.size], the column sums are the sums over the leading axes
    const terms = rt.empty([x.size / alpha.size, alpha.size], 'prelu.alpha_terms');
    rt.dispatch({ shader: 'activation', entry: 'prelu_alpha_terms', constants: { WORKGROUP_SIZE } }, {
      bindings: { output_grad: dy, input: x, output: terms }, workgroups,
    });
    gradients.alpha = sumToChannels(rt, terms).reshapeMove(alpha.shape);
    terms.dispose();
  }
  return gradients;
}
