import { expect, it } from 'vitest';
import { gatherBatch } from '../../src/ops/batch_gather.js';
import { randomUniform } from '../../src/ops/random.js';
import { relativeError, randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';

/** Float64 reference of shaders/batch_gather.wgsl's rule. */
function gatherRef(source: Float32Array, shape: number[], rows: number[], u: ArrayLike<number> | undefined, flip: boolean, maxShift: number): Float64Array {
  const [, h, w, c] = shape;
  const out = new Float64Array(rows.length * h * w * c);
  const shift = (v: number) => Math.min(Math.floor(v * (2 * maxShift + 1)), 2 * maxShift) - maxShift;
  rows.forEach((row, b) => {
    const flipped = flip && !!u && u[3 * b] < 0.5;
    const sy = u && maxShift ? shift(u[3 * b + 1]) : 0;
    const sx = u && maxShift ? shift(u[3 * b + 2]) : 0;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) {
      const fx = (flipped ? w - 1 - x : x) - sx;
      const fy = y - sy;
      const inside = fx >= 0 && fy >= 0 && fx < w && fy < h;
      out[((b * h + y) * w + x) * c + ch] = inside ? source[((row * h + fy) * w + fx) * c + ch] : 0;
    }
  });
  return out;
}

describeGpu('gatherBatch', () => {
  for (const [flip, maxShift] of [[false, 0], [true, 0], [false, 2], [true, 3]] as const) {
    it(`source=[9,5,7,3] batch=6 flip=${flip} maxShift=${maxShift}`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const shape = [9, 5, 7, 3];
      const source = Float32Array.from({ length: 9 * 5 * 7 * 3 }, () => random() * 2 - 1);
      const rows = [8, 0, 3, 3, 5, 1];
      const augmented = flip || maxShift > 0;
      const uniforms = augmented ? randomUniform(rt, [6, 3], 0, 1, { seed, stream: 7 }) : undefined;
      const u = uniforms && (await rt.read(uniforms));
      const batch = gatherBatch(rt, rt.upload(shape, source), rt.upload([6], rows), uniforms && { uniforms, flip, maxShift });
      expect(batch.shape).toEqual([6, 5, 7, 3]);
      const expected = gatherRef(source, shape, rows, u, flip, maxShift);
      const actual = await rt.read(batch);
      expect(relativeError(actual, expected), `seed=${seed}`).toBe(0);
      if (augmented) {
        // the augmentation must actually move something for some example of the batch
        expect(relativeError(actual, gatherRef(source, shape, rows, undefined, false, 0)), `seed=${seed}`).toBeGreaterThan(0);
      }
    });
  }
});
