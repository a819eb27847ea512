/**
 * The benchmark run shared by Node (bench/cli.ts) and the browser page (bench/browser/page.ts):
 * for every workload, time the engine on every method; then, peer by peer, check each peer's
 * output against the engine's and time the peer only when they agree. Returns the report;
 * printing and saving are the caller's.
 */
import type { ExplainContext } from '../src/explain/context.js';
import { SMOOTHGRAD_STREAM } from '../src/explain/smoothgrad.js';
import { Runtime } from '../src/gpu/runtime.js';
import { isSoftwareAdapterInfo } from '../src/gpu/variants.js';
import { Model } from '../src/model/model.js';
import { addGaussianNoise } from '../src/ops/random.js';
import { FULL_SIZES, QUICK_SIZES, planMethod, runEngine, type MethodPlan, type PlannedMethod } from './methods.js';
import { WORKLOADS, benchImage, type ModelSource } from './models.js';
import type { BenchOptions } from './options.js';
import { loadJaxPeer } from './peers/jax.js';
import { PEER_NAMES, PeerUnsupportedError, type CheckInputs, type Peer, type PeerName, type PeerPlatform } from './peers/peer.js';
import { loadTfjsPeer } from './peers/tfjs.js';
import { FLOP_CONVENTION, SCHEMA, compareWithEngine, derive, sortRows, timingFrom, type DeviceInfo, type PeerInfo, type Report, type Row } from './report.js';
import { GpuTimer, measure, type MeasureOptions } from './timing.js';
import { relativeL2 } from '../tests/reference/tensor.js';

export const ENGINE = 'webgpu-xai';

export interface BenchEnvironment {
  /** Extra facts for the report (runtime, OS, user agent, ...). */
  info: Record<string, unknown>;
  git: { commit?: string; dirty?: boolean };
  source: ModelSource;
  /** The engine's device. */
  device: GPUDevice;
  /** What the peers need from the platform (Node: navigator.gpu, the TF.js wasm files). */
  platform: PeerPlatform;
  log(line: string): void;
  /** Called with the report so far after each row is measured (Node saves it, so a run cut short keeps what it measured). */
  checkpoint?(report: Report): void | Promise<void>;
}

export function describeDevice(device: GPUDevice): DeviceInfo {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const limits: Record<string, number> = {};
  for (const name of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension'] as const) {
    limits[name] = device.limits[name];
  }
  const software = isSoftwareAdapterInfo(info);
  return {
    vendor: info?.vendor || undefined,
    architecture: info?.architecture || undefined,
    device: info?.device || undefined,
    description: info?.description || undefined,
    driver: info?.description || undefined,
    software,
    features: [...device.features].sort(),
    limits,
    timestampQuery: device.features.has('timestamp-query'),
  };
}

/** Relative L2 error; a result of the wrong length counts as total disagreement. */
function disagreement(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  return actual.length === expected.length ? relativeL2(actual, expected) : Number.POSITIVE_INFINITY;
}

function norm(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return Math.sqrt(sum);
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 300);
}

function paramsOf(plan: MethodPlan): Record<string, unknown> {
  const { id: _id, ...rest } = plan;
  return plan.id === 'filters' ? { ...rest, channels: plan.channels.length } : rest;
}

function loadPeer(name: PeerName, platform: PeerPlatform): Promise<Peer> {
  switch (name) {
    case 'tfjs-webgpu': return loadTfjsPeer('webgpu', platform);
    case 'tfjs-wasm': return loadTfjsPeer('wasm', platform);
    case 'jax-webgpu': return loadJaxPeer(platform);
  }
}

/** A peer ready to run, with its timer (undefined: wall time only). */
interface ActivePeer {
  peer: Peer;
  timer?: GpuTimer;
}

/** One method of a workload as the engine ran it. */
interface EngineResult {
  planned: PlannedMethod;
  base: Omit<Row, 'implementation' | 'status'>;
  /** The engine's map; undefined when its run failed. */
  values?: Float32Array;
}

export async function runBench(env: BenchEnvironment, options: BenchOptions): Promise<Report> {
  const rt = new Runtime(env.device, { kernels: options.kernels });
  const timer = options.gpuTiming ? GpuTimer.attach(env.device) : undefined;
  const device = { ...describeDevice(env.device), kernels: rt.kernelVariant };
  const rows: Row[] = [];
  const peerInfos: PeerInfo[] = [];
  const sizes = {
    ...(options.quick ? QUICK_SIZES : FULL_SIZES),
    ...(options.samples ? { smoothgradSamples: options.samples } : {}),
    ...(options.steps ? { igSteps: options.steps } : {}),
  };
  const measureOptions: MeasureOptions = { warmup: options.warmup, repeats: options.repeats, budgetMs: options.budgetMs, minRepeats: options.minRepeats };

  const peers: ActivePeer[] = [];
  for (const name of PEER_NAMES) {
    if (!options.peers.includes(name)) {
      peerInfos.push({ name, status: 'not-requested' });
      continue;
    }
    try {
      const peer = await loadPeer(name, env.platform);
      const peerTimer = options.gpuTiming && peer.device ? GpuTimer.attach(peer.device) : undefined;
      peers.push({ peer, timer: peerTimer });
      peerInfos.push({ name, status: 'ok', version: peer.version, adapter: { ...peer.details, timestampQuery: !!peerTimer } });
      env.log(`peer: ${name} ${peer.version} ${JSON.stringify(peer.details)}`);
    } catch (error) {
      peerInfos.push({ name, status: 'unavailable', reason: message(error) });
      env.log(`peer: ${name} unavailable: ${message(error)}`);
    }
  }

  /** The report of the rows so far (a checkpoint after each workload, and the result). */
  const report = (): Report => {
    const compared = rows.map((row) => ({ ...row }));
    compareWithEngine(compared, ENGINE);
    const gpuNote = 'GPU busy time: sum of the compute passes\' durations from timestamp queries (kernels only; copies and idle gaps excluded)';
    const basisUsed = compared.some((r) => r.timing?.basis === 'gpu-busy');
    return {
      schema: SCHEMA,
      date: new Date().toISOString(),
      git: env.git,
      environment: env.info,
      device: { ...device, timestampQuantized: timer?.quantized },
      timer: basisUsed
        ? { basis: 'gpu-busy', note: `${gpuNote}${timer?.quantized ? ' [timestamps quantized to 65.5 us]' : ''}; wall = performance.now() from call to result on the CPU` }
        : { basis: 'wall', note: `wall time from call to result on the CPU (performance.now()); ${device.timestampQuery ? 'GPU timing off' : 'no timestamp-query on this device'}` },
      options: { ...options, sizes },
      flopConvention: FLOP_CONVENTION,
      peers: peerInfos,
      rows: sortRows(compared, [ENGINE, ...PEER_NAMES]),
    };
  };

  for (const id of options.workloads) {
    const workload = WORKLOADS[id];
    env.log(`workload ${id}: loading ${workload.title}`);
    let model: Model;
    let files;
    let spec;
    try {
      ({ spec, files } = await workload.load(env.source));
      model = Model.create(rt, spec);
    } catch (error) {
      env.log(`workload ${id}: cannot load: ${message(error)}`);
      rows.push({ workload: id, method: '-', implementation: ENGINE, precision: 'fp32', label: 'load', params: {}, status: 'error', note: message(error), images: 0, flops: 0 });
      continue;
    }
    const ctx: ExplainContext = { model, rt, inputRange: workload.inputRange, maxChunk: 256 };
    const image = benchImage(model.inputShape, workload.inputRange);
    const classes = model.shapes(1).get(model.logitsName)!.at(-1)!;
    env.log(`workload ${id}: ${(model.flops(1) / 1e9).toFixed(3)} GFLOP per forward of one image, input [${model.inputShape.join(', ')}], ${classes} logits`);

    const results: EngineResult[] = [];
    for (const methodId of options.methods) {
      let planned: PlannedMethod;
      try {
        planned = planMethod(methodId, model, workload, sizes);
      } catch (error) {
        rows.push({ workload: id, method: methodId, implementation: ENGINE, precision: 'fp32', label: methodId, params: {}, status: 'error', note: message(error), images: 0, flops: 0 });
        continue;
      }
      const { plan, label } = planned;
      const result: EngineResult = { planned, base: { workload: id, method: plan.id, precision: 'fp32', label, params: paramsOf(plan), images: planned.images, flops: planned.flops } };
      results.push(result);
      env.log(`${id} / ${label}: ${ENGINE} ...`);
      try {
        result.values = await runEngine(ctx, image, plan);
        const measurement = await measure(() => runEngine(ctx, image, plan), measureOptions, timer);
        const row = derive({ ...result.base, implementation: ENGINE, status: 'ok', timing: timingFrom(measurement, !!timer), outputL2: norm(result.values) }, options.peak);
        if (options.profile) {
          rt.beginProfile();
          await runEngine(ctx, image, plan);
          row.kernels = rt.endProfile();
        }
        rows.push(row);
        env.log(`${id} / ${label}: ${ENGINE} ${row.timing!.ms.toFixed(2)} ms (${row.timing!.basis}), wall ${row.timing!.wall.median.toFixed(2)} ms`);
      } catch (error) {
        rows.push({ ...result.base, implementation: ENGINE, status: 'error', note: message(error) });
        env.log(`${id} / ${label}: ${ENGINE} failed: ${message(error)}`);
      }
      await env.checkpoint?.(report());
    }

    // SmoothGrad's check runs every peer on the engine's own noisy copies (made once)
    let engineNoise: Float32Array | undefined;
    const checkInputs = async (plan: MethodPlan): Promise<CheckInputs> => {
      if (plan.id !== 'smoothgrad') return {};
      if (!engineNoise) {
        const x = rt.upload([1, ...model.inputShape], image, 'bench.image');
        const sigma = plan.noise * (workload.inputRange[1] - workload.inputRange[0]);
        const noisy = addGaussianNoise(rt, x, plan.samples, sigma, { seed: plan.seed, stream: SMOOTHGRAD_STREAM });
        engineNoise = await rt.read(noisy);
        noisy.dispose();
        x.dispose();
      }
      return { noisy: engineNoise };
    };

    for (const { peer, timer: peerTimer } of peers) {
      const runnable = results.filter((r) => {
        const unsupported = peer.unsupported(r.planned.plan, !!files);
        if (unsupported) rows.push({ ...r.base, implementation: peer.name, status: 'unsupported', note: unsupported });
        return !unsupported;
      });
      if (!runnable.length) continue;
      let peerModel;
      try {
        peerModel = await peer.loadModel(spec, model.logitsName, classes, files);
      } catch (error) {
        const note = `${peer.name} could not load the model: ${message(error)}`;
        env.log(`workload ${id}: ${note}`);
        for (const r of runnable) rows.push({ ...r.base, implementation: peer.name, status: 'error', note });
        continue;
      }
      for (const { planned: { plan, label }, base, values: engineValues } of runnable) {
        const peerRow: Row = { ...base, implementation: peer.name, status: 'ok' };
        if (!engineValues) {
          rows.push({ ...peerRow, status: 'refused', note: 'the engine run failed, so there is nothing to check the peer against' });
          continue;
        }
        try {
          // the check: the peer's output on the same input (and, for SmoothGrad, the engine's noise)
          const check = await checkInputs(plan);
          const checkNote = check.noisy ? 'checked on the engine\'s noisy copies; timed with its own noise' : undefined;
          peer.takeErrors();
          const peerValues = await peer.run(peerModel, image, model.inputShape, plan, workload.inputRange, check);
          if (peer.device) await peer.device.queue.onSubmittedWorkDone();
          const errors = peer.takeErrors();
          const error = disagreement(peerValues, engineValues);
          const ok = error <= options.tolerance;
          peerRow.check = { against: ENGINE, relativeL2: error, tolerance: options.tolerance, ok, note: checkNote };
          peerRow.outputL2 = norm(peerValues);
          if (!ok) {
            rows.push({ ...peerRow, status: 'refused', note: `output differs from ${ENGINE} (relative L2 ${error.toExponential(2)} > ${options.tolerance}): not timed${errors}` });
            env.log(`${id} / ${label}: ${peer.name} REFUSED, relative L2 ${error.toExponential(2)}`);
            continue;
          }
          const measurement = await measure(() => peer.run(peerModel, image, model.inputShape, plan, workload.inputRange), measureOptions, peerTimer);
          const row = derive({ ...peerRow, timing: timingFrom(measurement, !!peerTimer), note: errors ? `passed the check despite${errors}` : undefined }, options.peak);
          rows.push(row);
          env.log(`${id} / ${label}: ${peer.name} ${row.timing!.ms.toFixed(2)} ms (${row.timing!.basis}), wall ${row.timing!.wall.median.toFixed(2)} ms, relative L2 ${error.toExponential(2)}`);
        } catch (error) {
          const status = error instanceof PeerUnsupportedError ? 'unsupported' : 'error';
          rows.push({ ...peerRow, status, note: `${message(error)}${peer.takeErrors()}` });
          env.log(`${id} / ${label}: ${peer.name} ${status === 'error' ? 'failed' : 'cannot'}: ${message(error)}`);
        }
        await env.checkpoint?.(report());
      }
      peerModel.dispose();
    }
    model.dispose();
    rt.trim();
  }

  timer?.detach();
  for (const { timer: peerTimer } of peers) peerTimer?.detach();
  return report();
}
