/**
 * `npm run bench:emotion-forward`: the engine's batched forward pass of @vladmandic/human's emotion
 * model (64x64x1 mini-Xception, the model of `npm run bench:perturbation`), the work of every
 * forward-only perturbation method. Per batch size (`--batches 32,64`): forward passes per second
 * (`--rounds` timed forwards each read back, the batch sizes interleaved round by round; median),
 * then one profiled forward with every layer flushed on its own, so that the GPU time per layer
 * (timestamp queries, `Runtime.beginProfile()`) sits beside the layer's FLOPs (`--no-profile`:
 * skip it). `--lime N`: a profiled LIME call of N samples, GPU time per kernel (masking and score
 * gathering beside the model) and the chunks its schedule ran. Prints tables; `--out FILE` writes the JSON.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Explainer } from '../src/explain/explainer.js';
import { Runtime } from '../src/gpu/runtime.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { filesFromPath } from '../src/model/loaders/files.js';
import { loadModelSpec } from '../src/model/loaders/index.js';
import { Model } from '../src/model/model.js';
import { benchNodeDevices } from './device-node.js';
import { gitInfoSync } from './git.js';
import { benchImage } from './models.js';

const MODEL = '@vladmandic/human/models/emotion.json';

function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

interface LayerTime {
  layer: string;
  kind: string;
  shape: readonly number[];
  mflops: number;
  ms: number;
  kernels: string[];
}

async function main(args: string[]): Promise<void> {
  const batches = (flag(args, '--batches') ?? '32,64').split(',').map(Number);
  const rounds = Number(flag(args, '--rounds') ?? 5);
  const { device, adapter } = await benchNodeDevices();
  const rt = new Runtime(device);
  const model = Model.create(rt, await loadModelSpec(filesFromPath(join(process.cwd(), 'node_modules', MODEL))));
  const shape = model.inputShape as [number, number, number];
  const image = benchImage(shape, [0, 1], 3);
  const load = loadavg();
  console.error(`emotion forward on ${adapter} (kernels: ${rt.kernelVariant}); load average ${load.map((v) => v.toFixed(1)).join(' ')}`);
  const inputs = batches.map((n) => {
    const data = new Float32Array(n * image.length);
    for (let i = 0; i < n; i++) data.set(image, i * image.length);
    return rt.upload([n, ...shape], data);
  });
  const forward = async (x: Tensor) => {
    const pass = model.forward(x);
    await rt.read(pass.value(model.outputName));
    pass.dispose();
  };
  for (const x of inputs) await forward(x); // pipelines compiled
  // the batch sizes interleaved round by round: the shared machine's load drifts
  const ms: number[][] = batches.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [b, x] of inputs.entries()) {
      const started = performance.now();
      await forward(x);
      ms[b].push(performance.now() - started);
    }
  }
  const results = [];
  for (const [b, n] of batches.entries()) {
    const layers = device.features.has('timestamp-query') && !args.includes('--no-profile') ? await profileLayers(rt, model, inputs[b]) : [];
    inputs[b].dispose();
    const wall = median(ms[b]);
    const gpuMs = layers.reduce((s, l) => s + l.ms, 0);
    results.push({ batch: n, ms: ms[b], medianMs: wall, passesPerSecond: n / (wall / 1000), gflops: model.flops(n) / 1e9, profiledGpuMs: gpuMs, layers });
    console.log(`\nbatch ${n}: ${wall.toFixed(1)} ms wall (${(n / (wall / 1000)).toFixed(1)} passes/s; rounds ${ms[b].map((v) => v.toFixed(0)).join(' ')}), ${(model.flops(n) / 1e9).toFixed(2)} GFLOP, profiled GPU ${gpuMs.toFixed(1)} ms`);
    if (!layers.length) continue;
    console.log('| layer | kind | output | MFLOP | GPU ms | share | GFLOP/s | kernels |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const l of [...layers].sort((a, c) => c.ms - a.ms)) {
      console.log(`| ${l.layer.replace('StatefulPartitionedCall/model_1/', '')} | ${l.kind} | ${l.shape.join('x')} | ${l.mflops.toFixed(1)} | ${l.ms.toFixed(2)} | ${((100 * l.ms) / gpuMs).toFixed(1)}% | ${(l.mflops / l.ms).toFixed(2)} | ${l.kernels.join(' ')} |`);
    }
  }
  // a whole LIME call (`--lime N` samples): which kernels its GPU time goes to, masking and score
  // gathering included, and the chunk sizes the schedule picked (dispatches of conv2d / layers)
  const limeSamples = Number(flag(args, '--lime') ?? 0);
  let lime;
  if (limeSamples && device.features.has('timestamp-query')) {
    const xai = await Explainer.create(rt, model, { inputRange: [0, 1] });
    const img = { data: image, shape };
    const target = (await xai.lime(img, { samples: 8 })).target;
    await xai.lime(img, { samples: limeSamples, seed: 0, target }); // the pace measured, as in a second call
    rt.beginProfile();
    const started = performance.now();
    await xai.lime(img, { samples: limeSamples, seed: 1, target });
    const wall = performance.now() - started;
    const kernels = rt.endProfile();
    const gpuMs = kernels.reduce((a, k) => a + k.ms, 0);
    const convDispatches = kernels.find((k) => k.kernel === 'conv2d.forward')?.dispatches ?? 0;
    const chunks = convDispatches / [...model.layers.values()].filter((l) => l.spec.kind === 'conv2d').length;
    lime = { samples: limeSamples, wallMs: wall, passesPerSecond: limeSamples / (wall / 1000), gpuMs, chunks, kernels };
    console.log(`\nLIME ${limeSamples} samples: ${wall.toFixed(0)} ms wall (${lime.passesPerSecond.toFixed(1)} passes/s, profiled), GPU ${gpuMs.toFixed(0)} ms in ${chunks} chunks (${(limeSamples / chunks).toFixed(1)} copies each)`);
    console.log('| kernel | GPU ms | share | dispatches |');
    console.log('|---|---|---|---|');
    for (const k of kernels) console.log(`| ${k.kernel} | ${k.ms.toFixed(1)} | ${((100 * k.ms) / gpuMs).toFixed(1)}% | ${k.dispatches} |`);
  }
  const out = flag(args, '--out');
  if (out) {
    await writeFile(out, JSON.stringify({ date: new Date().toISOString(), adapter, kernels: rt.kernelVariant, git: gitInfoSync(), loadAverage: { start: load, end: loadavg() }, rounds, results, lime }, null, 2));
    console.error(`wrote ${out}`);
  }
  model.dispose();
}

/** One forward of `x`, each layer flushed and timed on its own. */
async function profileLayers(rt: Runtime, model: Model, x: Tensor): Promise<LayerTime[]> {
  const shapes = model.shapes(x.shape[0]);
  const values = new Map([[model.inputName, x]]);
  const times: LayerTime[] = [];
  for (const name of model.order) {
    if (name === model.inputName) continue;
    const layer = model.layer(name);
    const inputs = layer.spec.inputs.map((i) => values.get(i)!);
    await rt.finish();
    rt.beginProfile();
    values.set(name, layer.forward(rt, inputs));
    await rt.finish();
    const kernels = rt.endProfile();
    const mflops = layer.flops(layer.spec.inputs.map((i) => shapes.get(i)!)) / 1e6;
    times.push({ layer: name, kind: layer.spec.kind, shape: shapes.get(name)!, mflops, ms: kernels.reduce((s, k) => s + k.ms, 0), kernels: kernels.map((k) => `${k.kernel}x${k.dispatches}`) });
  }
  for (const [name, t] of values) if (name !== model.inputName) t.dispose();
  return times;
}

main(process.argv.slice(2)).catch((error) => {
  console.error(error);
  process.exit(1);
});
