import { expect, it } from 'vitest';
import { activation, activationBackward, type Activation } from '../../src/ops/activation.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { activationBackwardRef, activationRef } from '../reference/activation.js';
import { randomTensor } from '../reference/tensor.js';

const KINDS: Activation[] = ['linear', 'relu', 'relu6', 'sigmoid'];
const SHAPES = [[1, 7, 5, 3], [3, 5, 7, 13], [2, 1, 1, 1031]];

describeGpu('activation', () => {
  for (const kind of KINDS) {
    for (const shape of SHAPES) {
      it(`${kind} x=[${shape}]`, async () => {
        const rt = testRuntime();
        const { seed, random } = randomSource();
        // scale 8 reaches both of ReLU6's kinks and sigmoid's flat tails
        const x = randomTensor(shape, random, 8);
        const dy = randomTensor(shape, random);
        const label = `${kind} x=[${shape}] seed=${seed}`;
        const xGpu = toGpu(rt, x);
        const y = activation(rt, xGpu, kind);
        await expectMatchesReference(rt, y, activationRef(x, kind), `${label} forward`);
        const dx = activationBackward(rt, toGpu(rt, dy), y, kind);
        const expected = activationBackwardRef(x, dy, kind);
        await expectMatchesReference(rt, dx, expected, `${label} backward-input`);
        // finite differences are exact away from the kinks; random floats never sit on them
        expectReferenceGradient(expected, finiteDifferenceVjp((t) => activationRef(t, kind), x, dy), label, 1e-5);
      });
    }
  }

  it('rejects an unknown activation', () => {
    const rt = testRuntime();
    expect(() => activation(rt, rt.upload([1], [0]), 'gelu' as Activation)).toThrow(/unknown activation 'gelu'/);
  });
});
