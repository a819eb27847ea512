import { refTensor, type RefTensor } from './tensor.js';

/** Circular shift of NHWC images: out[n, y, x, c] = t[n, (y - dy) mod H, (x - dx) mod W, c]. */
export function rollRef(t: RefTensor, dy: number, dx: number): RefTensor {
  const [n, h, w, c] = t.shape;
  const out = refTensor(t.shape);
  const mod = (a: number, m: number) => ((a % m) + m) % m;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out.data[((b * h + y) * w + x) * c + k] = t.data[((b * h + mod(y - dy, h)) * w + mod(x - dx, w)) * c + k];
  return out;
}
