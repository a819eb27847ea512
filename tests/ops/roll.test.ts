import { expect, it } from 'vitest';
import { roll } from '../../src/ops/roll.js';
import { expectMatchesReference, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { rollRef } from '../reference/roll.js';
import { randomTensor } from '../reference/tensor.js';

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
