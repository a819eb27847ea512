import { expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { adamStep, sgdStep } from '../../src/ops/optimizer.js';
import { relativeError, randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { adamRef, sgdRef } from '../reference/optimizer.js';

const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

describeGpu('optimizer steps', () => {
  // three steps each: the velocity / moments carry over, and Adam's bias corrections change per step
  for (const [size, momentum, weightDecay] of [[1, 0, 0], [67, 0.9, 0], [1031, 0.5, 1e-2]] as const) {
    it(`sgd w=[${size}] momentum=${momentum} weightDecay=${weightDecay}, 3 steps`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      let w = f32(Array.from({ length: size }, () => random() * 2 - 1));
      let v = new Array<number>(size).fill(0);
      const weights = rt.upload([size], w);
      const velocity = rt.upload([size], v);
      for (let step = 0; step < 3; step++) {
        const g = f32(Array.from({ length: size }, () => random() * 2 - 1));
        sgdStep(rt, weights, rt.upload([size], g), velocity, { learningRate: 0.1, momentum, weightDecay });
        ({ w, v } = sgdRef(w, g, v, 0.1, momentum, weightDecay));
      }
      const error = relativeError(await rt.read(weights), w);
      console.log(`[op-error] sgd [${size}] seed=${seed}: ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-5);
      expect(relativeError(await rt.read(velocity), v)).toBeLessThan(1e-5);
    });
  }

  for (const [size, weightDecay] of [[1, 0], [67, 0], [1031, 1e-2]] as const) {
    it(`adam w=[${size}] weightDecay=${weightDecay}, 3 steps`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      let w = f32(Array.from({ length: size }, () => random() * 2 - 1));
      let m = new Array<number>(size).fill(0);
      let v = new Array<number>(size).fill(0);
      const weights = rt.upload([size], w);
      const first = rt.upload([size], m);
      const second = rt.upload([size], v);
      const o = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay };
      for (let step = 1; step <= 3; step++) {
        // gradients of mixed magnitude: Adam's step is about lr whatever the scale
        const g = f32(Array.from({ length: size }, () => (random() * 2 - 1) * 10 ** Math.floor(random() * 4 - 2)));
        adamStep(rt, weights, rt.upload([size], g), first, second, { learningRate: o.lr, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon, weightDecay, step });
        ({ w, m, v } = adamRef(w, g, m, v, { ...o, step }));
      }
      const error = relativeError(await rt.read(weights), w);
      console.log(`[op-error] adam [${size}] seed=${seed}: ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-5);
      expect(relativeError(await rt.read(first), m)).toBeLessThan(1e-5);
      expect(relativeError(await rt.read(second), v)).toBeLessThan(1e-5);
    });
  }

  it('a state tensor of another size is a ShapeError', () => {
    const rt = testRuntime();
    const w = rt.upload([3], [1, 2, 3]);
    expect(() => sgdStep(rt, w, rt.upload([3], [0, 0, 0]), rt.upload([2], [0, 0]), { learningRate: 1, momentum: 0, weightDecay: 0 })).toThrow(ShapeError);
  });
});
