import { expect, it } from 'vitest';
import { activation, activationBackward, type Activation } from '../../src/ops/activation.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { activationBackwardRef, activationRef } from '../reference/activation.js';
import { refTensor, randomTensor } from '../reference/tensor.js';

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

  for (const kind of KINDS) {
    it(`${kind} guided backward x=[3,5,7,13]: relu(dy) * act' at ReLU and ReLU6, the plain gradient elsewhere`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const x = randomTensor([3, 5, 7, 13], random, 8);
      const dy = randomTensor([3, 5, 7, 13], random);
      const y = activation(rt, toGpu(rt, x), kind);
      const dx = activationBackward(rt, toGpu(rt, dy), y, kind, 'guided');
      const ruled = kind === 'relu' || kind === 'relu6';
      const upstream = ruled ? refTensor(dy.shape, dy.data.map((v) => Math.max(v, 0))) : dy;
      await expectMatchesReference(rt, dx, activationBackwardRef(x, upstream, kind), `${kind} guided seed=${seed}`);
    });
  }

  it('rejects an unknown backward rule', () => {
    const rt = testRuntime();
    const y = rt.upload([1], [0]);
    expect(() => activationBackward(rt, y, y, 'relu', 'deconvnet' as never)).toThrow(/unknown backward rule 'deconvnet'/);
  });

  it('rejects an unknown activation', () => {
    const rt = testRuntime();
    expect(() => activation(rt, rt.upload([1], [0]), 'gelu' as Activation)).toThrow(/unknown activation 'gelu'/);
  });
});
