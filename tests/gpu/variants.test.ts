import { describe, expect, it } from 'vitest';
import { LimitError, OptionError } from '../../src/errors.js';
import { isSoftwareAdapterInfo, matmulTiles, selectKernelVariant, type KernelPreference } from '../../src/gpu/variants.js';
import { describeGpu, testRuntime } from '../gpu.js';

/** WebGPU's guaranteed minimum limits, the ones that matter here. */
const MIN_LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupStorageSize: 16384,
} as GPUSupportedLimits;

const info = (fields: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) =>
  ({ vendor: '', architecture: '', device: '', description: '', ...fields }) as GPUAdapterInfo;

/** A device stand-in: selection reads only adapterInfo and limits. */
const fakeDevice = (adapterInfo: GPUAdapterInfo | undefined, limits: GPUSupportedLimits = MIN_LIMITS) =>
  ({ adapterInfo, limits }) as GPUDevice;

// As Dawn reports them (lavapipe: this machine; SwiftShader: Chromium's; the NVIDIA one: an H100's Vulkan adapter).
const LAVAPIPE = info({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)', isFallbackAdapter: true });
const SWIFTSHADER = info({ vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device', description: 'SwiftShader Device (Subzero)' });
const NVIDIA = info({ vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' });
const RADV = info({ vendor: 'mesa', architecture: 'rdna-3', device: '', description: 'AMD Radeon RX 7900 XTX (RADV NAVI31)' });

describe('kernel variant selection', () => {
  it('picks register on software adapters and tiled on hardware', () => {
    expect(isSoftwareAdapterInfo(LAVAPIPE)).toBe(true);
    expect(isSoftwareAdapterInfo(SWIFTSHADER)).toBe(true);
    expect(isSoftwareAdapterInfo(info({ vendor: 'mesa', device: 'llvmpipe (LLVM 19)' }))).toBe(true);
    expect(isSoftwareAdapterInfo(info({ vendor: 'microsoft', isFallbackAdapter: true }))).toBe(true);
    expect(isSoftwareAdapterInfo(NVIDIA)).toBe(false);
    expect(isSoftwareAdapterInfo(RADV)).toBe(false);
    expect(selectKernelVariant(fakeDevice(LAVAPIPE))).toBe('register');
    expect(selectKernelVariant(fakeDevice(SWIFTSHADER))).toBe('register');
    expect(selectKernelVariant(fakeDevice(NVIDIA))).toBe('tiled');
    expect(selectKernelVariant(fakeDevice(RADV), 'auto')).toBe('tiled');
    // no GPUDevice.adapterInfo (older browsers): the identity is unknown, so the variant that is correct and fast on CPUs
    expect(selectKernelVariant(fakeDevice(undefined))).toBe('register');
  });

  it('follows a forced preference, and refuses tiled where even the smallest tiles do not fit', () => {
    expect(selectKernelVariant(fakeDevice(LAVAPIPE), 'tiled')).toBe('tiled');
    expect(selectKernelVariant(fakeDevice(NVIDIA), 'register')).toBe('register');
    const tiny = { ...MIN_LIMITS, maxComputeWorkgroupStorageSize: 256 } as GPUSupportedLimits;
    expect(selectKernelVariant(fakeDevice(NVIDIA, tiny))).toBe('register');
    expect(() => selectKernelVariant(fakeDevice(NVIDIA, tiny), 'tiled')).toThrow(LimitError);
    expect(() => selectKernelVariant(fakeDevice(NVIDIA), 'fast' as KernelPreference)).toThrow(OptionError);
  });

  it('sizes tiles to the product and the limits', () => {
    expect(matmulTiles(MIN_LIMITS, 50176, 64)).toEqual({ TILE_M: 64, TILE_N: 64, TILE_K: 32 });
    expect(matmulTiles(MIN_LIMITS, 1, 1024)).toEqual({ TILE_M: 16, TILE_N: 64, TILE_K: 32 });
    expect(matmulTiles(MIN_LIMITS, 300, 20)).toEqual({ TILE_M: 64, TILE_N: 32, TILE_K: 32 });
    // less workgroup memory: shallower stages first, then smaller tiles
    expect(matmulTiles({ ...MIN_LIMITS, maxComputeWorkgroupStorageSize: 4096 } as GPUSupportedLimits, 500, 500)).toEqual({ TILE_M: 64, TILE_N: 64, TILE_K: 8 });
    expect(matmulTiles({ ...MIN_LIMITS, maxComputeInvocationsPerWorkgroup: 128 } as GPUSupportedLimits, 500, 500)).toEqual({ TILE_M: 32, TILE_N: 64, TILE_K: 32 });
  });
});

describeGpu('kernel variant of this device', () => {
  it('is resolved once per runtime and can be forced', () => {
    const rt = testRuntime();
    expect(rt.kernelVariant).toBe(selectKernelVariant(rt.device));
    if (isSoftwareAdapterInfo(rt.device.adapterInfo)) expect(rt.kernelVariant).toBe('register');
    expect(testRuntime('tiled').kernelVariant).toBe('tiled');
    expect(testRuntime('register').kernelVariant).toBe('register');
  });
});
