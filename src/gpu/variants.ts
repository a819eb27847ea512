/**
 * Kernel variants and how the runtime picks one from the device. The hot products (conv2d forward,
 * dense and its gradients) come in two forms:
 *   'register' - register-blocked, no workgroup memory, no barriers: fastest on CPU adapters
 *                (lavapipe, SwiftShader), where a workgroupBarrier is a thread rendezvous; a
 *                shared-memory tiled matmul ran 8x slower than it on lavapipe;
 *   'tiled'    - tiles staged in workgroup memory, shared by the workgroup between barriers: what
 *                hardware GPUs want (each value loaded once per workgroup instead of once per
 *                invocation).
 * 'auto' picks 'register' on software adapters and where the identity of the adapter is unknown
 * (a browser without GPUDevice.adapterInfo), and 'tiled' on hardware whose limits fit the tiles.
 * The tile sizes of each product come from the device's limits too (`matmulTiles`).
 */
import { LimitError, OptionError } from '../errors.js';

export type KernelVariant = 'register' | 'tiled';
export type KernelPreference = 'auto' | KernelVariant;
export const KERNEL_PREFERENCES: readonly KernelPreference[] = ['auto', 'register', 'tiled'];

/** CPU implementations of WebGPU: Mesa lavapipe (llvmpipe), SwiftShader, any fallback adapter. */
export function isSoftwareAdapterInfo(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  const { vendor, architecture, device, description } = info;
  const fallback = (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  // Dawn on lavapipe: vendor 'mesa', architecture 'software', device 'llvmpipe-llvm-...' (Mesa's real
  // GPU drivers are vendor 'mesa' too, hence the device name); Chromium's SwiftShader: 'swiftshader'.
  return Boolean(fallback) || architecture === 'software' || architecture === 'swiftshader' ||
    /llvmpipe|lavapipe|swiftshader/i.test(`${vendor} ${device} ${description}`);
}

/** Tile sizes of one tiled product: the `override`s of forward_tiled / matmul_tiled. */
export interface Tiles {
  /** Output rows (pixels) per workgroup: 4 x workgroup size y. */
  TILE_M: number;
  /** Output columns (channels) per workgroup: 4 x workgroup size x. */
  TILE_N: number;
  /** Inner-dimension depth staged per barrier pair. */
  TILE_K: number;
}

/** The smallest tiles the planner falls back to; every WebGPU device holds them (16 invocations, 512 bytes). */
const SMALLEST: Tiles = { TILE_M: 16, TILE_N: 16, TILE_K: 4 };
const storageBytes = (t: Tiles) => (t.TILE_M + t.TILE_N) * t.TILE_K * 4;
const fitsWorkgroup = (t: Tiles, limits: GPUSupportedLimits) =>
  (t.TILE_M / 4) * (t.TILE_N / 4) <= limits.maxComputeInvocationsPerWorkgroup && t.TILE_N / 4 <= limits.maxComputeWorkgroupSizeX && t.TILE_M / 4 <= limits.maxComputeWorkgroupSizeY;

/** Halves the larger of TILE_M and TILE_N (false at the smallest). */
function shrinkSide(t: Tiles): boolean {
  if (t.TILE_M >= t.TILE_N && t.TILE_M > SMALLEST.TILE_M) t.TILE_M /= 2;
  else if (t.TILE_N > SMALLEST.TILE_N) t.TILE_N /= 2;
  else if (t.TILE_M > SMALLEST.TILE_M) t.TILE_M /= 2;
  else return false;
  return true;
}

/**
 * Tiles for a rows x cols product: 64 x 64 (256 invocations, 4x4 outputs each) shrunk towards
 * small outputs (a batch-1 dense layer has one row: 16 rows of tile, not 64), 32 deep (64 x 64 x 32
 * takes 16 KiB, WebGPU's guaranteed minimum). Where the device's limits are lower: smaller
 * workgroups, then shallower stages (down to 8), then smaller tiles. Untuned: a starting point for
 * real GPUs.
 */
export function matmulTiles(limits: GPUSupportedLimits, rows: number, cols: number): Tiles {
  const side = (n: number) => (n <= 16 ? 16 : n <= 32 ? 32 : 64);
  const tiles: Tiles = { TILE_M: side(rows), TILE_N: side(cols), TILE_K: 32 };
  let fits = true;
  while (fits && !fitsWorkgroup(tiles, limits)) fits = shrinkSide(tiles);
  while (fits && storageBytes(tiles) > limits.maxComputeWorkgroupStorageSize) {
    if (tiles.TILE_K > 8) tiles.TILE_K /= 2;
    else if (!shrinkSide(tiles)) {
      if (tiles.TILE_K > SMALLEST.TILE_K) tiles.TILE_K /= 2;
      else fits = false;
    }
  }
  if (!fits) {
    throw new LimitError(`The tiled kernels need ${(SMALLEST.TILE_M / 4) * (SMALLEST.TILE_N / 4)} invocations and ${storageBytes(SMALLEST)} bytes of workgroup memory per workgroup; this device allows ${limits.maxComputeInvocationsPerWorkgroup} and ${limits.maxComputeWorkgroupStorageSize}`);
  }
  return tiles;
}

/** The variant for `device`: `preference` when forced (throws if 'tiled' cannot run), else by adapter and limits. */
export function selectKernelVariant(device: GPUDevice, preference: KernelPreference = 'auto'): KernelVariant {
  if (!KERNEL_PREFERENCES.includes(preference)) throw new OptionError(`kernels must be one of ${KERNEL_PREFERENCES.join(', ')}, got '${String(preference)}'`);
  if (preference === 'register') return 'register';
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  if (preference === 'auto' && (!info || isSoftwareAdapterInfo(info))) return 'register';
  try {
    matmulTiles(device.limits, 1, 1); // throws where even the smallest tiles do not fit
  } catch (error) {
    if (preference === 'tiled') throw error;
    return 'register';
  }
  return 'tiled';
}
