/**
 * Float64 reference of the depthwise convolution (TF DepthwiseConv2dNative): plain loops over
 * every output pixel and tap. The backward passes scatter along the forward loops (the transpose
 * of the forward), unlike the GPU's gather, so the two are independent formulations. The window
 * geometry is also recomputed here from TF's formulas rather than imported.
 */
import type { Activation } from '../../src/ops/activation.js';
import { activate } from './activation.js';
import { nhwc, refTensor, type RefTensor } from './tensor.js';

export interface DepthwiseRefOptions {
  strides: [number, number];
  dilations: [number, number];
  padding: 'valid' | 'same';
  activation?: Activation;
}

interface Axis {
  out: number;
  pad: number;
}

/** TF: same -> ceil(in / s) outputs, total padding split with the extra one after; valid -> floor((in - eff) / s) + 1. */
function axis(size: number, k: number, s: number, d: number, padding: 'valid' | 'same'): Axis {
  const effective = (k - 1) * d + 1;
  if (padding === 'valid') return { out: Math.floor((size - effective) / s) + 1, pad: 0 };
  const out = Math.ceil(size / s);
  return { out, pad: Math.floor(Math.max((out - 1) * s + effective - size, 0) / 2) };
}

interface Geometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  m: number;
  rows: Axis;
  cols: Axis;
  outShape: number[];
}

function geometry(inputShape: number[], filterShape: number[], o: DepthwiseRefOptions): Geometry {
  const [n, h, w, c] = inputShape;
  const [kh, kw, fc, m] = filterShape;
  if (fc !== c) throw new Error(`reference: filter channels ${fc} != input channels ${c}`);
  const rows = axis(h, kh, o.strides[0], o.dilations[0], o.padding);
  const cols = axis(w, kw, o.strides[1], o.dilations[1], o.padding);
  return { n, h, w, c, kh, kw, m, rows, cols, outShape: [n, rows.out, cols.out, c * m] };
}

/**
 * Calls visit(inputIndex, filterIndex, outputIndex) for every (output pixel, tap) pair whose tap
 * lies inside the input: the whole convolution as a list of products.
 */
function forEachProduct(g: Geometry, o: DepthwiseRefOptions, visit: (xi: number, fi: number, yi: number) => void): void {
  for (let b = 0; b < g.n; b++) {
    for (let oy = 0; oy < g.rows.out; oy++) {
      for (let ox = 0; ox < g.cols.out; ox++) {
        for (let ky = 0; ky < g.kh; ky++) {
          const iy = oy * o.strides[0] - g.rows.pad + ky * o.dilations[0];
          if (iy < 0 || iy >= g.h) continue;
          for (let kx = 0; kx < g.kw; kx++) {
            const ix = ox * o.strides[1] - g.cols.pad + kx * o.dilations[1];
            if (ix < 0 || ix >= g.w) continue;
            for (let c = 0; c < g.c; c++) {
              for (let m = 0; m < g.m; m++) {
                const xi = nhwc([g.n, g.h, g.w, g.c], b, iy, ix, c);
                const fi = ((ky * g.kw + kx) * g.c + c) * g.m + m;
                const yi = nhwc(g.outShape, b, oy, ox, c * g.m + m);
                visit(xi, fi, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** act(depthwise(x, filter) + bias). */
export function depthwiseConv2dRef(x: RefTensor, filter: RefTensor, bias: RefTensor | undefined, o: DepthwiseRefOptions): RefTensor {
  const g = geometry(x.shape, filter.shape, o);
  const y = refTensor(g.outShape);
  forEachProduct(g, o, (xi, fi, yi) => (y.data[yi] += x.data[xi] * filter.data[fi]));
  const channels = g.c * g.m;
  for (let i = 0; i < y.data.length; i++) {
    y.data[i] = activate(y.data[i] + (bias ? bias.data[i % channels] : 0), o.activation ?? 'linear');
  }
  return y;
}

/** dL/dx from dy = dL/d(pre-activation output). */
export function depthwiseConv2dBackwardInputRef(dy: RefTensor, filter: RefTensor, inputShape: number[], o: DepthwiseRefOptions): RefTensor {
  const g = geometry(inputShape, filter.shape, o);
  const dx = refTensor(inputShape);
  forEachProduct(g, o, (xi, fi, yi) => (dx.data[xi] += dy.data[yi] * filter.data[fi]));
  return dx;
}

/** dL/dfilter from x and dy = dL/d(pre-activation output). */
export function depthwiseConv2dBackwardFilterRef(x: RefTensor, dy: RefTensor, filterShape: number[], o: DepthwiseRefOptions): RefTensor {
  const g = geometry(x.shape, filterShape, o);
  const dw = refTensor(filterShape);
  forEachProduct(g, o, (xi, fi, yi) => (dw.data[fi] += x.data[xi] * dy.data[yi]));
  return dw;
}

/**
 * dL/d(pre-activation) from dL/dy and the forward OUTPUT y, as the engine computes it (ReLU's
 * and ReLU6's masks from y, sigmoid's y (1 - y)). Tests pass the GPU's y so that a pre-activation
 * within rounding of a kink cannot flip the mask between GPU and reference.
 */
export function activationBackwardFromOutputRef(dy: RefTensor, y: ArrayLike<number>, kind: Activation): RefTensor {
  const derivative = (v: number) => {
    switch (kind) {
      case 'relu': return v > 0 ? 1 : 0;
      case 'relu6': return v > 0 && v < 6 ? 1 : 0;
      case 'sigmoid': return v * (1 - v);
      default: return 1;
    }
  };
  return refTensor(dy.shape, dy.data.map((g, i) => g * derivative(y[i])));
}
