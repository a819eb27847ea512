/**
 * Node: a GPUDevice through Dawn (the `webgpu` package). Prefers a hardware adapter; where the
 * Vulkan loader finds none, points it at a software driver (Mesa lavapipe, then Chromium's
 * SwiftShader) and says once which one is in use.
 */
import { existsSync } from 'node:fs';
import { GpuUnavailableError } from '../errors.js';
import { requestDeviceWithAdapterLimits } from './device.js';
import { isSoftwareAdapterInfo } from './variants.js';

/** Vulkan ICD manifests of software drivers, in order of preference (lavapipe is 5-10x faster). */
const SOFTWARE_VULKAN_DRIVERS = [
  { name: 'Mesa lavapipe', manifest: '/usr/share/vulkan/icd.d/lvp_icd.json' },
  { name: 'Mesa lavapipe', manifest: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json' },
  { name: 'SwiftShader (Chromium)', manifest: '/usr/lib/chromium/vk_swiftshader_icd.json' },
];

/**
 * Dawn aborts the process if the object returned by `create()` is garbage-collected while devices
 * live, so every instance is kept here for the life of the process.
 */
const dawnInstances: GPU[] = [];
let announced = false;

export interface NodeDeviceOptions {
  /** Called once with a line describing the adapter when it is a software one. Default: console.warn. */
  onSoftwareAdapter?: (message: string) => void;
}

export function describeAdapter(adapter: GPUAdapter): string {
  const { vendor, architecture, description, device } = adapter.info;
  return description || [vendor, architecture, device].filter(Boolean).join(' ');
}

export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  return isSoftwareAdapterInfo(adapter.info);
}

async function adapterFromNewInstance(): Promise<GPUAdapter | null> {
  const { create, globals } = await import('webgpu');
  // WebGPU's enum-like globals (GPUBufferUsage, ...) are needed by code written for browsers.
  Object.assign(globalThis, globals);
  const instance = create([]);
  dawnInstances.push(instance);
  return instance.requestAdapter({ powerPreference: 'high-performance' });
}

/** Requests a Node GPUDevice, falling back to a software Vulkan driver found by path. */
export async function requestNodeDevice(options: NodeDeviceOptions = {}): Promise<GPUDevice> {
  const report = options.onSoftwareAdapter ?? ((message: string) => console.warn(message));
  let adapter: GPUAdapter | null;
  try {
    adapter = await adapterFromNewInstance();
  } catch (cause) {
    throw new GpuUnavailableError(`The 'webgpu' package (Dawn for Node) could not be loaded: ${String(cause)}. Install it with 'npm install webgpu'.`, { cause });
  }
  if (!adapter && !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    for (const driver of SOFTWARE_VULKAN_DRIVERS) {
      if (!existsSync(driver.manifest)) continue;
      // The Vulkan loader reads this when Dawn creates its next instance.
      process.env.VK_ICD_FILENAMES = driver.manifest;
      adapter = await adapterFromNewInstance();
      if (adapter) break;
      delete process.env.VK_ICD_FILENAMES;
    }
  }
  if (!adapter) {
    throw new GpuUnavailableError(
      'No WebGPU adapter: Dawn found no Vulkan driver. On a machine without a GPU install Mesa lavapipe 25 ' +
        "(Debian bookworm: 'apt-get install -t bookworm-backports mesa-vulkan-drivers'; bookworm's own 22.x is too old for Dawn) " +
        "or Chromium's SwiftShader ('apt-get install chromium'). On a GPU machine, install the vendor's Vulkan driver.",
    );
  }
  if (isSoftwareAdapter(adapter) && !announced) {
    announced = true;
    report(`webgpu-xai: using the software WebGPU adapter '${describeAdapter(adapter)}' (no hardware adapter found); expect CPU speed.`);
  }
  return requestDeviceWithAdapterLimits(adapter);
}
