/**
 * What the benchmark asks of a peer: load the workload's model, run one explanation and hand back
 * the map, so that run.ts can check it against the engine's before timing it. The peers are the
 * libraries a web developer would otherwise use, each written the way its users write these
 * methods: TF.js on WebGPU and on WebAssembly (bench/peers/tfjs.ts), jax-js on WebGPU
 * (bench/peers/jax.ts).
 */
import { occlusionGeometry } from '../../src/explain/occlusion.js';
import type { ModelFiles } from '../../src/model/loaders/files.js';
import type { ModelSpec } from '../../src/model/spec.js';
import type { MethodPlan } from '../methods.js';

export type PeerName = 'tfjs-webgpu' | 'tfjs-wasm' | 'jax-webgpu';
export const PEER_NAMES: readonly PeerName[] = ['tfjs-webgpu', 'tfjs-wasm', 'jax-webgpu'];

/** Occluded copies per forward batch in the peers' occlusion: LayersModel.predict's default batchSize. */
export const OCCLUSION_BATCH = 32;

/** The occlusion windows of an h x w image as a mask [windows, h, w]: 1 where window n covers pixel (y, x). */
export function occlusionMask(h: number, w: number, plan: Extract<MethodPlan, { id: 'occlusion' }>): { windows: number; mask: Float32Array } {
  const { window, stride, grid } = occlusionGeometry(h, w, { window: plan.window, stride: plan.stride });
  const windows = grid[0] * grid[1];
  const mask = new Float32Array(windows * h * w);
  for (let wy = 0; wy < grid[0]; wy++) {
    for (let wx = 0; wx < grid[1]; wx++) {
      const n = wy * grid[1] + wx;
      const left = (n * h) * w + wx * stride[1];
      for (let y = wy * stride[0]; y < wy * stride[0] + window[0]; y++) mask.fill(1, left + y * w, left + y * w + window[1]);
    }
  }
  return { windows, mask };
}

/** Thrown by a peer that cannot run a method on a model (a kernel its backend lacks): the row says 'unsupported'. */
export class PeerUnsupportedError extends Error {}

/** Inputs that make a peer run reproduce the engine's run exactly, for the correctness check. */
export interface CheckInputs {
  /** SmoothGrad: the engine's noisy copies [n, H, W, C] instead of the peer's own noise. */
  noisy?: Float32Array;
}

/** The workload's model loaded by a peer, with what run() needs to know about it. */
export interface PeerModel {
  dispose(): void;
}

/** What a peer needs from its platform. */
export interface PeerPlatform {
  /** navigator.gpu where the platform has none (Node: a Dawn GPU object). */
  gpu?: GPU;
  /** Folder or URL prefix (ending in '/') of @tensorflow/tfjs-backend-wasm's .wasm files. */
  tfjsWasmFiles?: string;
}

export interface Peer {
  readonly name: PeerName;
  readonly version: string;
  /** Where it runs, for the report (adapter, SIMD, threads, ...). */
  readonly details: Record<string, unknown>;
  /** The GPUDevice its work runs on, for timestamp timing; undefined for a CPU peer. */
  readonly device?: GPUDevice;
  /** Why it cannot run `plan` (on a model from files when `fromFiles`), or undefined when it can. */
  unsupported(plan: MethodPlan, fromFiles: boolean): string | undefined;
  /**
   * Makes this peer current (TF.js's backends share one engine) and loads the model up to its
   * logits node. run() is called only with the model most recently loaded.
   */
  loadModel(spec: ModelSpec, logitsNode: string, classes: number, files?: ModelFiles): Promise<PeerModel>;
  /**
   * One explanation of `image` ([H, W, C] = `shape`, values in `range`); resolves with the map on
   * the CPU ([H, W, C], or [H, W] for occlusion). `check` replaces its random parts with the engine's.
   */
  run(model: PeerModel, image: Float32Array, shape: readonly number[], plan: MethodPlan, range: readonly [number, number], check?: CheckInputs): Promise<Float32Array>;
  /** Validation errors its device reported since the last call, as a note ('' when none). */
  takeErrors(): string;
}

/**
 * Makes `gpu` navigator.gpu for libraries that look for it there (Node 20 has no navigator). They
 * also read navigator.userAgent (jax-js, to detect Firefox).
 */
export function provideNavigatorGpu(gpu: GPU | undefined): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return;
  if (!gpu) throw new Error('this peer needs navigator.gpu and none was given');
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'Node.js' }, configurable: true, writable: true });
}

/** Collects a device's uncaptured errors (libraries leave them uncaptured) for the row's note. */
export function collectDeviceErrors(device: GPUDevice, label: string): () => string {
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (event) => {
    event.preventDefault();
    if (errors.length < 100) errors.push((event as GPUUncapturedErrorEvent).error.message.split('\n')[0]);
  });
  return () => {
    const unique = [...new Set(errors.splice(0))];
    return unique.length ? ` (${label} errors: ${unique.slice(0, 2).join('; ')}${unique.length > 2 ? '; ...' : ''})` : '';
  };
}
