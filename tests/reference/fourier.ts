/**
 * Float64 references of the Fourier image parametrization (src/ops/irfft2d.ts,
 * src/ops/valid_image.ts): the inverse real 2-D DFT evaluated directly as one double sum over
 * both frequencies (not separably, as the GPU does), its adjoint, the forward DFT it inverts, and
 * lucid's to_valid_rgb.
 */
import { refTensor, type RefTensor } from './tensor.js';

/** w(kx): column kx of the half spectrum stands for itself and its conjugate mirror, except DC and (even W) Nyquist. */
function columnWeight(kx: number, width: number): number {
  return kx === 0 || (width % 2 === 0 && kx === width / 2) ? 1 : 2;
}

/**
 * image[n, y, x, c] = 1/(H W) sum_{ky, kx} w(kx) Re(scale[ky, kx] S[n, ky, kx, c] e^{2 pi i (ky y / H + kx x / W)}),
 * numpy's irfft2 of the scaled half spectrum [N, H, F, C, 2].
 */
export function irfft2dRef(spectrum: RefTensor, width: number, scale?: RefTensor): RefTensor {
  const [n, h, f, c] = spectrum.shape;
  const out = refTensor([n, h, width, c]);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < width; x++)
        for (let k = 0; k < c; k++) {
          let total = 0;
          for (let ky = 0; ky < h; ky++)
            for (let kx = 0; kx < f; kx++) {
              const s = scale ? scale.data[ky * f + kx] : 1;
              const at = 2 * (((b * h + ky) * f + kx) * c + k);
              const theta = 2 * Math.PI * ((ky * y) / h + (kx * x) / width);
              total += columnWeight(kx, width) * s * (spectrum.data[at] * Math.cos(theta) - spectrum.data[at + 1] * Math.sin(theta));
            }
          out.data[((b * h + y) * width + x) * c + k] = total / (h * width);
        }
  return out;
}

/** The adjoint of irfft2dRef: dS[n, ky, kx, c] = scale w(kx)/(H W) sum_{y, x} dimage e^{-2 pi i (ky y / H + kx x / W)}. */
export function irfft2dBackwardRef(gradient: RefTensor, scale?: RefTensor): RefTensor {
  const [n, h, w, c] = gradient.shape;
  const f = Math.floor(w / 2) + 1;
  const out = refTensor([n, h, f, c, 2]);
  for (let b = 0; b < n; b++)
    for (let ky = 0; ky < h; ky++)
      for (let kx = 0; kx < f; kx++)
        for (let k = 0; k < c; k++) {
          let re = 0;
          let im = 0;
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++) {
              const g = gradient.data[((b * h + y) * w + x) * c + k];
              const theta = 2 * Math.PI * ((ky * y) / h + (kx * x) / w);
              re += g * Math.cos(theta);
              im -= g * Math.sin(theta);
            }
          const s = ((scale ? scale.data[ky * f + kx] : 1) * columnWeight(kx, w)) / (h * w);
          const at = 2 * (((b * h + ky) * f + kx) * c + k);
          out.data[at] = s * re;
          out.data[at + 1] = s * im;
        }
  return out;
}

/** The half spectrum [N, H, F, C, 2] of real images: X[ky, kx] = sum_{y, x} image e^{-2 pi i (ky y / H + kx x / W)}, kx < F. */
export function rfft2dRef(image: RefTensor): RefTensor {
  const [n, h, w, c] = image.shape;
  const f = Math.floor(w / 2) + 1;
  const out = refTensor([n, h, f, c, 2]);
  for (let b = 0; b < n; b++)
    for (let ky = 0; ky < h; ky++)
      for (let kx = 0; kx < f; kx++)
        for (let k = 0; k < c; k++) {
          const at = 2 * (((b * h + ky) * f + kx) * c + k);
          for (let y = 0; y < h; y++)
            for (let x = 0; x < w; x++) {
              const v = image.data[((b * h + y) * w + x) * c + k];
              const theta = 2 * Math.PI * ((ky * y) / h + (kx * x) / w);
              out.data[at] += v * Math.cos(theta);
              out.data[at + 1] -= v * Math.sin(theta);
            }
        }
  return out;
}

const sigmoid = (u: number) => 1 / (1 + Math.exp(-u));

/** image[p, c] = low + (high - low) sigmoid(sum_d mixing[c, d] values[p, d]); mixing [C * C] row-major (identity when absent). */
export function validImageRef(values: RefTensor, low: number, high: number, mixing?: ArrayLike<number>): RefTensor {
  const c = values.shape[values.shape.length - 1];
  const out = refTensor(values.shape);
  for (let p = 0; p < values.data.length; p += c)
    for (let o = 0; o < c; o++) {
      let u = 0;
      for (let d = 0; d < c; d++) u += (mixing ? mixing[o * c + d] : o === d ? 1 : 0) * values.data[p + d];
      out.data[p + o] = low + (high - low) * sigmoid(u);
    }
  return out;
}

export function validImageBackwardRef(values: RefTensor, gradient: RefTensor, low: number, high: number, mixing?: ArrayLike<number>): RefTensor {
  const c = values.shape[values.shape.length - 1];
  const m = (o: number, d: number) => (mixing ? mixing[o * c + d] : o === d ? 1 : 0);
  const out = refTensor(values.shape);
  for (let p = 0; p < values.data.length; p += c)
    for (let o = 0; o < c; o++) {
      let u = 0;
      for (let d = 0; d < c; d++) u += m(o, d) * values.data[p + d];
      const s = sigmoid(u);
      for (let d = 0; d < c; d++) out.data[p + d] += m(o, d) * (high - low) * s * (1 - s) * gradient.data[p + o];
    }
  return out;
}
