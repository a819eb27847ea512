import { expect, it } from 'vitest';
import { roll } from '../../src/ops/roll.js';
import { expectMatchesReference, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomTensor, refTensor, type RefTensor } from '../reference/tensor.js';

/** out[n, y, x, c] = t[n, (y - dy) mod H, (x - dx) mod W, c] */
function rollRef(t: RefTensor, dy: number, dx: number): RefTensor {
  const [n, h, w, c] = t.shape;
  const out = refTensor(t.shape);
  const mod = (a: number, m: number) => ((a % m) + m) % m;
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) out.data[((b * h + y) * w + x) * c + k] = t.data[((b * h + mod(y - dy, h)) * w + mod(x - dx, w)) * c + k];
  return out;
}

describeGpu('roll', () => {
  for (const [shape, dy, dx] of [[[2, 5, 7, 3], 2, -3], [[1, 6, 4, 1], -7, 9], [[3, 3, 5, 2], 0, 1]] as const) {
    it(`x=[${shape}] shift=(${dy}, ${dx}), and back`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const x = randomTensor([...shape], random);
      const rolled = roll(rt, toGpu(rt, x), dy, dx);
      await expectMatchesReference(rt, rolled, rollRef(x, dy, dx), `roll x=[${shape}] seed=${seed}`);
      expect(Array.from(await rt.read(roll(rt, rolled, -dy, -dx)))).toEqual(Array.from(x.data));
    });
  }
});
