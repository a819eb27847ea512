/** Helpers the layer kinds share: element counts, weight upload, rank and window checks. */
import { ShapeError } from '../../errors.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Shape, Tensor } from '../../gpu/tensor.js';
import type { Activation, BackwardRule } from '../../ops/activation.js';
import { activationRescale } from '../../ops/rescale.js';
import { formatShape, windowGeometry, type Padding } from '../../ops/shapes.js';
import type { WeightData } from '../spec.js';

export const product = (shape: Shape) => shape.reduce((a, b) => a * b, 1);

export function upload(rt: Runtime, name: string, w: WeightData | undefined): Tensor | undefined {
  return w && rt.upload(w.shape, w.data, name);
}

export function rank4(shapes: Shape[], name: string, kind: string): Shape {
  const [shape] = shapes;
  if (!shape || shape.length !== 4) throw new ShapeError(`${kind} '${name}' needs an NHWC input of rank 4, got ${shape ? formatShape(shape) : 'nothing'}`);
  return shape;
}

/** [outHeight, outWidth] of a window op over NHWC `shape`. */
export function windowGeometryShape(shape: Shape, kernel: readonly [number, number], strides: readonly [number, number], dilations: readonly [number, number], padding: Padding): [number, number] {
  const g = windowGeometry(shape[1], shape[2], kernel, strides, dilations, padding);
  return [g.outHeight, g.outWidth];
}

/**
 * DeepLIFT's rescale rule through a layer's fused activation: dL/dz at the pre-activation z, or
 * undefined when the rule is another or the activation linear (the layer's own backward applies).
 * The layers keep y, not z, and the multiplier (f(z) - f(z0)) / (z - z0) needs z where y is
 * flat (ReLU's zeros): z is recomputed by the layer's linear part, one more forward of the layer
 * on the rescale path only, so that other passes keep nothing extra.
 */
export function fusedRescale(rt: Runtime, dy: Tensor, activation: Activation, rule: BackwardRule | undefined, preActivation: () => Tensor): Tensor | undefined {
  if (rule !== 'rescale' || activation === 'linear') return undefined;
  const z = preActivation();
  const dz = activationRescale(rt, dy, z, activation);
  z.dispose();
  return dz;
}
