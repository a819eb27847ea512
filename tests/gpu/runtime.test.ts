import { expect, it } from 'vitest';
import { DeviceLostError, GpuValidationError, OptionError, ShapeError, XaiError } from '../../src/errors.js';
import { checkProfilable } from '../../src/gpu/profiler.js';
import { conv2d } from '../../src/ops/conv2d.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';
import { Runtime } from '../../src/gpu/runtime.js';
import { activation, activationBackward } from '../../src/ops/activation.js';
import { sumToChannels } from '../../src/ops/reduce.js';
import { describeGpu, testRuntime } from '../gpu.js';

describeGpu('runtime', () => {
  it('uploads, fills and reads back', async () => {
    const rt = testRuntime();
    const a = rt.upload([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = rt.empty([7, 5]);
    rt.fill(b, 2.5);
    expect(Array.from(await rt.read(a))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await rt.read(b))).toEqual(new Array(35).fill(2.5));
  });

  it('poisons new tensors with NaN so unwritten elements are visible', async () => {
    const rt = testRuntime();
    const values = await rt.read(rt.empty([3, 5]));
    expect(values.every(Number.isNaN)).toBe(true);
  });

  it('records a whole forward+backward and submits it once', async () => {
    const rt = testRuntime();
    const x = rt.upload([1, 2, 2, 2], [-1, 2, -3, 4, 5, -6, 7, -8]);
    const y = activation(rt, x, 'relu');
    const dx = activationBackward(rt, rt.upload(y.shape, new Array(8).fill(1)), y, 'relu');
    const sum = sumToChannels(rt, dx);
    const before = rt.stats.submits;
    expect(rt.pendingCommands).toBeGreaterThan(3);
    expect(Array.from(await rt.read(sum))).toEqual([2, 2]);
    expect(rt.stats.submits - before).toBe(1);
  });

  it('profiles: GPU time per kernel between beginProfile and endProfile, each dispatch counted, results unchanged', async () => {
    const rt = testRuntime();
    const data = Float32Array.from({ length: 4 * 24 * 24 * 16 }, (_, i) => Math.sin(i));
    const weights = Float32Array.from({ length: 3 * 3 * 16 * 32 }, (_, i) => Math.cos(i));
    // two convolutions and an activation
    const run = async () => {
      const y = conv2d(rt, rt.upload([4, 24, 24, 16], data), rt.upload([3, 3, 16, 32], weights), undefined, { padding: 'same', activation: 'relu' });
      const z = conv2d(rt, y, rt.upload([3, 3, 32, 32], new Float32Array(9216).fill(0.01)), undefined, { padding: 'same' });
      return Array.from(await rt.read(activation(rt, z, 'sigmoid')));
    };
    const plain = await run();
    rt.beginProfile();
    expect(await run()).toEqual(plain);
    const times = rt.endProfile();
    const conv = times.find((t) => t.kernel.startsWith('conv2d.forward'))!;
    expect(conv.dispatches).toBe(2);
    expect(conv.ms).toBeGreaterThan(0);
    expect(times.find((t) => t.kernel === 'activation.forward')?.dispatches).toBe(1);
    expect(times.map((t) => t.ms)).toEqual([...times.map((t) => t.ms)].sort((a, b) => b - a));
    // off again: nothing collected, and ending twice is an error
    await run();
    expect(() => rt.endProfile()).toThrow(/endProfile\(\) without beginProfile\(\)/);
    expect(() => checkProfilable({ features: new Set() } as unknown as GPUDevice)).toThrow(OptionError);
  });

  it('reuses pooled buffers: 1,000 repeated calls create no new buffers', async () => {
    const rt = testRuntime();
    const step = async () => {
      const x = rt.upload([2, 5, 7, 3], new Float32Array(210).fill(-0.5));
      const y = activation(rt, x, 'relu6');
      const dx = activationBackward(rt, x, y, 'relu6');
      const sum = sumToChannels(rt, dx);
      for (const t of [x, y, dx]) t.dispose();
      return sum;
    };
    (await step()).dispose();
    const live = rt.pool.liveBuffers;
    for (let i = 0; i < 1000; i++) {
      const sum = await step();
      if (i % 100 === 0) await rt.read(sum);
      sum.dispose();
    }
    await rt.finish();
    expect(rt.pool.liveBuffers).toBe(live);
    expect(rt.pool.buffersInUse).toBe(0);
  });

  it('checks bindings and uniforms by name against the reflected shader', () => {
    const rt = testRuntime();
    const t = rt.empty([4]);
    const spec = { shader: 'fill', entry: 'fill', constants: { WORKGROUP_SIZE: 64 } };
    expect(() => rt.dispatch(spec, { bindings: { output: t }, uniforms: { value: 1, extra: 2 }, workgroups: [1] })).toThrow(/uniform member 'extra' does not exist/);
    expect(() => rt.dispatch(spec, { bindings: { output: t }, uniforms: {}, workgroups: [1] })).toThrow(/uniform member 'value' was not given/);
    expect(() => rt.dispatch(spec, { bindings: { out: t }, uniforms: { value: 1 }, workgroups: [1] })).toThrow(/no storage binding 'out'/);
    expect(() => rt.dispatch({ ...spec, constants: { WG: 8 } }, { bindings: { output: t }, uniforms: { value: 1 }, workgroups: [1] })).toThrow(/constant 'WG' is not an override/);
    expect(() => rt.dispatch({ ...spec, entry: 'nope' }, { bindings: { output: t }, workgroups: [1] })).toThrow(/no compute entry point 'nope'/);
  });

  it('binds a slice of a tensor without a copy; a misaligned slice is refused', async () => {
    const rt = testRuntime();
    const t = rt.upload([200], new Float32Array(200).fill(1));
    const spec = { shader: 'fill', entry: 'fill', constants: { WORKGROUP_SIZE: 64 } };
    // 64 floats = 256 bytes, the default minStorageBufferOffsetAlignment
    rt.dispatch(spec, { bindings: { output: t.slice(64, 100) }, uniforms: { value: 7 }, workgroups: [2] });
    const values = await rt.read(t);
    expect(Array.from(values.subarray(60, 68))).toEqual([1, 1, 1, 1, 7, 7, 7, 7]);
    expect(values.filter((v) => v === 7).length).toBe(100);
    expect(() => rt.dispatch(spec, { bindings: { output: t.slice(1, 10) }, uniforms: { value: 7 }, workgroups: [1] })).toThrow(/starts at byte 4, not a multiple of minStorageBufferOffsetAlignment/);
    expect(() => t.slice(150, 100)).toThrow(/does not lie inside a tensor of 200 elements/);
  });

  it('rejects bad shapes and data with typed errors', () => {
    const rt = testRuntime();
    expect(() => rt.empty([2, 0])).toThrow(ShapeError);
    expect(() => rt.upload([2, 2], [1, 2, 3])).toThrow(XaiError);
  });

  it('turns a WebGPU validation error into a typed exception instead of a hang', async () => {
    const rt = testRuntime();
    const t = rt.upload([4], [1, 2, 3, 4]);
    await rt.flush();
    t.buffer.destroy(); // the pool does not know: the next submission uses a destroyed buffer
    rt.fill(t, 0);
    await expect(rt.flush()).rejects.toThrow(GpuValidationError);
  });

  it('reports device loss as DeviceLostError', async () => {
    const device = await requestNodeDevice({ onSoftwareAdapter: () => {} });
    const rt = new Runtime(device);
    const t = rt.upload([2], [1, 2]);
    device.destroy();
    await device.lost;
    expect(() => rt.upload([2], [1, 2])).toThrow(DeviceLostError);
    await expect(rt.read(t)).rejects.toThrow(DeviceLostError);
  });
});
