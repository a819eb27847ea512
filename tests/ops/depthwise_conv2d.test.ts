import { expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import type { Activation } from '../../src/ops/activation.js';
import {
  depthwiseConv2d,
  depthwiseConv2dBackward,
  depthwiseConv2dBackwardFilter,
  depthwiseConv2dBackwardInput,
  depthwiseConv2dOutputShape,
} from '../../src/ops/depthwise_conv2d.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import {
  activationBackwardFromOutputRef,
  depthwiseConv2dBackwardFilterRef,
  depthwiseConv2dBackwardInputRef,
  depthwiseConv2dRef,
  type DepthwiseRefOptions,
} from '../reference/depthwise_conv2d.js';
import { sumToChannelsRef } from '../reference/reduce.js';
import { randomTensor } from '../reference/tensor.js';

interface Case {
  x: number[];
  f: number[];
  s: [number, number];
  d: [number, number];
  p: 'valid' | 'same';
  act: Activation;
  bias: boolean;
}

const CASES: Case[] = [
  { x: [1, 7, 5, 3], f: [3, 3, 3, 1], s: [1, 1], d: [1, 1], p: 'valid', act: 'relu', bias: true },
  // channels a multiple of the kernels' 4-channel blocks (the other cases end in partial blocks)
  { x: [2, 6, 5, 8], f: [3, 3, 8, 1], s: [1, 1], d: [1, 1], p: 'same', act: 'relu6', bias: true },
  { x: [3, 7, 5, 3], f: [3, 3, 3, 2], s: [1, 1], d: [1, 1], p: 'same', act: 'linear', bias: true },
  { x: [1, 7, 5, 13], f: [3, 3, 13, 2], s: [2, 2], d: [1, 1], p: 'same', act: 'relu6', bias: true },
  { x: [3, 5, 7, 3], f: [2, 3, 3, 1], s: [2, 1], d: [1, 1], p: 'valid', act: 'sigmoid', bias: false },
  { x: [1, 9, 8, 3], f: [3, 3, 3, 2], s: [1, 1], d: [2, 2], p: 'same', act: 'linear', bias: false },
  { x: [3, 7, 5, 13], f: [1, 1, 13, 1], s: [2, 2], d: [1, 1], p: 'valid', act: 'relu', bias: true },
  { x: [1, 9, 9, 3], f: [5, 5, 3, 3], s: [1, 1], d: [1, 1], p: 'same', act: 'relu6', bias: true },
  { x: [1, 11, 10, 3], f: [3, 3, 3, 1], s: [1, 1], d: [2, 2], p: 'valid', act: 'sigmoid', bias: true },
  // even input, stride 2, 5x5 'same': 3 padding rows split 1 above / 2 below
  { x: [1, 8, 6, 3], f: [5, 5, 3, 1], s: [2, 2], d: [1, 1], p: 'same', act: 'linear', bias: true },
  // stride and dilation together (TF's op refuses this; the geometry is still well defined)
  { x: [3, 7, 5, 3], f: [2, 3, 3, 2], s: [2, 1], d: [2, 2], p: 'same', act: 'relu', bias: false },
  { x: [1, 7, 5, 13], f: [5, 5, 13, 1], s: [2, 2], d: [1, 1], p: 'valid', act: 'relu6', bias: false },
];

/** Input scale per activation: large enough that ReLU6 is cut at 6 and sigmoid saturates somewhere. */
const X_SCALE: Record<Activation, number> = { linear: 1, relu: 1, relu6: 4, sigmoid: 2 };

function caseName(c: Case): string {
  return `x=[${c.x}] f=[${c.f}] s=${c.s.join('x')} d=${c.d.join('x')} p=${c.p} ${c.act}${c.bias ? ' bias' : ''}`;
}

describeGpu('depthwiseConv2d', () => {
  for (const c of CASES) {
    it(caseName(c), async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const label = `depthwiseConv2d ${caseName(c)} seed=${seed}`;
      const options = { strides: c.s, dilations: c.d, padding: c.p, activation: c.act } as const;
      const refOptions: DepthwiseRefOptions = { strides: c.s, dilations: c.d, padding: c.p, activation: c.act };
      const linear: DepthwiseRefOptions = { ...refOptions, activation: 'linear' };

      const x = randomTensor(c.x, random, X_SCALE[c.act]);
      const filter = randomTensor(c.f, random);
      const bias = c.bias ? randomTensor([c.f[2] * c.f[3]], random) : undefined;
      const expectedY = depthwiseConv2dRef(x, filter, bias, refOptions);
      const dy = randomTensor(expectedY.shape, random);
      expect(depthwiseConv2dOutputShape(c.x, c.f, options)).toEqual(expectedY.shape);

      const xGpu = toGpu(rt, x);
      const filterGpu = toGpu(rt, filter);
      const y = depthwiseConv2d(rt, xGpu, filterGpu, bias && toGpu(rt, bias), options);
      await expectMatchesReference(rt, y, expectedY, `${label} forward`);

      // the activation's backward uses the GPU's y, as the engine does (see activationBackwardFromOutputRef)
      const dz = activationBackwardFromOutputRef(dy, await rt.read(y), c.act);
      const grads = depthwiseConv2dBackward(rt, { x: xGpu, filter: filterGpu, y, dy: toGpu(rt, dy) }, options, { input: true, filter: true, bias: c.bias });
      const expectedDx = depthwiseConv2dBackwardInputRef(dz, filter, c.x, refOptions);
      const expectedDw = depthwiseConv2dBackwardFilterRef(x, dz, c.f, refOptions);
      await expectMatchesReference(rt, grads.input!, expectedDx, `${label} backward-input`);
      await expectMatchesReference(rt, grads.filter!, expectedDw, `${label} backward-filter`);
      if (c.bias) await expectMatchesReference(rt, grads.bias!, sumToChannelsRef(dz), `${label} backward-bias`);
      else expect(grads.bias).toBeUndefined();

      // the reference backward against finite differences of the reference (linear part) forward
      expectReferenceGradient(expectedDx, finiteDifferenceVjp((t) => depthwiseConv2dRef(t, filter, bias, linear), x, dz), `${label} input`);
      expectReferenceGradient(expectedDw, finiteDifferenceVjp((t) => depthwiseConv2dRef(x, t, bias, linear), filter, dz), `${label} filter`);
      if (bias) expectReferenceGradient(sumToChannelsRef(dz), finiteDifferenceVjp((t) => depthwiseConv2dRef(x, filter, t, linear), bias, dz), `${label} bias`);
    });
  }

  it('backward with linear activation needs no y; pieces match the fused backward', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const shape = { x: [2, 6, 5, 3], f: [3, 2, 3, 2] };
    const options = { strides: 2, padding: 'same' } as const;
    const refOptions: DepthwiseRefOptions = { strides: [2, 2], dilations: [1, 1], padding: 'same' };
    const x = randomTensor(shape.x, random);
    const filter = randomTensor(shape.f, random);
    const dy = randomTensor(depthwiseConv2dOutputShape(shape.x, shape.f, options), random);
    const [xGpu, filterGpu, dyGpu] = [x, filter, dy].map((t) => toGpu(rt, t));
    const label = `depthwiseConv2d x=[${shape.x}] f=[${shape.f}] s=2 p=same unfused seed=${seed}`;
    const grads = depthwiseConv2dBackward(rt, { x: xGpu, filter: filterGpu, dy: dyGpu }, options, { filter: true });
    expect(grads.input).toBeUndefined();
    await expectMatchesReference(rt, grads.filter!, depthwiseConv2dBackwardFilterRef(x, dy, shape.f, refOptions), `${label} backward-filter`);
    await expectMatchesReference(rt, depthwiseConv2dBackwardInput(rt, dyGpu, filterGpu, shape.x, options), depthwiseConv2dBackwardInputRef(dy, filter, shape.x, refOptions), `${label} backward-input`);
  });

  it('x=[1,3,3,1] f=[2,2,1,1] p=same by hand: TF pads the odd row/column at the bottom/right', async () => {
    const rt = testRuntime();
    const x = rt.upload([1, 3, 3, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const y = depthwiseConv2d(rt, x, rt.upload([2, 2, 1, 1], [1, 1, 1, 1]), rt.upload([1], [0.5]), { padding: 'same' });
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expect(Array.from(await rt.read(y))).toEqual([12, 16, 9, 24, 28, 15, 15, 17, 9].map((v) => v + 0.5));
  });

  it('rejects bad shapes and options with clear messages', () => {
    const rt = testRuntime();
    const t = (shape: number[]): Tensor => rt.upload(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
    const fails = (f: () => unknown, type: typeof ShapeError | typeof OptionError, message: RegExp) => {
      expect(f).toThrow(type);
      expect(f).toThrow(message);
    };
    const x = t([1, 5, 5, 3]);
    const filter = t([3, 3, 3, 2]);
    fails(() => depthwiseConv2d(rt, t([5, 5, 3]), filter, undefined), ShapeError, /x \(NHWC\) must have rank 4, got \[5, 5, 3\]/);
    fails(() => depthwiseConv2d(rt, x, t([3, 3, 6]), undefined), ShapeError, /filter \(\[KH, KW, C, M\]\) must have rank 4/);
    fails(() => depthwiseConv2d(rt, x, t([3, 3, 4, 2]), undefined), ShapeError, /filter \[3, 3, 4, 2\] is for 4 input channels but x \[1, 5, 5, 3\] has 3/);
    fails(() => depthwiseConv2d(rt, x, filter, t([3])), ShapeError, /bias .* has shape \[3\], expected \[6\]/);
    fails(() => depthwiseConv2d(rt, x, t([7, 3, 3, 1]), undefined, { padding: 'valid' }), ShapeError, /7x3 window .* does not fit a 5x5 input/);
    fails(() => depthwiseConv2d(rt, x, filter, undefined, { strides: 0 }), OptionError, /strides must be a positive integer/);
    fails(() => depthwiseConv2d(rt, x, filter, undefined, { dilations: [1, 1.5] }), OptionError, /dilations must be/);
    fails(() => depthwiseConv2d(rt, x, filter, undefined, { padding: 'full' as 'same' }), OptionError, /padding must be 'valid' or 'same'/);
    fails(() => depthwiseConv2d(rt, x, filter, undefined, { activation: 'gelu' as Activation }), OptionError, /unknown activation 'gelu'/);
    // valid 3x3 on 5x5 -> dy [1, 3, 3, 6]
    fails(() => depthwiseConv2dBackwardInput(rt, t([1, 3, 3, 3]), filter, [1, 5, 5, 3]), ShapeError, /dy \(output gradient\) has shape \[1, 3, 3, 3\], expected \[1, 3, 3, 6\]/);
    fails(() => depthwiseConv2dBackwardInput(rt, t([1, 3, 3, 6]), filter, [5, 5, 3]), ShapeError, /inputShape \(NHWC\) must have rank 4/);
    fails(() => depthwiseConv2dBackwardFilter(rt, x, t([1, 5, 5, 6]), [3, 3, 3, 2]), ShapeError, /dy \(output gradient\) has shape \[1, 5, 5, 6\], expected \[1, 3, 3, 6\]/);
    fails(() => depthwiseConv2dBackwardFilter(rt, x, t([1, 3, 3, 6]), [3, 3, 2, 3]), ShapeError, /is for 2 input channels but x \[1, 5, 5, 3\] has 3/);
    const dy = t([1, 3, 3, 6]);
    fails(() => depthwiseConv2dBackward(rt, { x, filter, dy }, { activation: 'relu' }), ShapeError, /forward output y is needed for the 'relu' activation/);
    fails(() => depthwiseConv2dBackward(rt, { x, filter, y: t([1, 3, 3, 3]), dy }, { activation: 'relu' }), ShapeError, /y \(forward output\) has shape \[1, 3, 3, 3\]/);
  });
});
