import { it } from 'vitest';
import { sumToChannels } from '../../src/ops/reduce.js';
import { expectMatchesReference, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { sumToChannelsRef } from '../reference/reduce.js';
import { randomTensor } from '../reference/tensor.js';

describeGpu('sumToChannels', () => {
  // 1 row, short (one pass), and tall (two passes with a ragged last chunk)
  for (const shape of [[1, 1, 1, 5], [2, 7, 5, 13], [3, 31, 29, 3]]) {
    it(`x=[${shape}]`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const x = randomTensor(shape, random);
      await expectMatchesReference(rt, sumToChannels(rt, toGpu(rt, x)), sumToChannelsRef(x), `sumToChannels x=[${shape}] seed=${seed}`);
    });
  }
});
