/**
 * One GPU runtime per test worker. Without an adapter the GPU tests are skipped, never passed;
 * CI sets WEBGPU_XAI_REQUIRE_ADAPTER=1 so that a missing adapter fails the run instead.
 */
import { describe } from 'vitest';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { Runtime } from '../src/gpu/runtime.js';
import type { KernelVariant } from '../src/gpu/variants.js';

let device: GPUDevice | undefined;
let unavailable: unknown;
try {
  device = await requestNodeDevice({ onSoftwareAdapter: () => {} });
} catch (error) {
  unavailable = error;
  if (process.env.WEBGPU_XAI_REQUIRE_ADAPTER) throw error;
}

export const hasAdapter = device !== undefined;

/** Both kernel variants, for ops that have them: tests run each whatever the adapter would pick. */
export const KERNEL_VARIANTS: readonly KernelVariant[] = ['register', 'tiled'];

/**
 * A fresh runtime on the worker's device that poisons every new tensor with NaN; `kernels` forces
 * a kernel variant (default: the device's own choice).
 */
export function testRuntime(kernels?: KernelVariant): Runtime {
  if (!device) throw new Error(`no WebGPU adapter: ${String(unavailable)}`);
  return new Runtime(device, { poison: true, kernels });
}

/** `describe` that skips (visibly) when this machine has no WebGPU adapter. */
export const describeGpu = hasAdapter ? describe : describe.skip;
