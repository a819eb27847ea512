/** Hand-written TF.js graph-model JSON for loader tests: nodes with base64 attributes, Const nodes and their weights in memory. */
import { filesFromMemory, type ModelFiles } from '../../src/model/loaders/files.js';

export type Attr = Record<string, unknown>;
interface FixtureNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Attr;
}
interface FixtureWeight {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
  dtype?: 'float32' | 'int32';
}

export const a = {
  s: (v: string) => ({ s: btoa(v) }),
  ints: (v: number[]) => ({ list: { i: v.map(String) } }),
  strs: (v: string[]) => ({ list: { s: v.map((x) => btoa(x)) } }),
  b: (v: boolean) => ({ b: v }),
  f: (v: number) => ({ f: v }),
  shape: (dims: number[]) => ({ shape: { dim: dims.map((d) => ({ size: String(d) })) } }),
};

export function placeholder(name: string, dims: number[]): FixtureNode {
  return { name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: a.shape(dims) } };
}

/** A node plus the Const nodes and weights for its constant inputs. */
export class Fixture {
  readonly nodes: FixtureNode[] = [];
  readonly weights: FixtureWeight[] = [];
  constructor(private readonly random: () => number) {}

  constant(name: string, shape: number[], data?: ArrayLike<number>, dtype: 'float32' | 'int32' = 'float32'): string {
    const size = shape.reduce((p, q) => p * q, 1);
    const values = data ?? Float32Array.from({ length: size }, () => this.random() * 2 - 1);
    const type = dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT';
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type }, value: { tensor: { dtype: type, tensorShape: a.shape(shape).shape } } } });
    this.weights.push({ name, shape, data: values, dtype });
    return name;
  }

  /** Positive values (batch-norm variances, scales away from zero). */
  positive(name: string, shape: number[]): string {
    return this.constant(name, shape, Float32Array.from({ length: shape.reduce((p, q) => p * q, 1) }, () => 0.5 + this.random()));
  }

  node(name: string, op: string, input: string[], attr: Attr = {}): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  files(description: string, extra: Record<string, unknown> = {}): ModelFiles {
    const bytes: Uint8Array[] = this.weights.map((w) => new Uint8Array((w.dtype === 'int32' ? Int32Array.from(w.data) : Float32Array.from(w.data)).buffer));
    const joined = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0));
    let at = 0;
    for (const b of bytes) {
      joined.set(b, at);
      at += b.byteLength;
    }
    const json = {
      format: 'graph-model',
      generatedBy: 'test',
      convertedBy: 'test',
      modelTopology: { node: this.nodes, library: {}, versions: {} },
      weightsManifest: [{ paths: ['weights.bin'], weights: this.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype ?? 'float32' })) }],
      ...extra,
    };
    return filesFromMemory(description, json, new Map([['weights.bin', joined.buffer]]));
  }
}
