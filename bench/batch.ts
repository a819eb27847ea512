/**
 * `npm run bench:batch`: throughput of many images explained as one planned run against one call
 * per image (issue 12's row): 32 images x SmoothGrad 16 on the tiny CNN (32x32x3), target 'top'.
 * Both ways run the same copies through the same kernels; the planned run fills chunks with the
 * copies of several images and overlaps recording with the GPU. Each way: one warm-up, then
 * `--repeats` timed runs alternating with the other way's (median), images per second = 32 /
 * median seconds. Also checks that the batched maps equal the single-image ones. Writes bench/results/<adapter>-batch-<date>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { dirname } from 'node:path';
import type { Attribution } from '../src/explain/attribution.js';
import { Explainer } from '../src/explain/explainer.js';
import { isSoftwareAdapterInfo } from '../src/gpu/variants.js';
import { relativeL2 } from '../tests/reference/tensor.js';
import { benchNodeDevices } from './device-node.js';
import { gitInfoSync } from './git.js';
import { benchImage, tinySpec } from './models.js';
import { describeDevice } from './run.js';

const IMAGES = 32;
const SAMPLES = 16;

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(args: string[]): Promise<void> {
  const repeats = Number(flag(args, '--repeats') ?? 3);
  const { device, adapter } = await benchNodeDevices();
  const spec = tinySpec();
  const xai = await Explainer.create(device, spec);
  const shape = xai.model.inputShape;
  const images = Array.from({ length: IMAGES }, (_, i) => ({ data: benchImage(shape, xai.inputRange, 100 + i), shape }));
  const options = { samples: SAMPLES, target: 'top' as const, seed: 0 };

  const batched = async () => xai.smoothGrad(images, options);
  const oneByOne = async () => {
    const results: Attribution[] = [];
    for (const image of images) results.push(await xai.smoothGrad(image, options));
    return results;
  };
  console.error(`batch bench on ${adapter}: ${IMAGES} images x SmoothGrad ${SAMPLES}, tiny CNN`);
  // warm-up (pipelines, pace), then the two ways alternate so that a shared machine's load drifts over both alike
  const [many, single] = [await batched(), await oneByOne()];
  const error = Math.max(...many.map((r, i) => relativeL2(r.values, single[i].values)));
  const batchMs: number[] = [];
  const singleMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const [run, times] of [[batched, batchMs], [oneByOne, singleMs]] as const) {
      const started = performance.now();
      await run();
      times.push(performance.now() - started);
    }
    console.error(`  round ${r + 1}/${repeats}: one planned run ${batchMs[r].toFixed(0)} ms, ${IMAGES} calls ${singleMs[r].toFixed(0)} ms`);
  }
  const rows = [
    { label: `${IMAGES} images x SmoothGrad ${SAMPLES}: one planned run`, ms: batchMs, medianMs: median(batchMs), imagesPerSecond: IMAGES / (median(batchMs) / 1000) },
    { label: `${IMAGES} images x SmoothGrad ${SAMPLES}: ${IMAGES} single-image calls`, ms: singleMs, medianMs: median(singleMs), imagesPerSecond: IMAGES / (median(singleMs) / 1000) },
  ];
  for (const row of rows) console.log(`${row.label}: median ${row.medianMs.toFixed(0)} ms, ${row.imagesPerSecond.toFixed(1)} images/s`);
  console.log(`speed-up ${(rows[1].medianMs / rows[0].medianMs).toFixed(2)}x; batched vs single maps: max relative L2 ${error.toExponential(2)}`);

  const info = describeDevice(device);
  const software = isSoftwareAdapterInfo((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
  const date = new Date().toISOString().slice(0, 10);
  const out = flag(args, '--out') ?? `bench/results/${software ? 'lavapipe' : 'gpu'}-batch-${date}.json`;
  const report = {
    schema: 'webgpu-xai-batch-bench/1',
    date: new Date().toISOString(),
    git: gitInfoSync(),
    adapter,
    device: info,
    os: release(),
    workload: { model: spec.source, input: shape, images: IMAGES, method: 'smoothGrad', samples: SAMPLES, target: 'top', maxBytes: xai.maxBytes },
    repeats,
    batchedVsSingleRelativeL2: error,
    rows,
    speedup: rows[1].medianMs / rows[0].medianMs,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.error(`wrote ${out}`);
  device.destroy();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
