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
    // the manifest's byte count first: a shape that disagrees with the data shows as a total that
    // differs from the shards' (extra bytes or missing ones), which must not pass or read as truncation
    const needed = groupBytes(group, files.description);
    if (needed !== total) throw new ModelLoadError(sizeMismatch(files.description, group, shards.map((s) => s.byteLength), needed));
    let offset = 0;
    for (const entry of group.weights) {
      const count = entry.shape.reduce((a, b) => a * b, 1);
      weights.set(entry.name, { shape: entry.shape, data: decode(entry, joined.buffer, offset, count, files.description), source: entry.name });
      offset += count * BYTES[entry.quantization?.dtype ?? entry.dtype];
    }
  }
  return weights;
}

/** Bytes the manifest says one group's weights take. */
function groupBytes(group: WeightsManifestGroup, where: string): number {
  let bytes = 0;
  for (const entry of group.weights) {
    const width = BYTES[entry.quantization?.dtype ?? entry.dtype];
    if (!width) throw new ModelLoadError(`${where}: weight '${entry.name}' has unsupported dtype ${entry.dtype}`);
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ModelLoadError(`${where}: weight '${entry.name}' has shape ${JSON.stringify(entry.shape)}, not a list of sizes`);
    }
    bytes += entry.shape.reduce((a, b) => a * b, 1) * width;
  }
  return bytes;
}

/**
 * The manifest and the shards disagree on the group's size. Shards other than the last are whole
 * (the converter splits at a fixed shard size), so a short last shard is told apart from a
 * manifest shape that is too large only by the caller; both are named, with the byte counts.
 */
function sizeMismatch(where: string, group: WeightsManifestGroup, shardBytes: number[], needed: number): string {
  const total = shardBytes.reduce((a, b) => a + b, 0);
  const files = group.paths.map((p, i) => `${p} ${shardBytes[i]} bytes`).join(', ');
  const listed = `${group.weights.length} weight(s) of the manifest (${group.weights.map((w) => `${w.name} [${w.shape.join(', ')}]`).slice(0, 4).join(', ')}${group.weights.length > 4 ? ', ...' : ''})`;
  if (total > needed) {
    return `${where}: the weight files hold ${total} bytes (${files}) but the ${listed} take ${needed}: ${total - needed} extra bytes. A manifest shape is smaller than its data, or a shard belongs to another model`;
  }
  let offset = 0;
  const first = group.weights.find((entry) => (offset += entry.shape.reduce((a, b) => a * b, 1) * BYTES[entry.quantization?.dtype ?? entry.dtype]) > total)!;
  return `${where}: the ${listed} take ${needed} bytes but the weight files hold ${total} (${files}): ${needed - total} bytes short, from weight '${first.name}' on. A shard is truncated or missing, or a manifest shape is larger than its data`;
}
