/**
 * Load-time constant folding for graph models: the values of nodes that depend on no activation
 * value, only on constants and on activation *shapes*, evaluated on the CPU once the input shape is
 * fixed. tensorflowjs_converter's own folding (Grappler) runs before the input shape is known, so
 * chains such as Keras Flatten's `Shape -> StridedSlice -> Pack -> Reshape` (or `Shape -> GatherV2`), or a resize size
 * computed from `Shape`, survive into model.json; here they become constants, and the ops that read
 * them (Reshape's shape, Pad's paddings, ResizeBilinear's size, Tile's multiples, reduction axes)
 * see plain numbers.
 *
 * The batch size is not known at load time (the Placeholder's batch is usually -1, and the engine
 * runs any batch): `Shape` of an activation gives NaN for it, and arithmetic carries the NaN along.
 * A folded value is usable when it has no NaN, or (Reshape's target) when its only NaN is the
 * batch entry, which then means -1. Anything else is refused by the reader, naming the node.
 *
 * Values are float32 like every weight (integers are exact below 2^24, far above any shape).
 * Semantics follow TensorFlow core/ops/{array_ops,math_ops}.cc: StridedSlice's masks
 * (core/util/strided_slice_op.cc), numpy broadcasting, FloorDiv = floor(a / b), Cast to an
 * integer type truncates toward zero.
 */
import { UnsupportedModelError } from './files.js';
import type { WeightData } from '../spec.js';

/** What the evaluator needs to know about the graph. */
export interface ConstantSource {
  readonly source: string;
  /** The op and attributes of a node. */
  node(name: string): FoldNode;
  /** The node's data inputs (node names, control inputs dropped). */
  inputs(name: string): string[];
  /** A Const node's value (the weights manifest entry named after it). */
  weight(name: string): WeightData;
  /** The shape of an activation node's value with the batch first (NaN: unknown); undefined if not an activation. */
  activationShape(name: string): number[] | undefined;
}

export interface FoldNode {
  name: string;
  op: string;
  attr?: Record<string, { i?: string | number; b?: boolean; type?: string; list?: { i?: (string | number)[] } }>;
}

type Fold = (c: Folder, node: FoldNode, inputs: WeightData[]) => WeightData;

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const scalar = (v: number): WeightData => ({ shape: [], data: Float32Array.of(v) });
const vector = (values: ArrayLike<number>): WeightData => ({ shape: [values.length], data: Float32Array.from(values) });

/** Row-major strides of a shape. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/** Evaluates and caches the folded value of every node it is asked about. */
export class Folder {
  /** Node -> its value, or null when it depends on an activation's value. */
  private readonly cache = new Map<string, WeightData | null>();
  /** Folded nodes whose value comes from an unknown batch size (NaN there means "the batch", not a weight's NaN). */
  private readonly batchDependent = new Set<string>();

  constructor(private readonly graph: ConstantSource) {}

  /** The node's value, or undefined when it is computed from the model input's values. */
  value(name: string): WeightData | undefined {
    const cached = this.cache.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const node = this.graph.node(name);
    let result: WeightData | null = null;
    if (node.op === 'Const') result = this.graph.weight(name);
    else if (node.op === 'Shape') {
      const [input] = this.graph.inputs(name);
      const shape = input === undefined ? undefined : (this.graph.activationShape(input) ?? this.value(input)?.shape);
      result = shape ? vector(shape) : null;
      if (shape?.some(Number.isNaN)) this.batchDependent.add(name);
    } else {
      const fold = Object.hasOwn(FOLDS, node.op) ? FOLDS[node.op] : undefined;
      const inputs = fold ? this.graph.inputs(name).map((input) => this.value(input)) : [];
      if (fold && inputs.every((v) => v !== undefined)) {
        result = fold(this, node, inputs as WeightData[]);
        if (this.graph.inputs(name).some((input) => this.batchDependent.has(input))) this.batchDependent.add(name);
      }
    }
    this.cache.set(name, result);
    return result ?? undefined;
  }

  /** Whether the node's folded value derives from the unknown batch size (evaluate it with `value` first). */
  dependsOnBatch(name: string): boolean {
    return this.batchDependent.has(name);
  }

  fail(node: FoldNode, message: string): never {
    throw new UnsupportedModelError(`${this.graph.source}: node '${node.name}' (${node.op}), folded at load time: ${message}`, { node: node.name, op: node.op });
  }

  int(node: FoldNode, key: string, fallback: number): number {
    const v = node.attr?.[key]?.i;
    return v === undefined ? fallback : Number(v);
  }

  /** An input that must be a list of whole numbers without unknowns (axes, sizes). */
  integers(node: FoldNode, value: WeightData, what: string): number[] {
    const list = [...value.data];
    if (list.some((v) => !Number.isInteger(v))) this.fail(node, `${what} [${list.join(', ')}] must be known integers${list.some(Number.isNaN) ? ' (it depends on the batch size, unknown at load time)' : ''}`);
    return list;
  }

  axis(node: FoldNode, axis: number, rank: number): number {
    if (!Number.isInteger(axis) || axis < -rank || axis >= rank) this.fail(node, `axis ${axis} is out of range for rank ${rank}`);
    return axis < 0 ? axis + rank : axis;
  }
}

/** Element-wise op of two values with numpy broadcasting. */
const broadcast = (f: (a: number, b: number) => number): Fold => (c, node, [a, b]) => {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const [sa, sb] = [pad(a.shape), pad(b.shape)];
  const shape = sa.map((d, i) => {
    if (d !== sb[i] && d !== 1 && sb[i] !== 1) c.fail(node, `shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    return d === 1 ? sb[i] : d;
  });
  const [ta, tb, to] = [stridesOf(sa), stridesOf(sb), stridesOf(shape)];
  const data = new Float32Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const k = Math.floor(i / to[d]) % shape[d];
      if (sa[d] !== 1) ia += k * ta[d];
      if (sb[d] !== 1) ib += k * tb[d];
    }
    data[i] = f(a.data[ia], b.data[ib]);
  }
  return { shape, data };
};

function reshape(c: Folder, node: FoldNode, [x, target]: WeightData[]): WeightData {
  const dims = c.integers(node, target, 'shape');
  const known = size(dims.filter((d) => d !== -1));
  const shape = dims.map((d) => (d === -1 ? x.data.length / known : d));
  if (size(shape) !== x.data.length || !shape.every((d) => Number.isInteger(d) && d >= 0)) c.fail(node, `cannot reshape [${x.shape.join(', ')}] to [${dims.join(', ')}]`);
  return { shape, data: x.data };
}

function concat(c: Folder, node: FoldNode, inputs: WeightData[]): WeightData {
  const parts = inputs.slice(0, -1);
  const first = parts[0];
  const axis = c.axis(node, c.integers(node, inputs[inputs.length - 1], 'axis')[0], first.shape.length);
  for (const p of parts) {
    if (p.shape.length !== first.shape.length || p.shape.some((d, i) => i !== axis && d !== first.shape[i])) c.fail(node, `cannot concatenate [${p.shape.join(', ')}] with [${first.shape.join(', ')}] on axis ${axis}`);
  }
  const shape = first.shape.map((d, i) => (i === axis ? parts.reduce((n, p) => n + p.shape[axis], 0) : d));
  const outer = size(first.shape.slice(0, axis));
  const data = new Float32Array(size(shape));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const block = size(p.shape.slice(axis));
      data.set(p.data.subarray(o * block, (o + 1) * block), at);
      at += block;
    }
  }
  return { shape, data };
}

function pack(c: Folder, node: FoldNode, inputs: WeightData[]): WeightData {
  const first = inputs[0];
  const axis = c.axis(node, c.int(node, 'axis', 0), first.shape.length + 1);
  if (inputs.some((v) => v.shape.join() !== first.shape.join())) c.fail(node, 'packs values of different shapes');
  const moved = inputs.map((v) => ({ shape: [...v.shape.slice(0, axis), 1, ...v.shape.slice(axis)], data: v.data }));
  return concat(c, node, [...moved, scalar(axis)]);
}

/**
 * StridedSlice (TensorFlow strided_slice_op.cc): begin/end/strides per sparse spec entry, with
 * begin_mask / end_mask (ignore that bound), ellipsis_mask (the entry stands for every axis not
 * named), new_axis_mask (insert a size-1 axis) and shrink_axis_mask (take one element, drop the axis).
 */
function stridedSlice(c: Folder, node: FoldNode, [x, beginT, endT, stridesT]: WeightData[]): WeightData {
  const [begin, end, strides] = [c.integers(node, beginT, 'begin'), c.integers(node, endT, 'end'), stridesT ? c.integers(node, stridesT, 'strides') : beginT.data.map(() => 1)];
  const mask = (key: string) => c.int(node, key, 0);
  const [beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask] = ['begin_mask', 'end_mask', 'ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'].map(mask);
  // dense spec: one entry per input axis, plus the new axes, in output order
  const dims: { axis?: number; begin: number; end: number; stride: number; beginAll: boolean; endAll: boolean; shrink: boolean; newAxis: boolean }[] = [];
  const named = [...begin.keys()].filter((i) => !(ellipsisMask & (1 << i)) && !(newAxisMask & (1 << i))).length;
  let axis = 0;
  for (let i = 0; i < begin.length; i++) {
    const bit = 1 << i;
    if (ellipsisMask & bit) {
      for (const stop = x.shape.length - named; axis < stop; axis++) dims.push({ axis, begin: 0, end: 0, stride: 1, beginAll: true, endAll: true, shrink: false, newAxis: false });
    } else if (newAxisMask & bit) {
      dims.push({ begin: 0, end: 1, stride: 1, beginAll: false, endAll: false, shrink: false, newAxis: true });
    } else {
      dims.push({ axis: axis++, begin: begin[i], end: end[i], stride: strides[i], beginAll: !!(beginMask & bit), endAll: !!(endMask & bit), shrink: !!(shrinkMask & bit), newAxis: false });
    }
  }
  for (; axis < x.shape.length; axis++) dims.push({ axis, begin: 0, end: 0, stride: 1, beginAll: true, endAll: true, shrink: false, newAxis: false });
  if (axis > x.shape.length) c.fail(node, `slices ${axis} axes of a rank-${x.shape.length} value`);
  // per input axis: the indices taken
  const picks: number[][] = [];
  const shape: number[] = [];
  for (const d of dims) {
    if (d.newAxis) {
      shape.push(1);
      continue;
    }
    const n = x.shape[d.axis!];
    if (d.stride === 0) c.fail(node, 'a stride is 0');
    if (d.shrink) {
      const k = d.begin < 0 ? d.begin + n : d.begin;
      if (k < 0 || k >= n) c.fail(node, `index ${d.begin} is out of range for size ${n}`);
      picks.push([k]);
      continue;
    }
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const [lo, hi] = d.stride > 0 ? [0, n] : [-1, n - 1];
    const from = d.beginAll ? (d.stride > 0 ? lo : hi) : clamp(d.begin < 0 ? d.begin + n : d.begin, lo, hi);
    const to = d.endAll ? (d.stride > 0 ? hi : lo) : clamp(d.end < 0 ? d.end + n : d.end, lo, hi);
    const taken: number[] = [];
    for (let k = from; d.stride > 0 ? k < to : k > to; k += d.stride) taken.push(k);
    picks.push(taken);
    shape.push(taken.length);
  }
  const strideOf = stridesOf(x.shape);
  const data = new Float32Array(size(picks.map((p) => p.length)));
  data.forEach((_, i) => {
    let offset = 0;
    let rest = i;
    for (let d = picks.length - 1; d >= 0; d--) {
      offset += picks[d][rest % picks[d].length] * strideOf[d];
      rest = Math.floor(rest / picks[d].length);
    }
    data[i] = x.data[offset];
  });
  return { shape, data };
}

function slice(c: Folder, node: FoldNode, [x, beginT, sizeT]: WeightData[]): WeightData {
  const begin = c.integers(node, beginT, 'begin');
  const sizes = c.integers(node, sizeT, 'size');
  const end = sizes.map((s, i) => (s === -1 ? x.shape[i] : begin[i] + s));
  if (end.some((e, i) => begin[i] < 0 || e > x.shape[i])) c.fail(node, `slice [${begin.join(', ')}] + [${sizes.join(', ')}] is outside [${x.shape.join(', ')}]`);
  return stridedSlice(c, { name: node.name, op: node.op }, [x, vector(begin), vector(end), vector(begin.map(() => 1))]);
}

function prod(c: Folder, node: FoldNode, [x, axesT]: WeightData[]): WeightData {
  const axes = new Set(c.integers(node, axesT, 'axes').map((a) => c.axis(node, a, x.shape.length)));
  const keep = node.attr?.keep_dims?.b ?? false;
  const kept = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
  const data = new Float32Array(size(kept)).fill(1);
  const [inner, outer] = [stridesOf(x.shape), stridesOf(kept)];
  x.data.forEach((v, i) => {
    let at = 0;
    for (let d = 0; d < x.shape.length; d++) if (!axes.has(d)) at += (Math.floor(i / inner[d]) % x.shape[d]) * outer[d];
    data[at] *= v;
  });
  return { shape: keep ? kept : x.shape.filter((_, i) => !axes.has(i)), data };
}

/** GatherV2 (batch_dims 0): params' slices along `axis` at `indices`, e.g. entries of a Shape. */
function gather(c: Folder, node: FoldNode, [params, indicesT, axisT]: WeightData[]): WeightData {
  if (c.int(node, 'batch_dims', 0) !== 0) c.fail(node, 'batch_dims other than 0 is not supported');
  const axis = c.axis(node, axisT ? c.integers(node, axisT, 'axis')[0] : 0, params.shape.length);
  const n = params.shape[axis];
  const indices = c.integers(node, indicesT, 'indices').map((k) => {
    if (k < 0 || k >= n) c.fail(node, `index ${k} is out of range for size ${n}`);
    return k;
  });
  const outer = size(params.shape.slice(0, axis));
  const inner = size(params.shape.slice(axis + 1));
  const data = new Float32Array(outer * indices.length * inner);
  for (let o = 0; o < outer; o++) {
    indices.forEach((k, j) => data.set(params.data.subarray((o * n + k) * inner, (o * n + k + 1) * inner), (o * indices.length + j) * inner));
  }
  return { shape: [...params.shape.slice(0, axis), ...indicesT.shape, ...params.shape.slice(axis + 1)], data };
}

const INTEGER_TYPES = new Set(['DT_INT32', 'DT_INT64', 'DT_INT16', 'DT_INT8', 'DT_UINT8', 'DT_UINT16']);

/** Element-wise function of one value (float64, rounded to float32 like every folded value). */
const unary = (f: (v: number) => number): Fold => (_c, _n, [x]) => ({ shape: x.shape, data: Float32Array.from(x.data, f) });

/** Op -> its evaluation on constant inputs (Const and Shape are handled by `Folder.value`). */
const FOLDS: Readonly<Record<string, Fold>> = {
  Identity: (_c, _n, [x]) => x,
  Cast: (_c, node, [x]) => {
    const to = node.attr?.DstT?.type;
    if (to === 'DT_BOOL') return { shape: x.shape, data: x.data.map((v) => (v !== 0 ? 1 : 0)) };
    return INTEGER_TYPES.has(to ?? '') ? { shape: x.shape, data: x.data.map(Math.trunc) } : x;
  },
  Pack: pack,
  ConcatV2: concat,
  StridedSlice: stridedSlice,
  Slice: slice,
  GatherV2: gather,
  Fill: (c, node, [dims, value]) => {
    const shape = c.integers(node, dims, 'dims');
    return { shape, data: new Float32Array(size(shape)).fill(value.data[0]) };
  },
  Range: (c, node, [start, limit, delta]) => {
    const [a, b, d] = [start.data[0], limit.data[0], delta.data[0]];
    if (!(d !== 0) || [a, b].some(Number.isNaN)) c.fail(node, `range(${a}, ${b}, ${d}) is not defined`);
    return vector(Array.from({ length: Math.max(0, Math.ceil((b - a) / d)) }, (_, k) => a + k * d));
  },
  Prod: prod,
  Mul: broadcast((a, b) => a * b),
  Add: broadcast((a, b) => a + b),
  AddV2: broadcast((a, b) => a + b),
  BiasAdd: broadcast((a, b) => a + b),
  Sub: broadcast((a, b) => a - b),
  RealDiv: broadcast((a, b) => a / b),
  FloorDiv: broadcast((a, b) => Math.floor(a / b)),
  Maximum: broadcast((a, b) => Math.max(a, b)),
  Minimum: broadcast((a, b) => Math.min(a, b)),
  ExpandDims: (c, node, [x, axisT]) => {
    const axis = c.axis(node, c.integers(node, axisT, 'axis')[0], x.shape.length + 1);
    return { shape: [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)], data: x.data };
  },
  Squeeze: (c, node, [x]) => {
    const listed = (node.attr?.squeeze_dims?.list?.i ?? []).map((a) => c.axis(node, Number(a), x.shape.length));
    const drop = (d: number, i: number) => (listed.length ? listed.includes(i) : d === 1);
    if (listed.some((i) => x.shape[i] !== 1)) c.fail(node, `cannot squeeze axes [${listed.join(', ')}] of [${x.shape.join(', ')}]`);
    return { shape: x.shape.filter((d, i) => !drop(d, i)), data: x.data };
  },
  Reshape: reshape,
  // ops-elementwise: unary ops on constants (converters leave e.g. Neg of a PReLU's alpha)
  Neg: unary((v) => -v),
  Abs: unary(Math.abs),
  Square: unary((v) => v * v),
  Sqrt: unary(Math.sqrt),
  Rsqrt: unary((v) => 1 / Math.sqrt(v)),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Reciprocal: unary((v) => 1 / v),
  Inv: unary((v) => 1 / v),
};

/** Ops folded when their inputs are constants (and Shape of any node), beside those the loader maps. */
export const FOLDED_OPS: readonly string[] = ['Const', 'Shape', ...Object.keys(FOLDS)];
