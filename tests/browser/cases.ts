/**
 * The ops the browser test runs, by name: each takes uploaded inputs (by name) and returns the
 * tensors to read back (by name). To cover a new op in the browser, add an entry here and a case
 * with its float64 reference in browser.test.ts; the page and the harness need no change.
 */
import type { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { activation, activationBackward, activationInputGradient, type Activation, type ActivationFunction } from '../../src/ops/activation.js';
import { binary, binaryBackward, type BinaryOp } from '../../src/ops/binary.js';
import { concat, concatBackward } from '../../src/ops/concat.js';
import { irfft2d, irfft2dBackward } from '../../src/ops/irfft2d.js';
import { pad, padBackward, type PadMode } from '../../src/ops/pad.js';
import { sumToChannels } from '../../src/ops/reduce.js';
import { reduceAxes, reduceAxesBackward, type Reduction } from '../../src/ops/reduce_axes.js';
import { slice, sliceBackward } from '../../src/ops/slice.js';
import { validImage, validImageBackward } from '../../src/ops/valid_image.js';
import type { CaseParams } from './protocol.js';

export type BrowserCase = (rt: Runtime, inputs: Record<string, Tensor>, params: CaseParams) => Record<string, Tensor>;

export const CASES: Record<string, BrowserCase> = {
  /** inputs x, dy; params { kind } -> y = act(x), dx = dL/dx for upstream dy. */
  activation(rt, { x, dy }, { kind }) {
    const y = activation(rt, x, kind as Activation);
    return { y, dx: activationBackward(rt, dy, y, kind as Activation) };
  },
  /** inputs x, dy; params { fn } (an ActivationFunction as JSON) -> y = f(x), dx = dL/dx from x. */
  activationFunction(rt, { x, dy }, { fn }) {
    const f = JSON.parse(String(fn)) as ActivationFunction;
    return { y: activation(rt, x, f), dx: activationInputGradient(rt, dy, x, f) };
  },
  /** ops-binary: inputs a, b (broadcasting), dy; params { op } -> y = op(a, b), da, db. */
  binary(rt, { a, b, dy }, { op }) {
    const grads = binaryBackward(rt, op as BinaryOp, dy, { a, b }, { a: true, b: true });
    return { y: binary(rt, op as BinaryOp, a, b), da: grads.a!, db: grads.b! };
  },
  /** ops-binary: inputs a, b, dy; params { axis } -> y = concat([a, b], axis), da, db. */
  concat(rt, { a, b, dy }, { axis }) {
    const [da, db] = concatBackward(rt, dy, [a.shape, b.shape], axis as number);
    return { y: concat(rt, [a, b], axis as number), da: da!, db: db! };
  },
  /** inputs x [..., C] -> sum [C]. */
  sumToChannels(rt, { x }) {
    return { sum: sumToChannels(rt, x) };
  },
  /** inputs x, dy; params { paddings (flat [before, after] per axis), mode, value } -> y, dx. */
  pad(rt, { x, dy }, { paddings, mode, value }) {
    const flat = paddings as number[];
    const options = { paddings: x.shape.map((_, k): [number, number] => [flat[2 * k], flat[2 * k + 1]]), mode: mode as PadMode, value: value as number };
    return { y: pad(rt, x, options), dx: padBackward(rt, dy, x.shape, options) };
  },
  /** inputs x, dy; params { begin, size, strides } -> y, dx. */
  slice(rt, { x, dy }, { begin, size, strides }) {
    const window = { begin: begin as number[], size: size as number[], strides: strides as number[] };
    return { y: slice(rt, x, window), dx: sliceBackward(rt, dy, x.shape, window) };
  },
  /** inputs spectrum [N, H, F, C, 2], scale [H, F], dy [N, H, W, C]; params { width } -> y = irfft2(scale * spectrum), dspectrum. */
  irfft2d(rt, { spectrum, scale, dy }, { width }) {
    return { y: irfft2d(rt, spectrum, width as number, { scale }), dspectrum: irfft2dBackward(rt, dy, { scale }) };
  },
  /** inputs x, mixing [C, C], dy; params { low, high } -> y = low + (high - low) sigmoid(mixing x), dx. */
  validImage(rt, { x, mixing, dy }, { low, high }) {
    const options = { mixing, low: low as number, high: high as number };
    return { y: validImage(rt, x, options), dx: validImageBackward(rt, x, dy, options) };
  },
  /** inputs x, dy; params { reduction, axes } -> y, dx. */
  reduceAxes(rt, { x, dy }, { reduction, axes }) {
    const kind = reduction as Reduction;
    const y = reduceAxes(rt, x, kind, axes as number[]);
    return { y, dx: reduceAxesBackward(rt, dy, kind, axes as number[], false, { x, y }) };
  },
};
