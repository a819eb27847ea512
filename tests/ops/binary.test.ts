import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { binary, binaryBackward, type BinaryOp } from '../../src/ops/binary.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { binaryBackwardRef, binaryRef } from '../reference/binary.js';
import { randomTensor, refTensor, type RefTensor } from '../reference/tensor.js';

const OPS: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];

/**
 * [a, b]: equal shapes, squeeze-and-excitation both ways, a channel broadcast, both inputs
 * broadcast, rank 2, and reductions longer than one chunk of 256 terms (437: two chunks, the
 * second ragged; 2697 terms onto one element: eleven).
 */
const PATTERNS: [number[], number[]][] = [
  [[2, 5, 7, 3], [2, 5, 7, 3]],
  [[2, 5, 7, 13], [2, 1, 1, 13]],
  [[2, 1, 1, 13], [2, 5, 7, 13]],
  [[1, 3, 5, 1], [1, 3, 5, 11]],
  [[2, 1, 7, 3], [2, 5, 1, 3]],
  [[3, 1], [3, 11]],
  [[2, 23, 19, 3], [2, 1, 1, 3]],
  [[1, 1, 1, 1], [1, 31, 29, 3]],
];

/** Divisors kept away from zero: |b| in [0.5, 1.5]. */
function awayFromZero(t: RefTensor): RefTensor {
  return refTensor(t.shape, t.data.map((v) => Math.fround(Math.sign(v || 1) * (0.5 + Math.abs(v)))));
}

/**
 * Maximum/minimum inputs on two interleaved grids (multiples of 1/64, and those plus 1/128), so
 * that no pair lies within the finite differences' step of a tie (a kink).
 */
function onGrid(t: RefTensor, offset: number): RefTensor {
  return refTensor(t.shape, t.data.map((v) => Math.round(v * 64) / 64 + offset));
}

describeGpu('binary', () => {
  for (const op of OPS) {
    for (const [aShape, bShape] of PATTERNS) {
      it(`${op} a=[${aShape}] b=[${bShape}]`, async () => {
        const rt = testRuntime();
        const { seed, random } = randomSource();
        const label = `${op} a=[${aShape}] b=[${bShape}] seed=${seed}`;
        const kinked = op === 'maximum' || op === 'minimum';
        const a = kinked ? onGrid(randomTensor(aShape, random), 0) : randomTensor(aShape, random);
        const b = op === 'div' ? awayFromZero(randomTensor(bShape, random)) : kinked ? onGrid(randomTensor(bShape, random), 1 / 128) : randomTensor(bShape, random);
        const expected = binaryRef(op, a, b);
        const dy = randomTensor(expected.shape, random);
        const [ga, gb] = [toGpu(rt, a), toGpu(rt, b)];
        await expectMatchesReference(rt, binary(rt, op, ga, gb), expected, `${label} forward`);
        const reference = binaryBackwardRef(op, a, b, dy);
        expectReferenceGradient(reference.a, finiteDifferenceVjp((t) => binaryRef(op, t, b), a, dy), `${label} da`);
        expectReferenceGradient(reference.b, finiteDifferenceVjp((t) => binaryRef(op, a, t), b, dy), `${label} db`);
        const grads = binaryBackward(rt, op, toGpu(rt, dy), { a: ga, b: gb }, { a: true, b: true });
        await expectMatchesReference(rt, grads.a!, reference.a, `${label} da`);
        await expectMatchesReference(rt, grads.b!, reference.b, `${label} db`);
      });
    }
  }

  it('scale 1/3 (Keras Average) add and sub a=[2,5,7,13] b=[2,1,1,13], gradients from shapes only', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    for (const op of ['add', 'sub'] as const) {
      const label = `${op} scale=1/3 seed=${seed}`;
      const a = randomTensor([2, 5, 7, 13], random);
      const b = randomTensor([2, 1, 1, 13], random);
      const dy = randomTensor(a.shape, random);
      await expectMatchesReference(rt, binary(rt, op, toGpu(rt, a), toGpu(rt, b), 1 / 3), binaryRef(op, a, b, 1 / 3), `${label} forward`);
      const reference = binaryBackwardRef(op, a, b, dy, 1 / 3);
      expectReferenceGradient(reference.b, finiteDifferenceVjp((t) => binaryRef(op, a, t, 1 / 3), b, dy), `${label} db`);
      const grads = binaryBackward(rt, op, toGpu(rt, dy), { a: a.shape, b: b.shape }, { a: true, b: true }, 1 / 3);
      await expectMatchesReference(rt, grads.a!, reference.a, `${label} da`);
      await expectMatchesReference(rt, grads.b!, reference.b, `${label} db`);
    }
  });

  it('maximum/minimum ties send the whole gradient to the first input (TF) a=b=[1,2,3,5]', async () => {
    const rt = testRuntime();
    const values = Array.from({ length: 30 }, (_, i) => (i % 7) - 3);
    const dy = Array.from({ length: 30 }, (_, i) => i + 1);
    for (const op of ['maximum', 'minimum'] as const) {
      const x = rt.upload([1, 2, 3, 5], values);
      const grads = binaryBackward(rt, op, rt.upload([1, 2, 3, 5], dy), { a: x, b: rt.upload([1, 2, 3, 5], values) }, { a: true, b: true });
      expect([...(await rt.read(grads.a!))], `${op} da`).toEqual(dy);
      expect([...(await rt.read(grads.b!))], `${op} db`).toEqual(new Array(30).fill(0));
    }
  });

  it('rejects shapes that do not broadcast and backward without input values, before allocating', () => {
    const rt = testRuntime();
    const a = rt.upload([1, 2, 2, 3], new Array(12).fill(0));
    expect(() => binary(rt, 'mul', a, rt.upload([1, 2, 2, 2], new Array(8).fill(0)))).toThrow(/axis 3: 3 vs 2/);
    expect(() => binary(rt, 'add', a, rt.upload([1, 3], new Array(3).fill(0)))).toThrow(ShapeError);
    expect(() => binaryBackward(rt, 'mul', a, { a: a.shape, b: a.shape }, { a: true, b: false })).toThrow(/needs the values/);
    expect(() => binaryBackward(rt, 'add', rt.upload([1, 2, 2, 1], [0, 0, 0, 0]), { a: a.shape, b: a.shape }, { a: true, b: true })).toThrow(/output gradient/);
  });
});
