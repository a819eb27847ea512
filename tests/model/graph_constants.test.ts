/**
 * The load-time constant evaluator (src/model/loaders/graph_constants.ts) op by op against TF.js's
 * own ops on the same values (StridedSlice masks, broadcasting, Prod, Cast, Range...). CPU only.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedModelError } from '../../src/model/loaders/files.js';
import { Folder, type FoldNode } from '../../src/model/loaders/graph_constants.js';
import type { WeightData } from '../../src/model/spec.js';
import { randomSource } from '../check.js';
import { useCpuBackend } from './tfjs_oracle.js';

/** Folds `op` applied to constant inputs (and, for Shape, an activation of shape `activation`). */
function fold(op: string, inputs: WeightData[], attr: FoldNode['attr'] = {}, activation?: number[]): WeightData | undefined {
  const names = inputs.map((_, i) => `c${i}`);
  const nodes = new Map<string, FoldNode>(names.map((n) => [n, { name: n, op: 'Const' }]));
  nodes.set('a', { name: 'a', op: 'Placeholder' });
  nodes.set('out', { name: 'out', op, attr });
  const folder = new Folder({
    source: 'test',
    node: (name) => nodes.get(name)!,
    inputs: (name) => (name === 'out' ? (activation ? ['a'] : names) : []),
    weight: (name) => inputs[names.indexOf(name)],
    activationShape: (name) => (name === 'a' ? activation : undefined),
  });
  return folder.value('out');
}

const ints = (values: number[], shape = [values.length]): WeightData => ({ shape, data: Float32Array.from(values) });
const host = (t: tf.Tensor) => ({ shape: t.shape, data: [...t.dataSync()] });
// + 0 turns -0 into 0: TF.js computes these in int32, where there is no -0
const plain = (w: WeightData | undefined) => w && { shape: w.shape, data: [...w.data].map((v) => v + 0) };

describe('graph constant folding (CPU) vs TF.js ops', () => {
  beforeAll(useCpuBackend);

  it('StridedSlice over x=[3,4,5] with begin/end/ellipsis/new-axis/shrink masks and negative strides', () => {
    const { seed, random } = randomSource();
    const x = ints(Array.from({ length: 60 }, () => Math.round(random() * 100)), [3, 4, 5]);
    const cases: [number[], number[], number[], number, number, number, number, number][] = [
      // begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask
      [[0], [1], [1], 0, 0, 0, 0, 1],
      [[1, 0], [3, -1], [1, 2], 0, 0, 0, 0, 0],
      [[-1, 3, 4], [0, 0, 0], [-1, -1, -2], 0, 7, 0, 0, 0],
      [[0, 1], [0, 3], [1, 1], 1, 1, 1, 0, 0],
      [[0, 0, 2], [0, 0, 4], [1, 1, 1], 0, 0, 2, 1, 0],
      [[1, 2, -1], [2, 3, 0], [1, 1, 1], 0, 4, 0, 0, 3],
      [[-10, 1], [10, 100], [2, 1], 0, 0, 0, 0, 0],
    ];
    for (const [begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask] of cases) {
      const label = `begin=[${begin}] end=[${end}] strides=[${strides}] masks=${beginMask},${endMask},${ellipsisMask},${newAxisMask},${shrinkMask} seed=${seed}`;
      const attr = { begin_mask: { i: beginMask }, end_mask: { i: endMask }, ellipsis_mask: { i: ellipsisMask }, new_axis_mask: { i: newAxisMask }, shrink_axis_mask: { i: shrinkMask } };
      const got = fold('StridedSlice', [x, ints(begin), ints(end), ints(strides)], attr);
      const expected = tf.tidy(() => host(tf.stridedSlice(tf.tensor(x.data, x.shape), begin, end, strides, beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask)));
      expect(plain(got), label).toEqual(expected);
    }
  });

  it('broadcasting arithmetic [2,1,3] op [4,1], Prod over axes, Cast, Range, Fill, Pack axis 1, ConcatV2 axis 1, Slice, GatherV2', () => {
    const { seed, random } = randomSource();
    const a = ints(Array.from({ length: 6 }, () => Math.round(random() * 20) - 10), [2, 1, 3]);
    const b = ints(Array.from({ length: 4 }, () => Math.round(random() * 9) + 1), [4, 1]);
    const ta = () => tf.tensor(a.data, a.shape, 'int32');
    const tb = () => tf.tensor(b.data, b.shape, 'int32');
    const ops: [string, () => tf.Tensor][] = [
      ['Mul', () => tf.mul(ta(), tb())], ['AddV2', () => tf.add(ta(), tb())], ['Sub', () => tf.sub(ta(), tb())],
      ['FloorDiv', () => tf.floorDiv(ta(), tb())], ['Maximum', () => tf.maximum(ta(), tb())],
    ];
    for (const [op, reference] of ops) expect(plain(fold(op, [a, b])), `${op} seed=${seed}`).toEqual(tf.tidy(() => host(reference())));
    expect(plain(fold('Prod', [a, ints([0, -1])], { keep_dims: { b: true } }))).toEqual(tf.tidy(() => host(tf.prod(ta(), [0, 2], true))));
    expect(plain(fold('Prod', [a, ints([2])]))).toEqual(tf.tidy(() => host(tf.prod(ta(), 2))));
    expect(plain(fold('Cast', [ints([1.7, -1.7, 0], [3])], { DstT: { type: 'DT_INT32' } }))).toEqual({ shape: [3], data: [1, -1, 0] });
    expect(plain(fold('Range', [ints([3], []), ints([-4], []), ints([-2], [])]))).toEqual(tf.tidy(() => host(tf.range(3, -4, -2))));
    expect(plain(fold('Fill', [ints([2, 3]), ints([7], [])]))).toEqual({ shape: [2, 3], data: [7, 7, 7, 7, 7, 7] });
    const p = ints([1, 2, 3, 4], [2, 2]);
    const q = ints([5, 6, 7, 8], [2, 2]);
    const tp = () => tf.tensor(p.data, p.shape);
    const tq = () => tf.tensor(q.data, q.shape);
    expect(plain(fold('Pack', [p, q], { axis: { i: 1 } }))).toEqual(tf.tidy(() => host(tf.stack([tp(), tq()], 1))));
    expect(plain(fold('ConcatV2', [p, q, ints([-1], [])]))).toEqual(tf.tidy(() => host(tf.concat([tp(), tq()], 1))));
    expect(plain(fold('Slice', [a, ints([1, 0, 1]), ints([1, -1, 2])]))).toEqual(tf.tidy(() => host(tf.slice(ta(), [1, 0, 1], [1, -1, 2]))));
    const indices = ints([2, 0, 2, 1], [2, 2]);
    expect(plain(fold('GatherV2', [a, indices, ints([-1], [])], { batch_dims: { i: 0 } }))).toEqual(tf.tidy(() => host(tf.gather(ta(), tf.tensor(indices.data, indices.shape, 'int32'), 2))));
    expect(plain(fold('GatherV2', [ints([Number.NaN, 7, 5, 3]), ints([1, 3]), ints([0], [])]))).toEqual({ shape: [2], data: [7, 3] });
  });

  it('Shape of an activation carries the unknown batch as NaN; bad inputs are typed errors', () => {
    expect(plain(fold('Shape', [], {}, [Number.NaN, 4, 4, 3]))).toEqual({ shape: [4], data: [Number.NaN, 4, 4, 3] });
    expect(() => fold('Fill', [ints([Number.NaN, 2]), ints([0], [])])).toThrow(/dims \[NaN, 2\] must be known integers \(it depends on the batch size/);
    expect(() => fold('Mul', [ints([1, 2, 3]), ints([1, 2])])).toThrow(UnsupportedModelError);
    expect(() => fold('Reshape', [ints([1, 2, 3]), ints([2, -1])])).toThrow(/cannot reshape \[3\] to \[2, -1\]/);
  });
});
