import { expect, it } from 'vitest';
import type { ExplainContext } from '../../src/explain/context.js';
import { guidedBackprop } from '../../src/explain/guided_backprop.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { INPUT, Model } from '../../src/model/model.js';
import type { ModelSpec } from '../../src/model/spec.js';
import { randomSource, toGpu } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { randomInput, residualCnn, sigmoidHead, tinyCnn } from '../model/fixtures.js';
import { referenceBackward, referenceForward, scoreSeed } from '../reference/model.js';
import { relativeL2, type RefTensor } from '../reference/tensor.js';
import { argmax } from './reference.js';

function context(rt: Runtime, spec: ModelSpec): ExplainContext {
  return { model: Model.create(rt, spec), rt, inputRange: [-1, 1], maxChunk: 256 };
}

function referenceMap(spec: ModelSpec, x: RefTensor, node: string, target: number, rule: 'gradient' | 'guided'): Float64Array {
  const shape = referenceForward(spec, x).get(node)!.shape;
  return referenceBackward(spec, x, new Map([[node, scoreSeed(shape, [target])]]), { rule }).gradients.get('input')!.data as Float64Array;
}

// tinyCnn: fused ReLU and ReLU6 convs; residualCnn: ReLU layers, a fused-ReLU6 depthwise conv and a
// residual add; sigmoidHead: fused-ReLU depthwise conv and dense, a sigmoid conv the rule leaves alone
const CASES = [
  { name: 'tinyCnn x=[1,9,7,3]', build: tinyCnn, targets: ['top', 3] as const },
  { name: 'residualCnn x=[1,8,8,3]', build: residualCnn, targets: ['top', 1] as const },
  { name: 'sigmoidHead x=[1,10,8,2]', build: sigmoidHead, targets: ['top'] as const },
];

describeGpu('guidedBackprop', () => {
  for (const c of CASES) {
    it(`${c.name}: the guided reference in float64, and it differs from the gradient`, async () => {
      const rt = testRuntime();
      const { seed, random } = randomSource();
      const spec = c.build(random);
      const ctx = context(rt, spec);
      const classOf = (input: RefTensor, target: 'top' | number) => (target === 'top' ? argmax(referenceForward(spec, input).get('logits')!.data) : target);
      // an input where the rule changes every target's float64 map, so that matching the guided one
      // tells the rules apart (seed 1561646957 drew one where residualCnn's top class moved 9.7e-5)
      const ruleMatters = (input: RefTensor) =>
        c.targets.every((target) => relativeL2(referenceMap(spec, input, 'logits', classOf(input, target), 'gradient'), referenceMap(spec, input, 'logits', classOf(input, target), 'guided')) > 1e-2);
      let x = randomInput(spec, 1, random);
      for (let draw = 1; draw < 8 && !ruleMatters(x); draw++) x = randomInput(spec, 1, random);
      const inUse = rt.pool.buffersInUse;
      for (const target of c.targets) {
        const t = classOf(x, target);
        const label = `guided ${c.name} target=${target} seed=${seed}`;
        const result = await guidedBackprop(ctx, x, { target });
        expect(result.method).toBe('guided-backprop');
        expect(result.target).toBe(t);
        const guided = referenceMap(spec, x, 'logits', t, 'guided');
        const plain = referenceMap(spec, x, 'logits', t, 'gradient');
        const error = relativeL2(result.values, guided);
        const apart = relativeL2(plain, guided);
        console.log(`[explain-error] ${label} ${error.toExponential(2)} (gradient vs guided: ${apart.toExponential(2)})`);
        expect(error, label).toBeLessThanOrEqual(1e-4);
        expect(apart, `${label}: the rule changes the map`).toBeGreaterThan(1e-2);
      }
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);
    });
  }

  it('Model.backward rule: gradient is the default; an unknown rule throws before any GPU work', async () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const spec = tinyCnn(random);
    const model = Model.create(rt, spec);
    const x = toGpu(rt, randomInput(spec, 1, random));
    const pass = model.forward(x, { forBackward: true });
    const seed = toGpu(rt, scoreSeed([1, 5], [2]));
    await rt.flush();
    const before = { pending: rt.pendingCommands, buffers: rt.pool.buffersInUse };
    expect(() => model.backward(pass, new Map([[model.logitsName, seed]]), { to: [INPUT], rule: 'deconvnet' as never })).toThrow(/unknown rule 'deconvnet' \(use gradient, guided or rescale\)/);
    expect({ pending: rt.pendingCommands, buffers: rt.pool.buffersInUse }).toEqual(before);
    pass.dispose();
  });
});
