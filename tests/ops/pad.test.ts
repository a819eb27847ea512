import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import { pad, padBackward, type PadOptions } from '../../src/ops/pad.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { useCpuBackend } from '../model/tfjs_oracle.js';
import { padBackwardRef, padRef } from '../reference/pad.js';
import { randomTensor } from '../reference/tensor.js';

const CASES: [number[], PadOptions][] = [
  // ZeroPadding2D and conv explicit padding: H and W only
  [[1, 7, 5, 3], { paddings: [[0, 0], [1, 1], [1, 1], [0, 0]] }],
  [[3, 5, 7, 5], { paddings: [[0, 0], [0, 2], [3, 0], [0, 0]] }],
  // channel padding (residual blocks that widen the shortcut), a non-zero PadV2 value
  [[2, 3, 5, 3], { paddings: [[0, 0], [0, 0], [0, 0], [2, 3]] }],
  [[1, 4, 3, 5], { paddings: [[0, 0], [2, 1], [0, 1], [1, 0]], value: -1.5 }],
  [[2, 9], { paddings: [[0, 0], [4, 2]], value: 0.25 }],
  [[1, 4, 6, 2], { paddings: [[0, 0], [0, 0], [0, 0], [0, 0]] }],
  // MirrorPad: paddings up to the mode's limit, on spatial and channel axes
  [[1, 5, 4, 3], { paddings: [[0, 0], [2, 4], [3, 1], [0, 2]], mode: 'reflect' }],
  [[2, 3, 5, 3], { paddings: [[0, 0], [3, 1], [0, 5], [3, 3]], mode: 'symmetric' }],
  [[1, 1, 7, 2], { paddings: [[0, 0], [1, 1], [2, 0], [0, 0]], mode: 'symmetric' }],
  [[3, 11], { paddings: [[0, 0], [10, 3]], mode: 'reflect' }],
  // 8 axes, all padded (no merging): every unrolled axis of the kernel
  [[1, 2, 2, 2, 2, 2, 2, 2], { paddings: [[0, 0], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1], [1, 1]], mode: 'reflect' }],
  [[1, 2, 1, 2, 1, 2, 1, 2], { paddings: [[0, 0], [2, 0], [0, 1], [1, 2], [1, 0], [0, 2], [1, 1], [2, 1]], mode: 'symmetric' }],
  [[2, 1, 2, 1, 2, 1, 2, 1], { paddings: [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]], value: 2 }],
  // W and C untouched: the kernel sees them merged into one axis
  [[2, 4, 3, 5], { paddings: [[0, 0], [2, 3], [0, 0], [0, 0]], mode: 'symmetric' }],
];

function describeOptions(o: PadOptions): string {
  return `${o.mode ?? 'constant'}${o.value ? ` ${o.value}` : ''} p=${JSON.stringify(o.paddings)}`;
}

/** TF.js's own Pad / MirrorPad of the same input: the reference must agree exactly. */
function tfjsPad(data: Float64Array, shape: number[], o: PadOptions): Float32Array {
  const x = tf.tensor(Float32Array.from(data), shape);
  const paddings = o.paddings.map(([a, b]) => [a, b] as [number, number]);
  return (o.mode === 'reflect' || o.mode === 'symmetric' ? tf.mirrorPad(x, paddings, o.mode) : tf.pad(x, paddings, o.value ?? 0)).dataSync() as Float32Array;
}

describeGpu('pad', () => {
  for (const [shape, options] of CASES) {
    const name = `x=[${shape}] ${describeOptions(options)}`;
    it(name, async () => {
      const rt = testRuntime();
      await useCpuBackend();
      const { seed, random } = randomSource();
      const label = `pad ${name} seed=${seed}`;
      const x = randomTensor(shape, random);
      const y = padRef(x, options);
      expect(Array.from(tfjsPad(x.data, shape, options))).toEqual(Array.from(y.data));
      const dy = randomTensor(y.shape, random);
      await expectMatchesReference(rt, pad(rt, toGpu(rt, x), options), y, `${label} forward`);
      const expected = padBackwardRef(dy, shape, options);
      await expectMatchesReference(rt, padBackward(rt, toGpu(rt, dy), shape, options), expected, `${label} backward-input`);
      expectReferenceGradient(expected, finiteDifferenceVjp((t) => padRef(t, options), x, dy), label);
    });
  }

  it('mirror padding: REFLECT [a b c] by 2 -> c b [a b c] b a, SYMMETRIC by 2 -> b a [a b c] c b; gradients sum the mirrors', async () => {
    const rt = testRuntime();
    const x = rt.upload([1, 3], [1, 2, 3]);
    const paddings = [[0, 0], [2, 2]] as const;
    expect(Array.from(await rt.read(pad(rt, x, { paddings, mode: 'reflect' })))).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(Array.from(await rt.read(pad(rt, x, { paddings, mode: 'symmetric' })))).toEqual([2, 1, 1, 2, 3, 3, 2]);
    const dy = rt.upload([1, 7], [1, 10, 100, 1000, 10000, 100000, 1000000]);
    // REFLECT: a is read at 2 and 6; b at 1, 3, 5; c at 0, 4
    expect(Array.from(await rt.read(padBackward(rt, dy, [1, 3], { paddings, mode: 'reflect' })))).toEqual([1000100, 101010, 10001]);
  });

  it('rejects bad paddings and shapes before any GPU work', () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 1], [0, 0, 0, 0]);
    const zero = [[0, 0], [1, 1], [1, 1], [0, 0]] as const;
    expect(() => pad(rt, x, { paddings: zero.slice(0, 3) })).toThrow(/paddings has 3 \[before, after\] pairs for the 4 axes of \[1, 2, 2, 1\]/);
    expect(() => pad(rt, x, { paddings: [[0, 0], [1, -1], [0, 0], [0, 0]] })).toThrow(OptionError);
    expect(() => pad(rt, x, { paddings: [[0, 0], [1.5, 0], [0, 0], [0, 0]] })).toThrow(/paddings\[1\] = \[1.5, 0\] must be non-negative integers/);
    expect(() => pad(rt, x, { paddings: [[0, 0], [2, 0], [0, 0], [0, 0]], mode: 'reflect' })).toThrow(/reflect padding \[2, 0\] of axis 1 \(size 2\) exceeds 1/);
    expect(() => pad(rt, x, { paddings: [[0, 0], [3, 0], [0, 0], [0, 0]], mode: 'symmetric' })).toThrow(/exceeds 2/);
    expect(() => pad(rt, x, { paddings: zero, value: Number.NaN })).toThrow(/fill value must be a finite number/);
    expect(() => padBackward(rt, x, [1, 2, 2, 1], { paddings: zero })).toThrow(ShapeError);
  });
});
