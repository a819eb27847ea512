/**
 * Clip with bounds per element of the trailing axes (per channel, typically), broadcast over the
 * leading ones like PReLU's alpha: y = clamp(x, lower[j], upper[j]), j = i % lower.size. This is
 * Maximum / Minimum of an activation and a constant vector (a clip with one bound for every
 * channel is the `clip` activation function, whose bounds are uniforms). Gradients follow TF's
 * Maximum / Minimum: dx = dy where lower <= x <= upper; dlower = dy where x < lower and dupper =
 * dy where x > upper, summed over the leading axes. Kernels in shaders/activation.wgsl.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { preluAlphaFits } from './prelu.js';
import { sumToChannels } from './reduce.js';
import { formatShape, sameShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

function checkBounds(x: Tensor, lower: Tensor, upper: Tensor, op: string): void {
  if (formatShape(lower.shape) !== formatShape(upper.shape)) throw new ShapeError(`${op}: lower ${formatShape(lower.shape)} and upper ${formatShape(upper.shape)} bounds differ in shape`);
  if (!preluAlphaFits(x.shape, lower.shape)) {
    throw new ShapeError(`${op}: bounds ${formatShape(lower.shape)} must match the trailing axes of the input ${formatShape(x.shape)} (e.g. [C])`);
  }
}

/** y = clamp(x, lower, upper), the bounds broadcast over x's leading axes. */
export function clip(rt: Runtime, x: Tensor, lower: Tensor, upper: Tensor): Tensor {
  checkBounds(x, lower, upper, 'clip');
  const y = rt.empty(x.shape, 'clip.output');
  rt.dispatch({ shader: 'activation', entry: 'clip_forward', constants: { WORKGROUP_SIZE } }, {
    bindings: { input: x, lower, upper, output: y }, uniforms: { size: lower.size }, workgroups: rt.grid(x.size, WORKGROUP_SIZE),
  });
  return y;
}

export interface ClipGradients {
  input?: Tensor;
  lower?: Tensor;
  upper?: Tensor;
}

/** The requested gradients of clip from x and dL/dy; the bound gradients have the bounds' shape. */
export function clipBackward(rt: Runtime, x: Tensor, lower: Tensor, upper: Tensor, dy: Tensor, want: { input?: boolean; lower?: boolean; upper?: boolean }): ClipGradients {
  checkBounds(x, lower, upper, 'clipBackward');
  sameShape(x, dy, 'clipBackward: input and output gradient');
  const gradients: ClipGradients = {};
  const workgroups = rt.grid(x.size, WORKGROUP_SIZE);
  const uniforms = { size: lower.size };
  if (want.input) {
    const dx = rt.empty(x.shape, 'clip.input_grad');
    rt.dispatch({ shader: 'activation', entry: 'clip_backward', constants: { WORKGROUP_SIZE } }, {
      bindings: { output_grad: dy, input: x, lower, upper, input_grad: dx }, uniforms, workgroups,
    });
    gradients.input = dx;
  }
  for (const side of ['lower', 'upper'] as const) {
    if (!want[side]) continue;
    // viewed as [rows, size], the column sums are the sums over the leading axes
    const terms = rt.empty([x.size / lower.size, lower.size], `clip.${side}_terms`);
    rt.dispatch({ shader: 'activation', entry: `clip_${side}_terms`, constants: { WORKGROUP_SIZE } }, {
      bindings: { output_grad: dy, input: x, [side]: side === 'lower' ? lower : upper, output: terms }, uniforms, workgroups,
    });
    gradients[side] = sumToChannels(rt, terms).reshapeMove(lower.shape);
    terms.dispose();
  }
  return gradients;
}
