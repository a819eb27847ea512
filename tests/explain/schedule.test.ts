import { expect, it } from 'vitest';
import { Explainer } from '../../src/explain/explainer.js';
import { AbortedError, type Progress } from '../../src/explain/progress.js';
import { TARGET_MS } from '../../src/explain/schedule.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { inputShapeOf, randomInput, residualCnn } from '../model/fixtures.js';

type Method = 'smoothGrad' | 'integratedGradients' | 'occlusion';
/** Enough copies in chunks of 8 for dozens of chunks. */
const LONG: Record<Method, object> = {
  smoothGrad: { samples: 400 },
  integratedGradients: { steps: 400 },
  occlusion: { window: 1, stride: 1 },
};

async function setup() {
  const { random } = randomSource();
  const spec = residualCnn(random);
  const rt = testRuntime();
  const xai = await Explainer.create(rt, spec, { maxChunk: 8 });
  const images = Array.from({ length: 24 }, () => ({ data: Float32Array.from(randomInput(spec, 1, random).data), shape: inputShapeOf(spec) }));
  return { rt, xai, images };
}

function run(xai: Explainer, method: Method, input: unknown, options: object): Promise<unknown> {
  return (xai[method] as (i: unknown, o: object) => Promise<unknown>).call(xai, input, options);
}

describeGpu('progress and cancel', () => {
  for (const method of Object.keys(LONG) as Method[]) {
    it(`${method}: an abort after the first finished chunk of 24 images stops within a chunk, leaves nothing queued, and the next call runs at normal speed (residualCnn)`, async () => {
      const { rt, xai, images } = await setup();
      const options = LONG[method];
      // a fresh one-image call's time (median of 3, after a warm-up that compiles the pipelines);
      // work left queued by the aborted 24-image call would make the next one-image call ~24x slower
      await run(xai, method, images[0], options);
      const times: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        await run(xai, method, images[0], options);
        times.push(performance.now() - t0);
      }
      const fresh = times.sort((a, b) => a - b)[1];

      const controller = new AbortController();
      const reports: Progress[] = [];
      let abortedAt = 0;
      const inUse = rt.pool.buffersInUse;
      const call = run(xai, method, images, {
        ...options,
        signal: controller.signal,
        onProgress: (p: Progress) => {
          reports.push(p);
          if (reports.length === 1) {
            abortedAt = performance.now();
            controller.abort('user');
          }
        },
      });
      await expect(call).rejects.toThrow(AbortedError);
      const stopped = performance.now() - abortedAt;
      const chunkMs = reports[0].elapsed;
      console.log(`[abort] ${method}: fresh ${fresh.toFixed(0)} ms, ${reports.length} report(s) of ${reports[0].total}, stopped ${stopped.toFixed(1)} ms after abort (first chunk done at ${chunkMs.toFixed(1)} ms)`);
      // the chunk in flight when the abort came finishes; no later chunk runs
      expect(reports.length).toBeLessThanOrEqual(2);
      expect(reports[reports.length - 1].done).toBeLessThan(reports[0].total);
      expect(stopped).toBeLessThan(Math.max(2 * TARGET_MS, 4 * chunkMs) + 100);
      expect(rt.pendingCommands, 'nothing recorded and unsubmitted').toBe(0);
      expect(rt.stats.completed, 'nothing submitted and unfinished').toBe(rt.stats.submits);
      expect(rt.pool.buffersInUse, 'every tensor released').toBe(inUse);

      const started = performance.now();
      await run(xai, method, images[0], options);
      const next = performance.now() - started;
      console.log(`[abort] ${method}: the next call took ${next.toFixed(0)} ms (fresh ${fresh.toFixed(0)} ms)`);
      expect(next).toBeLessThan(3 * fresh + 400);
    });
  }

  it('SmoothGrad of 3 images x 120 samples: progress counts finished chunks only, monotone to the total, with an ETA', async () => {
    const { rt, xai, images } = await setup();
    const reports: { progress: Progress; finished: number }[] = [];
    const submits = rt.stats.submits;
    const [result] = await xai.smoothGrad(images.slice(0, 3), {
      samples: 120,
      onProgress: (progress) => reports.push({ progress, finished: rt.stats.completed - submits }),
    });
    expect(result.values.length).toBeGreaterThan(0);
    const done = reports.map((r) => r.progress.done);
    expect(done.length).toBeGreaterThan(10);
    for (let i = 1; i < done.length; i++) expect(done[i]).toBeGreaterThan(done[i - 1]);
    expect(done[done.length - 1]).toBe(360);
    reports.forEach(({ progress, finished }, i) => {
      expect(progress.total).toBe(360);
      // report i (from 1) comes after the GPU finished chunk i
      expect(finished, `report ${i + 1}`).toBeGreaterThanOrEqual(i + 1);
      expect(progress.eta).toBeGreaterThanOrEqual(0);
    });
    expect(reports[reports.length - 1].progress.eta).toBe(0);
  });

  it('at most two chunks are queued, and the event loop keeps running between chunks', async () => {
    const { rt, xai, images } = await setup();
    let mostQueued = 0;
    const submit = rt.submit.bind(rt);
    rt.submit = async () => {
      const submitted = await submit();
      mostQueued = Math.max(mostQueued, rt.stats.submits - rt.stats.completed);
      return submitted;
    };
    let last = performance.now();
    let longestGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 1);
    try {
      await xai.smoothGrad(images.slice(0, 3), { samples: 200 });
    } finally {
      clearInterval(timer);
    }
    console.log(`[schedule] most chunks queued ${mostQueued}, longest event-loop gap ${longestGap.toFixed(1)} ms`);
    expect(mostQueued).toBeLessThanOrEqual(2);
    expect(longestGap).toBeLessThan(TARGET_MS + 200);
  });
});
