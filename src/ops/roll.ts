/**
 * Circular shift of NHWC images over height and width: output[n, y, x, c] = input[n, (y - dy) mod
 * H, (x - dx) mod W, c] (the jitter of feature visualization, Olah et al. 2017). A permutation, so
 * its backward is the roll by (-dy, -dx). Kernel `roll` in shaders/ascent.wgsl.
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { expectRank } from './shapes.js';

const WORKGROUP_SIZE = 64;

export function roll(rt: Runtime, x: Tensor, dy: number, dx: number): Tensor {
  expectRank(x, 4, 'roll input');
  const output = rt.empty(x.shape, 'roll.output');
  rt.dispatch({ shader: 'ascent', entry: 'roll', constants: { WORKGROUP_SIZE } }, {
    bindings: { input: x, output }, uniforms: { shape: x.shape, shift_y: dy, shift_x: dx }, workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
  return output;
}
