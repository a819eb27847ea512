/**
 * Node devices for the benchmark. `requestNodeDevice` picks the adapter (hardware, else a software
 * Vulkan driver, which it selects through VK_ICD_FILENAMES for the rest of the process); its Dawn
 * instance quantizes timestamps to 65.5 us. The benchmark then opens its own Dawn instance with
 * the `timestamp_quantization` toggle off, on the same driver, and takes from it
 *   - the engine's device (requested as the engine requests it: adapter limits, timestamp-query),
 *   - `navigator.gpu` for TF.js, which requests its own device from the same adapter.
 */
import { requestDeviceWithAdapterLimits } from '../src/gpu/device.js';
import { describeAdapter, requestNodeDevice } from '../src/gpu/node-device.js';

/** Dawn aborts if a GPU object is collected while its devices live: keep ours for the process. */
const instances: GPU[] = [];

export interface BenchNodeDevices {
  device: GPUDevice;
  gpu: GPU;
  /** The adapter as `requestNodeDevice` described it. */
  adapter: string;
}

export async function benchNodeDevices(): Promise<BenchNodeDevices> {
  let chosen = '';
  const probe = await requestNodeDevice({ onSoftwareAdapter: (line) => console.warn(line) });
  chosen = probe.adapterInfo ? describeAdapterInfo(probe.adapterInfo) : '';
  probe.destroy();
  const { create } = await import('webgpu');
  const gpu = create(['disable-dawn-features=timestamp_quantization']);
  instances.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('A second Dawn instance found no adapter where the first found one');
  const device = await requestDeviceWithAdapterLimits(adapter, 'webgpu-xai bench');
  const described = describeAdapter(adapter);
  if (chosen && described !== chosen) console.warn(`bench: adapter '${described}' differs from the engine's default '${chosen}'`);
  return { device, gpu, adapter: described };
}

function describeAdapterInfo(info: GPUAdapterInfo): string {
  return info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ');
}
