import { describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime.js';
import { ASSUMED_FLOP_PER_MS, Schedule, TARGET_MS, type Pace } from '../../src/explain/schedule.js';

/** A runtime stand-in whose "GPU" runs submissions one after another at `msPerCopy` per recorded copy. */
function simulatedGpu(msPerCopy: number) {
  let recorded = 0;
  let freeAt = performance.now();
  const durations: number[] = [];
  const rt = {
    submit: async () => {
      const ms = recorded * msPerCopy;
      durations.push(ms);
      recorded = 0;
      freeAt = Math.max(freeAt, performance.now()) + ms;
      const wait = freeAt - performance.now();
      return { done: new Promise<void>((resolve) => setTimeout(resolve, wait)) };
    },
  } as unknown as Runtime;
  return { rt, durations, record: (count: number) => (recorded += count) };
}

describe('schedule pacing (simulated GPU, no adapter needed)', () => {
  for (const { real, guess, copies } of [
    { real: 2, guess: 40, copies: 1600 },
    { real: 10, guess: 5, copies: 400 },
  ]) {
    it(`chunks grow or shrink to about ${TARGET_MS} ms each: ${real} ms per copy, first guess ${guess} ms per copy from the FLOPs`, async () => {
      const gpu = simulatedGpu(real);
      const pace: Pace = new Map();
      const schedule = new Schedule(gpu.rt, {}, copies, pace, 'test', guess * ASSUMED_FLOP_PER_MS);
      const sizes: number[] = [];
      await schedule.run(copies, 10_000, (_, count) => {
        sizes.push(count);
        gpu.record(count);
      });
      console.log(`[pace] ${real} ms/copy: chunks ${sizes.join(', ')}; simulated ms ${gpu.durations.map((d) => d.toFixed(0)).join(', ')}`);
      expect(sizes[0]).toBe(TARGET_MS / guess);
      // the second chunk is queued before the first is measured; from the third on, full chunks take about TARGET_MS
      const ideal = TARGET_MS / real;
      for (const size of sizes.slice(2, -1)) {
        expect(size).toBeGreaterThanOrEqual(0.5 * ideal);
        expect(size).toBeLessThanOrEqual(1.5 * ideal);
      }
      expect(pace.get('test')).toBeGreaterThan(0.5 * real);
    });
  }
});
