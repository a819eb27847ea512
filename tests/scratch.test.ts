import { it } from 'vitest';
import { conv2d } from '../src/ops/conv2d.js';
import { describeGpu, testRuntime } from './gpu.js';
import { randomSource, toGpu, expectMatchesReference } from './check.js';
import { randomTensor } from './reference/tensor.js';
import { conv2dRef } from './reference/conv2d.js';

describeGpu('scratch', () => {
  it('forward vs forward_v', async () => {
    const rt = testRuntime('register');
    const { random } = randomSource();
    for (const [n, h, cin, cout] of [[8, 48, 32, 32], [8, 23, 64, 64], [8, 10, 128, 128], [8, 48, 3, 32]]) {
      const x = randomTensor([n, h, h, cin], random);
      const f = randomTensor([3, 3, cin, cout], random);
      const xg = toGpu(rt, x); const fg = toGpu(rt, f);
      const uniforms = { batch: n, in_height: h, in_width: h, in_channels: cin, out_height: h, out_width: h, out_channels: cout, kernel_height: 3, kernel_width: 3, stride_height: 1, stride_width: 1, dilation_height: 1, dilation_width: 1, pad_top: 1, pad_left: 1, chunk_pixels: 0 };
      const flops = 2 * n * h * h * cout * 9 * cin;
      const time = async (label: string, run: () => unknown) => {
        await rt.read(run() as never);
        const t0 = performance.now();
        for (let i = 0; i < 3; i++) await rt.read(run() as never);
        const ms = (performance.now() - t0) / 3;
        console.log(`${label} [${n},${h},${h},${cin}]x${cout}: ${ms.toFixed(1)} ms, ${(flops / ms / 1e6).toFixed(2)} GFLOP/s`);
      };
      await time('forward  ', () => conv2d(rt, xg, fg, undefined, { padding: 'same' }));
      const special = () => {
        const y = rt.empty([n, h, h, cout], 'y');
        const invocations = n * h * Math.ceil(h / 8) * Math.ceil(cout / 4);
        rt.dispatch({ shader: 'conv2d', entry: 'forward_v', constants: { WORKGROUP_SIZE: 64, ACTIVATION: 0, HAS_BIAS: 0 } }, { bindings: { input: xg, weights: fg, bias: fg, output: y }, uniforms, workgroups: rt.grid(invocations, 64) });
        return y;
      };
      await time('forward_v', special);
      await expectMatchesReference(rt, special(), conv2dRef(x, f, undefined, { padding: 'same' }), 'special');
    }
  }, 600_000);
});
