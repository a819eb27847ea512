/** Gaussian blur of NHWC images over height and width (two separable passes). */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectRank } from './shapes.js';

const WORKGROUP_SIZE = 64;
const SPEC = { shader: 'blur', entry: 'blur_axis', constants: { WORKGROUP_SIZE } };

export function gaussianBlur(rt: Runtime, x: Tensor, sigma: number): Tensor {
  expectRank(x, 4, 'gaussianBlur input');
  if (!(sigma > 0)) throw new OptionError(`blur sigma must be positive, got ${sigma}`);
  const radius = Math.ceil(3 * sigma);
  const pass = (input: Tensor, axis: number) => {
    const output = rt.empty(input.shape, 'blur');
    rt.dispatch(SPEC, { bindings: { input, output }, uniforms: { shape: input.shape, axis, radius, sigma }, workgroups: rt.grid(output.size, WORKGROUP_SIZE) });
    return output;
  };
  const rows = pass(x, 0);
  const both = pass(rows, 1);
  rows.dispose();
  return both;
}
