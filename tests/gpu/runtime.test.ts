import { expect, it } from 'vitest';
import { describeGpu, testRuntime } from '../gpu.js';

describeGpu('runtime', () => {
  it('uploads, fills and reads back in one submission', async () => {
    const rt = testRuntime();
    const a = rt.upload([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = rt.empty([7, 5]);
    rt.fill(b, 2.5);
    expect(Array.from(await rt.read(a))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(await rt.read(b))).toEqual(new Array(35).fill(2.5));
    a.dispose();
    b.dispose();
  });
});
