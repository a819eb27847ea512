/**
 * `npm run bench:perturbation`: where a GPU should pay most (issue 13), the perturbation methods,
 * timed in the engine and in TF.js on the same adapter (WebGPU) and on the CPU (WebAssembly), in
 * the same run: LIME (1000 samples), KernelSHAP (1000 coalitions), Score-CAM (one copy per channel
 * of the default layer) and RISE (4000 masks) on @vladmandic/human's emotion model (64x64x1, the
 * model of `npm run explain:demo`), one image, its top class. The TF.js peers
 * (bench/peers/tfjs_perturbation.ts) run the same number of masked forward passes with the same
 * masks (LIME, KernelSHAP: the engine's segmentation, the same regression on the CPU), and each
 * result is checked against the engine's. Each row: one small warm-up call (pipelines compiled),
 * then `--repeats` timed calls (median; default 1, the machine is shared); throughput in masked
 * forward passes per second. Writes a table and bench/results/<adapter>-perturbation-<date>.json.
 * `--scale F` multiplies the sample counts (a quick dry run), `--peers a,b` picks the peers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg, release } from 'node:os';
import { dirname, join } from 'node:path';
import { Explainer } from '../src/explain/explainer.js';
import { filesFromPath } from '../src/model/loaders/files.js';
import { loadModelSpec } from '../src/model/loaders/index.js';
import { isSoftwareAdapterInfo } from '../src/gpu/variants.js';
import { relativeL2 } from '../tests/reference/tensor.js';
import { benchNodeDevices } from './device-node.js';
import { gitInfoSync } from './git.js';
import { benchImage } from './models.js';
import { loadTfjsPerturbationPeer, type PeerInput, type PerturbationPeer } from './peers/tfjs_perturbation.js';
import { describeDevice } from './run.js';

const MODEL = '@vladmandic/human/models/emotion.json';
const METHODS = ['lime', 'kernelshap', 'scorecam', 'rise'] as const;
type Method = (typeof METHODS)[number];
const PEERS = ['tfjs-webgpu', 'tfjs-wasm'] as const;

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Pearson correlation: RISE's peer draws its own random masks, so its map can only agree in shape. */
function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const [ma, mb] = [Array.from(a).reduce((s, v) => s + v, 0) / n, Array.from(b).reduce((s, v) => s + v, 0) / n];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    ab += (a[i] - ma) * (b[i] - mb);
    aa += (a[i] - ma) ** 2;
    bb += (b[i] - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Largest difference relative to the engine's largest magnitude. */
function maxRelative(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  const scale = Math.max(...Array.from(expected, Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / scale);
  return worst;
}

interface Row {
  method: Method;
  runner: string;
  forwardPasses: number;
  ms: number[];
  medianMs: number;
  passesPerSecond: number;
  /** The engine's median over this row's (peers only). */
  engineSpeedup?: number;
  check?: { measure: string; value: number };
  error?: string;
}

async function main(args: string[]): Promise<void> {
  const repeats = Number(flag(args, '--repeats') ?? 1);
  const scale = Number(flag(args, '--scale') ?? 1);
  const peers = (flag(args, '--peers') ?? PEERS.join(',')).split(',').filter(Boolean) as (typeof PEERS)[number][];
  const counts = { lime: Math.round(1000 * scale), kernelshap: Math.round(1000 * scale), rise: Math.round(4000 * scale) };
  const { device, gpu, adapter } = await benchNodeDevices();
  const files = filesFromPath(join(process.cwd(), 'node_modules', MODEL));
  const spec = await loadModelSpec(files);
  const xai = await Explainer.create(device, spec, { inputRange: [0, 1] });
  const shape = xai.model.inputShape as [number, number, number];
  const image = { data: benchImage(shape, [0, 1], 3), shape };
  const load = loadavg();
  console.error(`perturbation bench on ${adapter}: emotion ${shape.join('x')}, LIME ${counts.lime}, KernelSHAP ${counts.kernelshap}, Score-CAM, RISE ${counts.rise}; load average ${load.map((v) => v.toFixed(1)).join(' ')}`);

  const time = async <R>(run: () => Promise<R>): Promise<{ result: R; ms: number[] }> => {
    const ms: number[] = [];
    let result: R | undefined;
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      result = await run();
      ms.push(performance.now() - started);
    }
    return { result: result!, ms };
  };

  // the engine: a small warm-up call per method, then the timed ones
  const top = (await xai.lime(image, { samples: 8 })).target;
  const target = top;
  await xai.kernelShap(image, { samples: 8, target });
  await xai.scoreCam(image, { target });
  await xai.rise(image, { masks: 8, target });
  const lime = await time(() => xai.lime(image, { samples: counts.lime, seed: 0, target }));
  const shap = await time(() => xai.kernelShap(image, { samples: counts.kernelshap, seed: 0, target }));
  const cam = await time(() => xai.scoreCam(image, { target }));
  const rise = await time(() => xai.rise(image, { masks: counts.rise, seed: 0, target }));
  const passes: Record<Method, number> = { lime: counts.lime, kernelshap: shap.result.samples + 2, scorecam: cam.result.channelScores.length, rise: counts.rise };
  const engineMs: Record<Method, number[]> = { lime: lime.ms, kernelshap: shap.ms, scorecam: cam.ms, rise: rise.ms };
  const rows: Row[] = METHODS.map((method) => ({ method, runner: 'webgpu-xai', forwardPasses: passes[method], ms: engineMs[method], medianMs: median(engineMs[method]), passesPerSecond: passes[method] / (median(engineMs[method]) / 1000) }));
  for (const row of rows) console.error(`  webgpu-xai ${row.method}: ${row.medianMs.toFixed(0)} ms`);

  const input: PeerInput = { image: image.data, shape, target, labels: lime.result.segmentation.labels, segments: lime.result.segmentation.segments };
  const wasmFiles = `${join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`;
  for (const name of peers) {
    let peer: PerturbationPeer | undefined;
    try {
      peer = await loadTfjsPerturbationPeer(name === 'tfjs-webgpu' ? 'webgpu' : 'wasm', { gpu, tfjsWasmFiles: wasmFiles }, files, xai.model.logitsName);
    } catch (error) {
      for (const method of METHODS) rows.push({ method, runner: name, forwardPasses: passes[method], ms: [], medianMs: NaN, passesPerSecond: NaN, error: String((error as Error).message ?? error) });
      continue;
    }
    const p = peer;
    const runs: Record<Method, { warm: () => Promise<unknown>; run: () => Promise<ArrayLike<number>>; check: (values: ArrayLike<number>) => { measure: string; value: number } }> = {
      lime: { warm: () => p.lime(input, 8, 0), run: () => p.lime(input, counts.lime, 0), check: (v) => ({ measure: 'max relative difference of the segment weights', value: maxRelative(v, lime.result.weights) }) },
      kernelshap: { warm: () => p.kernelShap(input, 8, 0), run: () => p.kernelShap(input, counts.kernelshap, 0), check: (v) => ({ measure: 'max relative difference of the Shapley values', value: maxRelative(v, shap.result.shapValues) }) },
      scorecam: { warm: () => p.scoreCam(input, cam.result.layer), run: () => p.scoreCam(input, cam.result.layer), check: (v) => ({ measure: 'relative L2 difference of the maps', value: relativeL2(v, cam.result.values) }) },
      rise: { warm: () => p.rise(input, 8, 7, 0.5, 1), run: () => p.rise(input, counts.rise, 7, 0.5, 1), check: (v) => ({ measure: 'correlation of the maps (own random masks)', value: correlation(v, rise.result.values) }) },
    };
    for (const method of METHODS) {
      const base = { method, runner: `${name} ${peer.version}`, forwardPasses: passes[method] };
      try {
        await runs[method].warm();
        const { result, ms } = await time(runs[method].run);
        const medianMs = median(ms);
        rows.push({ ...base, ms, medianMs, passesPerSecond: passes[method] / (medianMs / 1000), engineSpeedup: medianMs / median(engineMs[method]), check: runs[method].check(result) });
        console.error(`  ${name} ${method}: ${medianMs.toFixed(0)} ms`);
      } catch (error) {
        rows.push({ ...base, ms: [], medianMs: NaN, passesPerSecond: NaN, error: String((error as Error).message ?? error).split('\n')[0] });
        console.error(`  ${name} ${method}: failed: ${rows.at(-1)!.error}`);
      }
    }
    peer.dispose();
  }

  console.log('| method | forward passes | runner | median ms | passes/s | engine speed-up | check |');
  console.log('|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const check = row.check ? `${row.check.measure} ${row.check.value.toExponential(2)}` : row.error ? `failed: ${row.error}` : '';
    console.log(`| ${row.method} | ${row.forwardPasses} | ${row.runner} | ${row.medianMs.toFixed(0)} | ${row.passesPerSecond.toFixed(1)} | ${row.engineSpeedup ? `${row.engineSpeedup.toFixed(2)}x` : ''} | ${check} |`);
  }

  const software = isSoftwareAdapterInfo((device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo);
  const date = new Date().toISOString().slice(0, 10);
  const out = flag(args, '--out') ?? `bench/results/${software ? 'lavapipe' : 'gpu'}-perturbation-${date}.json`;
  const report = {
    schema: 'webgpu-xai-perturbation-bench/1',
    date: new Date().toISOString(),
    git: gitInfoSync(),
    adapter,
    device: describeDevice(device),
    os: release(),
    load: { average: load, after: loadavg(), note: 'a shared machine: 2 CPU cores (lavapipe) used by about 7 engineers at the same time, so the absolute times are inflated and noisy; the rows ran one after the other in one process' },
    workload: { model: MODEL, input: shape, target, segmentation: `slic, ${input.segments} segments`, samples: counts, scoreCamLayer: cam.result.layer, maxBytes: xai.maxBytes, peerBatch: 32 },
    repeats,
    scale,
    ...(scale !== 1 ? { scaleNote: `sample counts are ${scale} x the issue's (LIME 1000, KernelSHAP 1000, RISE 4000) to keep the run short on the loaded machine; throughput (passes/s) is the comparable number` } : {}),
    rows,
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
