/**
 * TF.js weight manifests: each group lists shard files, concatenated in order, and the weights
 * stored in them back to back. Weights are looked up by name. Quantized weights (uint8/uint16
 * with min and scale; float16) are dequantized to float32 here, once, at load time.
 * Format: tfjs-core src/io/types.ts (WeightsManifestEntry) and io_utils.ts decodeWeights.
 */
import type { WeightData } from '../spec.js';
import { ModelLoadError, type ModelFiles } from './files.js';

export interface WeightsManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; min?: number; scale?: number; original_dtype?: string };
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightsManifestEntry[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** IEEE 754 half to float. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function decode(entry: WeightsManifestEntry, bytes: ArrayBuffer, offset: number, count: number, where: string): Float32Array {
  const q = entry.quantization;
  const out = new Float32Array(count);
  if (q) {
    if (q.dtype === 'float16') {
      const halves = new Uint16Array(bytes.slice(offset, offset + 2 * count));
      for (let i = 0; i < count; i++) out[i] = halfToFloat(halves[i]);
      return out;
    }
    if (q.dtype !== 'uint8' && q.dtype !== 'uint16') throw new ModelLoadError(`${where}: weight '${entry.name}' has unsupported quantization ${q.dtype} (supported: uint8, uint16, float16)`);
    const values = q.dtype === 'uint8' ? new Uint8Array(bytes, offset, count) : new Uint16Array(bytes.slice(offset, offset + 2 * count));
    const { min = 0, scale = 1 } = q;
    for (let i = 0; i < count; i++) out[i] = values[i] * scale + min;
    return out;
  }
  if (entry.dtype === 'float32') return new Float32Array(bytes.slice(offset, offset + 4 * count));
  if (entry.dtype === 'int32') {
    out.set(new Int32Array(bytes.slice(offset, offset + 4 * count)));
    return out;
  }
  if (entry.dtype === 'bool') {
    out.set(new Uint8Array(bytes, offset, count));
    return out;
  }
  throw new ModelLoadError(`${where}: weight '${entry.name}' has dtype ${entry.dtype}; only float32, int32 and bool weights are supported`);
}

/** Reads every group's shards and returns the weights by name. */
export async function loadWeights(files: ModelFiles, manifest: WeightsManifestGroup[]): Promise<Map<string, WeightData>> {
  const weights = new Map<string, WeightData>();
  for (const group of manifest) {
    const shards = await Promise.all(group.paths.map((p) => files.readBinary(p)));
    const total = shards.reduce((n, s) => n + s.byteLength, 0);
    const joined = new Uint8Array(total);
    let at = 0;
    for (const shard of shards) {
      joined.set(new Uint8Array(shard), at);
      at += shard.byteLength;
    }
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      const width = BYTES[entry.quantization?.dtype ?? entry.dtype];
      if (!width) throw new ModelLoadError(`${files.description}: weight '${entry.name}' has unsupported dtype ${entry.dtype}`);
      const bytes = count * width;
      if (offset + bytes > total) {
        throw new ModelLoadError(`${files.description}: weight shards end at byte ${total} but '${entry.name}' needs bytes ${offset}..${offset + bytes} (truncated or missing shard: ${group.paths.join(', ')})`);
      }
      weights.set(entry.name, { shape: entry.shape, data: decode(entry, joined.buffer, offset, count, files.description) });
      offset += bytes;
    }
  }
  return weights;
}
