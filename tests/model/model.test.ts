/**
 * The GPU graph executor (src/model/model.ts) against the float64 reference executor
 * (tests/reference/model.ts) on the fixtures of tests/model/fixtures.ts: every node's forward,
 * gradients to the input and to intermediate nodes, weight gradients, gradient accumulation in a
 * DAG, typed errors, FLOPs, the batch limit and buffer bookkeeping.
 */
import { describe, expect, it } from 'vitest';
import { LimitError, ShapeError, XaiError } from '../../src/errors.js';
import { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { UnsupportedModelError } from '../../src/model/loaders/files.js';
import { INPUT, Model } from '../../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import { expectMatchesReference, expectReferenceGradient, finiteDifferenceVjp, randomSource, toGpu } from '../check.js';
import type { KernelVariant } from '../../src/gpu/variants.js';
import { KERNEL_VARIANTS, describeGpu, testRuntime } from '../gpu.js';
import { REF_INPUT, referenceBackward, referenceForward, referenceScoreGradient, scoreSeed } from '../reference/model.js';
import { referenceDeepLift } from '../reference/deeplift.js';
import { randomTensor, refTensor, seededRandom, type RefTensor } from '../reference/tensor.js';
import { build, decoderCnn, diamondCnn, inputShapeOf, mergeCnn, randomInput, residualCnn, sigmoidHead, tinyCnn } from './fixtures.js';

type Random = () => number;

interface Fixture {
  name: string;
  make: (random: Random) => ModelSpec;
  /** A conv feature map, as Grad-CAM would target. */
  intermediate: string;
}

const FIXTURES: Fixture[] = [
  { name: 'tinyCnn', make: tinyCnn, intermediate: 'conv2' },
  { name: 'residualCnn', make: residualCnn, intermediate: 'relu2' },
  { name: 'sigmoidHead', make: sigmoidHead, intermediate: 'dwconv' },
  { name: 'diamondCnn', make: diamondCnn, intermediate: 'conv1' },
  { name: 'decoderCnn', make: decoderCnn, intermediate: 'deconv' },
  { name: 'mergeCnn', make: mergeCnn, intermediate: 'excite' },
];

const outputShape = (spec: ModelSpec, node: string, x: RefTensor) => referenceForward(spec, x).get(node)!.shape;
const randomTargets = (batch: number, classes: number, random: Random) => Array.from({ length: batch }, () => Math.floor(random() * classes));

/** A fresh runtime (on kernel variant `kernels`, default the device's), seed, fixture, model and input batch. */
function setup(fixture: Fixture, batch: number, kernels?: KernelVariant) {
  const rt = testRuntime(kernels);
  const { seed, random } = randomSource();
  const spec = fixture.make(random);
  const model = Model.create(rt, spec);
  const x = randomInput(spec, batch, random);
  const label = `${fixture.name} x=[${x.shape}] seed=${seed}`;
  return { rt, random, spec, model, x, xGpu: toGpu(rt, x), label };
}

async function expectAllMatch(rt: Runtime, actual: Map<string, Tensor>, expected: Map<string, RefTensor>, label: string): Promise<void> {
  expect([...actual.keys()].sort(), `${label}: keys`).toEqual([...expected.keys()].sort());
  for (const [node, tensor] of actual) await expectMatchesReference(rt, tensor, expected.get(node)!, `${label} '${node}'`);
}

// Every fixture on both kernel variants: a hardware GPU runs the tiled ones, which this adapter would not pick.
for (const kernels of KERNEL_VARIANTS) describeGpu(`model executor vs float64 reference [${kernels} kernels]`, () => {
  for (const fixture of FIXTURES) {
    for (const batch of [1, 3]) {
      const shape = `x=[${batch},${inputShapeOf(fixture.make(seededRandom(0)))}]`;

      it(`${fixture.name} ${shape} forward of every node`, async () => {
        const { rt, spec, model, x, xGpu, label } = setup(fixture, batch, kernels);
        const pass = model.forward(xGpu, { keep: [...model.order] });
        const expected = referenceForward(spec, x);
        for (const node of model.order) await expectMatchesReference(rt, pass.value(node), expected.get(node)!, `${label} forward '${node}'`);
        pass.dispose();
      });

      it(`${fixture.name} ${shape} input gradient from a logit seed`, async () => {
        const { rt, random, spec, model, x, xGpu, label } = setup(fixture, batch, kernels);
        const logits = outputShape(spec, model.logitsName, x);
        const targets = randomTargets(batch, logits[logits.length - 1], random);
        const pass = model.forward(xGpu, { forBackward: true });
        const seed = toGpu(rt, scoreSeed(logits, targets));
        const { gradients } = model.backward(pass, new Map([[model.logitsName, seed]]));
        pass.dispose();
        await expectMatchesReference(rt, gradients.get(INPUT)!, referenceScoreGradient(spec, x, model.logitsName, targets), `${label} d logit[${targets}] / d input`);
      });

      it(`${fixture.name} ${shape} gradients to the input and '${fixture.intermediate}'; mean-activation seed`, async () => {
        const { rt, random, spec, model, x, xGpu, label } = setup(fixture, batch, kernels);
        const logits = outputShape(spec, model.logitsName, x);
        const targets = randomTargets(batch, logits[logits.length - 1], random);
        const pass = model.forward(xGpu, { forBackward: true });
        const to = [INPUT, fixture.intermediate];
        const { gradients } = model.backward(pass, new Map([[model.logitsName, toGpu(rt, scoreSeed(logits, targets))]]), { to });
        const expected = referenceBackward(spec, x, new Map([[model.logitsName, scoreSeed(logits, targets)]]), { to });
        await expectAllMatch(rt, gradients, expected.gradients, `${label} d logit[${targets}] /`);

        // score = mean over positions of one channel of the feature map (a second backward on the same pass)
        const feature = outputShape(spec, fixture.intermediate, x);
        const channels = randomTargets(batch, feature[feature.length - 1], random);
        const scale = (feature[0] * feature[feature.length - 1]) / feature.reduce((a, b) => a * b, 1);
        const channelSeed = toGpu(rt, scoreSeed(feature, channels, scale));
        const mean = model.backward(pass, new Map([[fixture.intermediate, channelSeed]]));
        pass.dispose();
        await expectMatchesReference(rt, mean.gradients.get(INPUT)!, referenceScoreGradient(spec, x, fixture.intermediate, channels, scale), `${label} d mean ${fixture.intermediate}[..., ${channels}] / d input`);
      });

      it(`${fixture.name} ${shape} weight gradients from a random output seed`, async () => {
        const { rt, random, spec, model, x, xGpu, label } = setup(fixture, batch, kernels);
        const upstream = randomTensor(outputShape(spec, model.outputName, x), random);
        const pass = model.forward(xGpu, { forBackward: true });
        const result = model.backward(pass, new Map([[model.outputName, toGpu(rt, upstream)]]), { weights: true });
        pass.dispose();
        const expected = referenceBackward(spec, x, new Map([[model.outputName, upstream]]), { weights: true });
        await expectAllMatch(rt, result.gradients, expected.gradients, `${label} d ${model.outputName} /`);
        const withWeights = spec.layers.filter((l) => ['conv2d', 'depthwiseConv2d', 'dense', 'channelAffine', 'conv2dTranspose'].includes(l.kind)).map((l) => l.name);
        expect([...result.weights.keys()].sort(), `${label}: layers with weight gradients`).toEqual(withWeights.sort());
        expect([...expected.weights.keys()].sort()).toEqual(withWeights.sort());
        for (const [layer, grads] of result.weights) {
          await expectAllMatch(rt, new Map(Object.entries(grads)), new Map(Object.entries(expected.weights.get(layer)!)), `${label} d ${model.outputName} / ${layer}.`);
        }
      });
    }
  }
});

describeGpu('model executor', () => {
  it('diamondCnn x=[2,6,5,2]: seeds on a node and downstream of it add up; a node with three consumers sums their gradients', async () => {
    const { rt, random, spec, model, x, xGpu, label } = setup(FIXTURES[3], 2);
    const logits = outputShape(spec, 'logits', x);
    const targets = randomTargets(2, logits[1], random);
    const conv1Seed = randomTensor(outputShape(spec, 'conv1', x), random, 0.1);
    const to = [INPUT, 'conv1', 'merge', 'skip'];
    const seeds = () => new Map([['logits', scoreSeed(logits, targets)], ['conv1', conv1Seed]]);
    const pass = model.forward(xGpu, { forBackward: true });
    const gpuSeeds = new Map([...seeds()].map(([node, t]) => [node, toGpu(rt, t)]));
    const { gradients, weights } = model.backward(pass, gpuSeeds, { to, weights: true });
    pass.dispose();
    const expected = referenceBackward(spec, x, seeds(), { to, weights: true });
    await expectAllMatch(rt, gradients, expected.gradients, `${label} two seeds:`);
    // INPUT is requested, so every layer passes gradient and reports its weights
    expect([...weights.keys()].sort()).toEqual(['conv1', 'left', 'logits', 'right', 'skip']);
    expect([...expected.weights.keys()].sort()).toEqual(['conv1', 'left', 'logits', 'right', 'skip']);
    for (const layer of ['conv1', 'right']) {
      await expectAllMatch(rt, new Map(Object.entries(weights.get(layer)!)), new Map(Object.entries(expected.weights.get(layer)!)), `${label} ${layer}.`);
    }
    // toward 'merge' only: gradient skips the 'skip' branch and the layers above merge, so only logits reports weights
    const pruned = model.forward(xGpu, { forBackward: true });
    const partial = model.backward(pruned, new Map([['logits', toGpu(rt, scoreSeed(logits, targets))]]), { to: ['merge'], weights: true });
    pruned.dispose();
    const partialExpected = referenceBackward(spec, x, new Map([['logits', scoreSeed(logits, targets)]]), { to: ['merge'], weights: true });
    expect([...partial.weights.keys()]).toEqual(['logits']);
    expect([...partialExpected.weights.keys()]).toEqual(['logits']);
    await expectAllMatch(rt, partial.gradients, partialExpected.gradients, `${label} pruned:`);
    // the reference's gradient at conv1 is its seed plus what flows back from its three consumers
    const alone = referenceBackward(spec, x, new Map([['logits', scoreSeed(logits, targets)]]), { to: ['conv1'] }).gradients.get('conv1')!;
    const flowed = expected.gradients.get('conv1')!.data.map((v, i) => v - conv1Seed.data[i]);
    expect(Math.max(...flowed.map((v, i) => Math.abs(v - alone.data[i])))).toBeLessThan(1e-12);
  });

  it('add(input, conv1) and add(res, res): the input and a node read twice by one layer x=[2,5,4,3]', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec: ModelSpec = {
      source: 'twice (model.test.ts)',
      layers: [
        build.input('input', [5, 4, 3]),
        build.conv2d('conv1', 'input', random, { kernel: [3, 3], inChannels: 3, outChannels: 3, padding: 'same', activation: 'relu' }),
        build.add('res', 'input', 'conv1'),
        build.add('double', 'res', 'res'),
        build.globalAvgPool('gap', 'double'),
        build.dense('logits', 'gap', random, { inputs: 3, outputs: 2, activation: 'linear' }),
      ],
      output: 'logits',
    };
    const model = Model.create(rt, spec);
    const x = randomInput(spec, 2, random);
    const label = `twice x=[2,5,4,3] seed=${seed}`;
    const pass = model.forward(toGpu(rt, x), { forBackward: true, keep: ['double'] });
    await expectMatchesReference(rt, pass.value('double'), referenceForward(spec, x).get('double')!, `${label} forward 'double'`);
    const seeds = () => new Map([['logits', scoreSeed([2, 2], [1, 0])]]);
    const to = [INPUT, 'conv1', 'res'];
    const { gradients } = model.backward(pass, new Map([...seeds()].map(([node, t]) => [node, toGpu(rt, t)])), { to });
    pass.dispose();
    await expectAllMatch(rt, gradients, referenceBackward(spec, x, seeds(), { to }).gradients, `${label} d logit /`);
  });

  it('INPUT resolves to an input node of another name; the real name works too (residualCnn image=[1,8,8,3])', async () => {
    const { rt, random, spec, model, x, xGpu, label } = setup(FIXTURES[1], 1);
    expect(model.inputName).toBe('image');
    const seed = scoreSeed([1, 4], randomTargets(1, 4, random));
    const pass = model.forward(xGpu, { forBackward: true });
    const { gradients } = model.backward(pass, new Map([['logits', toGpu(rt, seed)]]), { to: ['image', INPUT] });
    pass.dispose();
    const expected = referenceBackward(spec, x, new Map([['logits', seed]]), { to: ['image', REF_INPUT] });
    await expectAllMatch(rt, gradients, expected.gradients, `${label} d logit /`);
  });

  it('typed errors: unknown nodes, input shape mismatch, backward without forBackward, no gradient path', () => {
    const rt = testRuntime();
    const random = seededRandom(1);
    const model = Model.create(rt, tinyCnn(random));
    const x = rt.upload([1, 9, 7, 3], new Float32Array(189));
    expect(() => model.forward(x, { keep: ['conv9'] })).toThrow(/No layer 'conv9' in tinyCnn/);
    expect(() => model.layer('nope')).toThrow(XaiError);
    expect(() => model.checkInputShape([1, 9, 7, 4])).toThrow(/Input \[1, 9, 7, 4\] does not match the model's input \[N, 9, 7, 3\]/);
    expect(() => model.forward(rt.upload([9, 7, 3], new Float32Array(189)))).toThrow(ShapeError);
    expect(() => model.forward(rt.upload([2, 7, 9, 3], new Float32Array(378)))).toThrow(/\[2, 7, 9, 3\] does not match/);

    const inference = model.forward(x);
    expect(() => model.backward(inference, new Map([['logits', rt.empty([1, 5])]]))).toThrow(/forBackward: true/);
    inference.dispose();

    const pass = model.forward(x, { forBackward: true });
    expect(() => model.backward(pass, new Map([['nope', rt.empty([1, 5])]]))).toThrow(/No layer 'nope'/);
    expect(() => model.backward(pass, new Map([['logits', rt.empty([1, 5])]]), { to: ['conv7'] })).toThrow(/No layer 'conv7'/);
    // probs is downstream of the seed: nothing flows to it
    expect(() => model.backward(pass, new Map([['logits', rt.empty([1, 5])]]), { to: ['probs'] })).toThrow(/No gradient reaches 'probs'/);
    // a seed of the wrong shape is refused before any work is recorded, whatever layer it feeds
    const inUse = rt.pool.buffersInUse;
    const pending = rt.pendingCommands;
    const wrong = rt.empty([3, 5]);
    expect(() => model.backward(pass, new Map([['logits', wrong]]))).toThrow(/the seed for 'logits' is \[3, 5\], but the node's output is \[1, 5\]/);
    expect(rt.pool.buffersInUse).toBe(inUse + 1);
    expect(rt.pendingCommands).toBe(pending + 1); // only the poisoning fill of `wrong`
    pass.dispose();
    expect(() => model.backward(pass, new Map([['logits', rt.empty([1, 5])]]))).toThrow(/this forward pass was disposed/);
  });

  it('typed errors for bad specs: undefined inputs, cycles, duplicates, missing output, input count, shapes', () => {
    const rt = testRuntime();
    const random = seededRandom(2);
    const base = tinyCnn(random);
    const edit = (change: (layers: LayerSpec[]) => LayerSpec[], output = base.output): ModelSpec => ({ ...base, layers: change(base.layers.map((l) => ({ ...l, inputs: [...l.inputs] }))), output });
    const create = (spec: ModelSpec) => () => Model.create(rt, spec);

    expect(create(edit((ls) => ls.map((l) => (l.name === 'conv2' ? { ...l, inputs: ['ghost'] } : l))))).toThrow(/node 'conv2' reads 'ghost', which is not defined before it/);
    // a cycle conv1 -> pool1 -> conv1: some node reads one that comes later
    expect(create(edit((ls) => ls.map((l) => (l.name === 'conv1' ? { ...l, inputs: ['pool1'] } : l))))).toThrow(/node 'conv1' reads 'pool1', which is not defined before it/);
    expect(create(edit((ls) => ls.map((l) => (l.name === 'conv1' ? { ...l, inputs: ['conv1'] } : l))))).toThrow(/reads 'conv1', which is not defined before it/);
    expect(create(edit((ls) => [...ls, build.identity('conv1', 'probs')]))).toThrow(/duplicate node name 'conv1'/);
    expect(create(edit((ls) => ls, 'output'))).toThrow(/output node 'output' does not exist/);
    expect(create(edit((ls) => ls.filter((l) => l.kind !== 'input')))).toThrow(/exactly one input layer, found 0/);
    expect(create(edit((ls) => [build.input('second', [2, 2, 1]), ...ls]))).toThrow(/exactly one input layer, found 2/);
    // dense expecting 35 inputs after a 36-value flatten: caught at load time
    expect(create(edit((ls) => ls.map((l) => (l.name === 'logits' ? build.dense('logits', 'flatten', random, { inputs: 35, outputs: 5, activation: 'linear' }) : l))))).toThrow(/dense 'logits' expects input \[N, 35\], got \[1, 36\]/);
    expect(create(edit((ls) => [...ls, build.add('sum', 'conv1', 'pool1')]))).toThrow(ShapeError);
    // the weights uploaded before a load-time error are released
    expect(rt.pool.buffersInUse).toBe(0);
  });

  it('flops of tinyCnn x=[1|3,9,7,3] equal the hand count (multiply-add = 2)', () => {
    const model = Model.create(testRuntime(), tinyCnn(seededRandom(3)));
    const conv1 = 2 * (9 * 7 * 4) * (3 * 3 * 3); // every output x a 3x3x3 window (padded taps count)
    const pool1 = 9 * 7 * 4; // one op per input element
    const conv2 = 2 * (3 * 2 * 6) * (3 * 3 * 4);
    const logits = 2 * 36 * 5;
    const probs = 5 * 5; // softmax: 5 per element
    expect(conv1 + pool1 + conv2 + logits + probs).toBe(16837);
    expect(model.flops(1)).toBe(16837);
    expect(model.flops(3)).toBe(3 * 16837);
  });

  it('flops of decoderCnn\'s resize and conv2dTranspose layers x=[1|3,6,5,2] equal the hand count', () => {
    const model = Model.create(testRuntime(), decoderCnn(seededRandom(3)));
    const shapes = model.shapes(3);
    const layerFlops = (name: string) => model.layers.get(name)!.flops(model.layers.get(name)!.spec.inputs.map((i) => shapes.get(i)!));
    expect(layerFlops('up')).toBe(3 * 6 * (6 * 6 * 4)); // bilinear: 3 lerps = 6 FLOPs per output element
    expect(layerFlops('deconv')).toBe(3 * 2 * (6 * 6 * 4) * (3 * 3 * 3)); // every input value x 3x3 taps x 3 output channels
    expect(layerFlops('nearest')).toBe(0); // a copy
    model.dispose();
  });

  it('maxBatch: the largest activation of tinyCnn ([9,7,4] = 1008 bytes per item) fits the binding and buffer limits', async () => {
    const device = testRuntime().device;
    /** The device's limits with smaller storage binding / buffer sizes. */
    class LimitedRuntime extends Runtime {
      constructor(private readonly fake: { maxStorageBufferBindingSize?: number; maxBufferSize?: number }) {
        super(device, { poison: true });
      }
      override get limits(): GPUSupportedLimits {
        const fake = this.fake as Record<string | symbol, number | undefined>;
        return new Proxy(this.device.limits, { get: (target, key) => fake[key] ?? Reflect.get(target, key) });
      }
    }
    const spec = tinyCnn(seededRandom(4));
    const real = Model.create(testRuntime(), spec);
    expect(real.maxBatch()).toBe(Math.floor(Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) / 1008));

    const rt = new LimitedRuntime({ maxStorageBufferBindingSize: 4100 });
    const model = Model.create(rt, spec);
    expect(model.maxBatch()).toBe(4);
    const bytes = (n: number) => Math.max(...[...model.shapes(n).values()].map((s) => s.reduce((a, b) => a * b, 4)));
    expect(bytes(4)).toBeLessThanOrEqual(4100);
    expect(bytes(5)).toBeGreaterThan(4100);
    expect(Model.create(new LimitedRuntime({ maxBufferSize: 2016 }), spec).maxBatch()).toBe(2);
    expect(() => Model.create(new LimitedRuntime({ maxStorageBufferBindingSize: 1000 }), spec).maxBatch()).toThrow(LimitError);

    // a batch of maxBatch runs and is right
    const x = randomInput(spec, 4, seededRandom(5));
    const pass = model.forward(toGpu(rt, x));
    await expectMatchesReference(rt, pass.value('probs'), referenceForward(spec, x).get('probs')!, 'tinyCnn x=[4,9,7,3] at maxBatch forward');
    // one more is refused with a typed error before any work
    expect(() => model.forward(toGpu(rt, randomInput(spec, 5, seededRandom(6))))).toThrow(/A batch of 5 .*at most 4 per batch/);
  });

  it('memory: a forward without forBackward frees intermediates; dispose returns to the baseline (tinyCnn x=[2,9,7,3])', async () => {
    const rt = testRuntime();
    const spec = tinyCnn(seededRandom(6));
    const model = Model.create(rt, spec);
    const x = randomInput(spec, 2, seededRandom(7));
    const xGpu = toGpu(rt, x);
    const baseline = rt.pool.buffersInUse;

    const inference = model.forward(xGpu);
    expect(rt.pool.buffersInUse, 'only the output is alive').toBe(baseline + 1);
    expect(inference.records.size).toBe(0);
    await expectMatchesReference(rt, inference.value('probs'), referenceForward(spec, x).get('probs')!, 'tinyCnn x=[2,9,7,3] inference forward');
    inference.dispose();
    expect(rt.pool.buffersInUse).toBe(baseline);

    const kept = model.forward(xGpu, { keep: ['conv2'] });
    expect(rt.pool.buffersInUse, 'output and the kept node').toBe(baseline + 2);
    kept.dispose();
    expect(rt.pool.buffersInUse).toBe(baseline);

    // forBackward keeps conv1 (its ReLU mask and pool1's argmax input), pool1 and conv2 (conv2's input and
    // ReLU6 mask), flatten (logits' input) and probs (softmax's output); logits itself is freed
    const training = model.forward(xGpu, { forBackward: true });
    expect(rt.pool.buffersInUse).toBe(baseline + 5);
    const { gradients } = model.backward(training, new Map([['logits', rt.upload([2, 5], [1, 0, 0, 0, 0, 0, 0, 0, 1, 0])]]));
    expect(rt.pool.buffersInUse, 'records + the input gradient').toBe(baseline + 6);
    training.dispose();
    gradients.get(INPUT)!.dispose();
    expect(rt.pool.buffersInUse).toBe(baseline);

    // the same for the DAG fixtures: a node with several consumers is freed after the last one
    for (const fixture of FIXTURES.slice(1)) {
      const other = fixture.make(seededRandom(9));
      const otherModel = Model.create(rt, other);
      const input = toGpu(rt, randomInput(other, 2, seededRandom(10)));
      const before = rt.pool.buffersInUse;
      const pass = otherModel.forward(input);
      expect(rt.pool.buffersInUse, `${fixture.name}: only the output is alive`).toBe(before + 1);
      pass.dispose();
      input.dispose();
      otherModel.dispose();
    }
    expect(rt.pool.buffersInUse).toBe(baseline);
    await rt.finish();
  });

  it('no leaks: 1,000 saliency-like forward+backward calls of tinyCnn x=[1,9,7,3] keep the pool constant', async () => {
    const rt = testRuntime();
    const random = seededRandom(8);
    const spec = tinyCnn(random);
    const model = Model.create(rt, spec);
    const x = randomInput(spec, 1, random);
    const xGpu = toGpu(rt, x);
    const oneHot = [0, 0, 1, 0, 0];
    const baseline = rt.pool.buffersInUse;
    let live = -1;
    let last: Float32Array | undefined;
    for (let i = 0; i < 1000; i++) {
      const pass = model.forward(xGpu, { forBackward: true });
      const { gradients } = model.backward(pass, new Map([['logits', rt.upload([1, 5], oneHot)]]));
      pass.dispose();
      const gradient = gradients.get(INPUT)!;
      if (i % 100 === 99) last = await rt.read(gradient);
      else if (i % 25 === 24) await rt.flush(); // bound the recorded work and the staging buffers
      gradient.dispose();
      expect(rt.pool.buffersInUse).toBe(baseline);
      if (i === 9) live = rt.pool.liveBuffers;
      if (i > 9 && rt.pool.liveBuffers !== live) expect.fail(`pool grew from ${live} to ${rt.pool.liveBuffers} buffers at call ${i}`);
    }
    await rt.finish();
    const expected = referenceScoreGradient(spec, x, 'logits', [2]);
    const error = Math.max(...expected.data.map((v, i) => Math.abs(v - last![i]))) / Math.max(...expected.data.map(Math.abs));
    expect(error).toBeLessThanOrEqual(1e-4);
    expect(Math.max(...expected.data.map(Math.abs))).toBeGreaterThan(0);
  });
});

describe('reference model executor', () => {
  for (const fixture of FIXTURES) {
    it(`${fixture.name} input gradient agrees with finite differences of the reference forward (batch 2)`, () => {
      const { seed, random } = randomSource();
      const spec = fixture.make(random);
      const x = randomInput(spec, 2, random);
      const output = spec.output;
      const upstream = randomTensor(referenceForward(spec, x).get(output)!.shape, random);
      const analytic = referenceBackward(spec, x, new Map([[output, upstream]])).gradients.get(REF_INPUT)!;
      const numeric = finiteDifferenceVjp((t) => referenceForward(spec, t).get(output)!, x, upstream);
      expectReferenceGradient(analytic, numeric, `${fixture.name} seed=${seed}`, 1e-5);
      expect(Math.max(...analytic.data.map(Math.abs))).toBeGreaterThan(0);
    });
  }

  it('scoreSeed puts scale at the target channel of every position of each item', () => {
    const seed = scoreSeed([2, 2, 1, 3], [1, 2], 0.5);
    expect(Array.from(seed.data)).toEqual([0, 0.5, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0.5]);
  });
});

// ---- ops-elementwise: PReLU and parametrized activation layers in the executor

/** conv -> PReLU [1, 1, C] -> GELU -> clip -> conv -> PReLU [H, W, C] -> per-channel clip -> GAP -> dense -> leaky ReLU -> dense logits. */
function activationChain(random: () => number): ModelSpec {
  const conv = (name: string, input: string, inChannels: number, outChannels: number) =>
    build.conv2d(name, input, random, { kernel: [3, 3], inChannels, outChannels, padding: 'same', activation: 'linear' });
  const alpha = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(random() * 0.6 - 0.1)) });
  const layers: LayerSpec[] = [
    build.input('image', [6, 5, 2]),
    conv('conv1', 'image', 2, 3),
    { kind: 'prelu', name: 'prelu1', inputs: ['conv1'], alpha: alpha([1, 1, 3]) },
    { kind: 'activation', name: 'gelu', inputs: ['prelu1'], activation: 'gelu' },
    { kind: 'activation', name: 'clip', inputs: ['gelu'], activation: { kind: 'clip', lo: -0.1, hi: 1.2 } },
    conv('conv2', 'clip', 3, 4),
    { kind: 'prelu', name: 'prelu2', inputs: ['conv2'], alpha: alpha([6, 5, 4]) },
    { kind: 'channelClip', name: 'bounds', inputs: ['prelu2'], lower: { shape: [4], data: Float32Array.of(-0.5, -0.2, -1, -0.1) }, upper: { shape: [4], data: Float32Array.of(0.8, 1, 0.5, 2) } },
    build.globalAvgPool('gap', 'bounds'),
    build.dense('hidden', 'gap', random, { inputs: 4, outputs: 5, activation: 'linear' }),
    { kind: 'activation', name: 'leaky', inputs: ['hidden'], activation: { kind: 'leakyRelu', alpha: 0.2 } },
    build.dense('logits', 'leaky', random, { inputs: 5, outputs: 3, activation: 'linear' }),
  ];
  return { source: 'activationChain', layers, output: 'logits' };
}

describeGpu('model executor: PReLU, channel clip and parametrized activation layers', () => {
  it('rule rescale, activationChain x=[2+2,6,5,2]: PReLU, GELU, clip, channel clip, leaky ReLU multipliers equal the float64 DeepLIFT', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = activationChain(random);
    const model = Model.create(rt, spec);
    const x = randomInput(spec, 2, random);
    const x0 = randomInput(spec, 2, random, 0.5);
    const pairs = refTensor([4, ...x.shape.slice(1)], [...x.data, ...x0.data]);
    const pass = model.forward(toGpu(rt, pairs), { forBackward: true, rule: 'rescale' });
    // both halves seeded alike: targets 2 and 0
    const seedTensor = toGpu(rt, scoreSeed([4, 3], [2, 0, 2, 0]));
    const multipliers = model.backward(pass, new Map([['logits', seedTensor]]), { rule: 'rescale' }).gradients.get(INPUT)!;
    pass.dispose();
    const expected = referenceDeepLift(spec, x, x0, 'logits', [2, 0]);
    const mirrored = refTensor(pairs.shape, [...expected.multipliers.data, ...expected.multipliers.data]);
    await expectMatchesReference(rt, multipliers, mirrored, `rescale activationChain seed=${seed}`);
    // summation-to-delta of the float64 rule itself, up to GELU's epsilon fallback (f'' (x - x0)^2 / 2 < 1e-7 per unit)
    const total = expected.attribution.reduce((a, v) => a + v, 0);
    const delta = expected.input[0] + expected.input[1] - expected.baseline[0] - expected.baseline[1];
    expect(Math.abs(total - delta)).toBeLessThanOrEqual(1e-6);
    model.dispose();
  });

  it('rule rescale typed errors: a pass not run for it, an odd batch, a layer without a rule (mergeCnn: maximum)', () => {
    const rt = testRuntime();
    const { random } = randomSource();
    const model = Model.create(rt, activationChain(random));
    const seedFor = (n: number) => rt.upload([n, 3], new Float32Array(n * 3).fill(1));
    const plain = model.forward(rt.upload([2, 6, 5, 2], new Float32Array(120)), { forBackward: true });
    expect(() => model.backward(plain, new Map([['logits', seedFor(2)]]), { rule: 'rescale' })).toThrow(/needs a forward pass run with \{ forBackward: true, rule: 'rescale' \}/);
    plain.dispose();
    const odd = model.forward(rt.upload([3, 6, 5, 2], new Float32Array(180)), { forBackward: true, rule: 'rescale' });
    expect(() => model.backward(odd, new Map([['logits', seedFor(3)]]), { rule: 'rescale' })).toThrow(ShapeError);
    odd.dispose();
    expect(() => model.forward(rt.upload([2, 6, 5, 2], new Float32Array(120)), { rule: 'rescale' })).toThrow(/forBackward/);
    model.dispose();
    const merge = Model.create(rt, mergeCnn(random));
    expect(() => merge.checkRule('rescale', ['logits'])).toThrow(UnsupportedModelError);
    expect(() => merge.checkRule('rescale', ['logits'])).toThrow(/layer 'high' \(binary\)/);
    // upstream of the refused layers only: nothing to refuse
    expect(() => merge.checkRule('rescale', ['cat'])).not.toThrow();
    expect(() => merge.checkRule('gradient', ['logits'])).not.toThrow();
    merge.dispose();
  });
  it('activationChain x=[3,6,5,2]: every node, the input gradient and the weight gradients (PReLU alpha) match the reference', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = activationChain(random);
    const model = Model.create(rt, spec);
    const x = randomInput(spec, 3, random);
    const label = `activationChain x=[${x.shape}] seed=${seed}`;
    const pass = model.forward(toGpu(rt, x), { keep: [...model.order], forBackward: true });
    const forward = referenceForward(spec, x);
    for (const node of model.order) await expectMatchesReference(rt, pass.value(node), forward.get(node)!, `${label} forward '${node}'`);
    const upstream = randomTensor(forward.get('logits')!.shape, random);
    const result = model.backward(pass, new Map([['logits', toGpu(rt, upstream)]]), { weights: true });
    pass.dispose();
    const expected = referenceBackward(spec, x, new Map([['logits', upstream]]), { weights: true });
    await expectAllMatch(rt, result.gradients, expected.gradients, `${label} d logits /`);
    expect([...result.weights.keys()].sort()).toEqual(['conv1', 'conv2', 'hidden', 'logits', 'prelu1', 'prelu2']);
    for (const [layer, grads] of result.weights) {
      await expectAllMatch(rt, new Map(Object.entries(grads)), new Map(Object.entries(expected.weights.get(layer)!)), `${label} d logits / ${layer}.`);
    }
    expect(result.weights.get('prelu1')!.alpha.shape).toEqual([1, 1, 3]);
    // the reference backward itself, against finite differences of the reference forward
    const numeric = finiteDifferenceVjp((t) => referenceForward(spec, t).get('logits')!, x, upstream);
    expectReferenceGradient(expected.gradients.get(REF_INPUT)!, numeric, label, 1e-5);
    model.dispose();
  });

  it('activationChain x=[2,6,5,2]: channelClip bounds are constants, not weights: a training backward (to: [], weights) leaves them out, the model frees them', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const spec = activationChain(random);
    const model = Model.create(rt, spec);
    const bounds = model.layer('bounds');
    expect(Object.keys(bounds.weights)).toEqual([]);
    const constants = Object.values(bounds.constants ?? {});
    expect(constants.map((t) => t.shape)).toEqual([[4], [4]]);
    const x = randomInput(spec, 2, random);
    const pass = model.forward(toGpu(rt, x), { forBackward: true });
    const upstream = randomTensor([2, 3], random);
    const { gradients, weights } = model.backward(pass, new Map([['logits', toGpu(rt, upstream)]]), { to: [], weights: true });
    pass.dispose();
    expect(gradients.size).toBe(0);
    expect([...weights.keys()].sort(), `seed=${seed}`).toEqual(['conv1', 'conv2', 'hidden', 'logits', 'prelu1', 'prelu2']);
    // the gradient still crosses the clip to the layers below it, as in the reference
    const expected = referenceBackward(spec, x, new Map([['logits', upstream]]), { weights: true });
    await expectAllMatch(rt, new Map(Object.entries(weights.get('conv2')!)), new Map(Object.entries(expected.weights.get('conv2')!)), `activationChain seed=${seed} d logits / conv2.`);
    for (const grads of weights.values()) for (const g of Object.values(grads)) g.dispose();
    model.dispose();
    expect(constants.every((t) => t.isDisposed)).toBe(true);
  });
});
