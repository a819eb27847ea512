/**
 * Device acquisition shared by the browser and Node: ask the adapter for its real limits instead
 * of WebGPU's conservative defaults (128 MiB storage bindings, 16 KiB workgroup memory), so that
 * planning works with what the hardware offers.
 */
import { GpuUnavailableError } from '../errors.js';

/** Limits the engine plans around; requested at the adapter's maximum. */
const PLANNED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

/** Requests a device from `adapter` with the adapter's own limits for everything the engine plans around. */
export async function requestDeviceWithAdapterLimits(adapter: GPUAdapter, label = 'webgpu-xai'): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const name of PLANNED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  try {
    return await adapter.requestDevice({ label, requiredLimits, requiredFeatures });
  } catch (cause) {
    throw new GpuUnavailableError(`The WebGPU adapter refused a device with its own limits: ${String(cause)}`, { cause });
  }
}

/** Browser: a device from `navigator.gpu`, preferring the high-performance adapter. */
export async function requestBrowserDevice(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<GPUDevice> {
  if (!gpu) {
    throw new GpuUnavailableError(
      'This browser has no WebGPU (navigator.gpu is undefined). Use a recent Chrome, Edge or Safari, ' +
        'or enable WebGPU in the browser flags; the page must be served over https or from localhost.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new GpuUnavailableError('navigator.gpu.requestAdapter() returned null: WebGPU is present but no adapter is available (blocklisted GPU or disabled in flags).');
  return requestDeviceWithAdapterLimits(adapter);
}
