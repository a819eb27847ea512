/**
 * Dense (fully connected) layer: y = act(x · W + b) with x [N, K], W [K, M] (the Keras kernel
 * layout, so loaded weights need no transposition) and an optional bias [M]. The backward pass
 * needs x, W and the forward output y (for the activation's derivative): with g = dy * act'(y),
 * dx = g · Wᵀ, dW = xᵀ · g and db = sum over the batch of g. All three products run on one
 * split-K kernel (shaders/dense.wgsl) that reads transposed operands in place: `matmul`
 * (register-blocked) or `matmul_tiled` (workgroup-memory tiles), as `rt.kernelVariant` says.
 *
 * Weights larger than one storage binding (maxStorageBufferBindingSize; 128 MiB on some adapters,
 * less than Dense 1024 on a 13x13x256 flatten) are processed in blocks of W's rows, each bound as a
 * slice of W where the block boundaries fit the storage-offset alignment (else copied): the forward
 * pass sums the blocks' partial products, the input gradient fills the blocks' columns of dx, and
 * the weight gradient is computed block by block into slices of dW.
 */
import { LimitError, ShapeError } from '../errors.js';
import type { KernelSpec } from '../gpu/kernel.js';
import type { Runtime, Workgroups } from '../gpu/runtime.js';
import { matmulTiles } from '../gpu/variants.js';
import { sizeOf, type Tensor, type TensorSlice } from '../gpu/tensor.js';
import { activationBackward, activationCode, type Activation, type BackwardRule } from './activation.js';
import { sumToChannels } from './reduce.js';
import { expectRank, formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;
/** Register kernel: split the inner dimension until about this many invocations run (or chunks reach MIN_CHUNK). */
const TARGET_INVOCATIONS = 1 << 14;
/** Tiled kernel: split until about this many workgroups run (a few per multiprocessor of a large GPU; untuned). */
const TARGET_WORKGROUPS = 1024;
/** Shortest inner-dimension chunk worth a partial sum of its own. */
const MIN_CHUNK = 256;

export interface DenseOptions {
  /** Fused activation; default 'linear'. */
  activation?: Activation;
  /**
   * Largest storage binding to plan for, in bytes; default the device's maxStorageBufferBindingSize.
   * Weights above it are processed in blocks of rows (lower it to exercise that path in tests).
   */
  maxBindingBytes?: number;
}

/**
 * out[r, c] = act(sum_q A[r, q] B[q, c] + bias[c]) with A[r, q] = a[aOffset + r * aRow + q * aInner],
 * B[q, c] = b[q * bInner + c * bCol] and out[r, c] = target[outOffset + r * outRow + c].
 */
interface Product {
  a: Tensor;
  b: Tensor | TensorSlice;
  rows: number;
  cols: number;
  inner: number;
  aOffset: number;
  aRow: number;
  aInner: number;
  bInner: number;
  bCol: number;
}

interface Target {
  tensor: Tensor | TensorSlice;
  offset: number;
  row: number;
}

interface Epilogue {
  activation: number;
  bias?: Tensor;
}

const LINEAR: Epilogue = { activation: 0 };

function bindingLimit(rt: Runtime, options: DenseOptions): number {
  return options.maxBindingBytes ?? rt.limits.maxStorageBufferBindingSize;
}

/** Checked before allocating, so that a throw leaks nothing. */
function checkBindingSize(shape: readonly number[], limit: number, what: string): void {
  const bytes = sizeOf(shape) * 4;
  if (bytes > limit) {
    throw new LimitError(`dense: ${what} ${formatShape(shape)} takes ${bytes} bytes, more than one storage binding may hold on this device (${limit}); use a smaller batch`);
  }
}

/**
 * Chunks of the inner dimension: enough for about `target` tiles in flight, none shorter than
 * MIN_CHUNK, each a multiple of `align` (the tiled kernel's stage depth, so no stage straddles two).
 */
function planSplits(tiles: number, inner: number, target: number, align = 1): { splits: number; chunk: number } {
  const wanted = Math.max(1, Math.min(Math.ceil(target / tiles), Math.floor(inner / MIN_CHUNK)));
  const chunk = Math.ceil(Math.ceil(inner / wanted) / align) * align;
  return { splits: Math.ceil(inner / chunk), chunk };
}

/** The matmul kernel for the runtime's variant, with its split of the inner dimension and its grid. */
function matmulKernel(rt: Runtime, p: Product, fused: Record<string, number>): { spec: KernelSpec; splits: number; chunk: number; workgroups: Workgroups } {
  if (rt.kernelVariant === 'tiled') {
    const tiles = matmulTiles(rt.limits, p.rows, p.cols);
    const count = Math.ceil(p.rows / tiles.TILE_M) * Math.ceil(p.cols / tiles.TILE_N);
    const { splits, chunk } = planSplits(count, p.inner, TARGET_WORKGROUPS, tiles.TILE_K);
    // one workgroup per (split, tile), folded into a second grid dimension where there are many
    return { spec: { shader: 'dense', entry: 'matmul_tiled', constants: { ...tiles, ...fused } }, splits, chunk, workgroups: rt.grid(count * splits, 1) };
  }
  // 4 x 4 outputs per invocation, or 1-3 rows x 4 where the product has no more rows (batch 1)
  const tileRows = Math.min(4, p.rows);
  const tiles = Math.ceil(p.rows / tileRows) * Math.ceil(p.cols / 4);
  const { splits, chunk } = planSplits(tiles, p.inner, TARGET_INVOCATIONS);
  return { spec: { shader: 'dense', entry: 'matmul', constants: { WORKGROUP_SIZE, TILE_ROWS: tileRows, ...fused } }, splits, chunk, workgroups: rt.grid(tiles * splits, WORKGROUP_SIZE) };
}

/** Records one product into `target` (split K when that helps), applying the epilogue. */
function product(rt: Runtime, p: Product, target: Target, epilogue: Epilogue, label: string): void {
  const fused = { ACTIVATION: epilogue.activation, HAS_BIAS: epilogue.bias ? 1 : 0 };
  // Without a bias the shader never reads `bias`; any read-only tensor satisfies the layout.
  const bias = epilogue.bias ?? p.b;
  const { spec, splits, chunk, workgroups } = matmulKernel(rt, p, fused);
  const uniforms = {
    rows: p.rows, cols: p.cols, inner: p.inner,
    a_offset: p.aOffset, a_row: p.aRow, a_inner: p.aInner, b_inner: p.bInner, b_col: p.bCol,
    splits, chunk, out_offset: target.offset, out_row: target.row,
  };
  if (splits === 1) {
    rt.dispatch(spec, { bindings: { a: p.a, b: p.b, bias, output: target.tensor }, uniforms, workgroups });
    return;
  }
  const partial = rt.empty([splits, p.rows, p.cols], `${label}.partial`);
  rt.dispatch(spec, { bindings: { a: p.a, b: p.b, bias, output: partial }, uniforms, workgroups });
  rt.dispatch(
    { shader: 'dense', entry: 'sum_splits', constants: { WORKGROUP_SIZE, ...fused } },
    {
      bindings: { partial, bias, output: target.tensor },
      uniforms: { rows: p.rows, cols: p.cols, splits, out_offset: target.offset, out_row: target.row },
      workgroups: rt.grid(p.rows * p.cols, WORKGROUP_SIZE),
    },
  );
  partial.dispose();
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Rows of a [K, M] matrix per block so that each block fits one binding (K when it all fits), and
 * whether blocks can be bound as slices of the matrix itself: when a whole number of rows per block
 * keeps every block's start on the device's storage-offset alignment. Otherwise blocks are copies.
 */
function planBlocks(rt: Runtime, k: number, m: number, limit: number, what: string): { rows: number; sliced: boolean } {
  if (k * m * 4 <= limit) return { rows: k, sliced: true };
  const rows = Math.floor(limit / (m * 4));
  if (rows < 1) throw new LimitError(`dense: one row of the ${what} [${k}, ${m}] (${m * 4} bytes) exceeds the storage binding limit (${limit})`);
  const align = rt.limits.minStorageBufferOffsetAlignment;
  const step = align / gcd(m * 4, align); // rows whose bytes are a multiple of the alignment
  const aligned = Math.floor(rows / step) * step;
  return aligned >= 1 ? { rows: aligned, sliced: true } : { rows, sliced: false };
}

interface WeightBlock {
  k0: number;
  k1: number;
  operand: Tensor | TensorSlice;
  /** A copy the caller disposes (when slices could not be aligned). */
  copy?: Tensor;
}

/** Blocks of W's rows [k0, k1), `rows` at a time: W itself, slices of it, or (unaligned) copies. */
function weightBlocks(rt: Runtime, weights: Tensor, plan: { rows: number; sliced: boolean }): WeightBlock[] {
  const [k, m] = weights.shape;
  if (plan.rows >= k) return [{ k0: 0, k1: k, operand: weights }];
  const blocks: WeightBlock[] = [];
  for (let k0 = 0; k0 < k; k0 += plan.rows) {
    const k1 = Math.min(k0 + plan.rows, k);
    if (plan.sliced) {
      blocks.push({ k0, k1, operand: weights.slice(k0 * m, (k1 - k0) * m) });
      continue;
    }
    const copy = rt.empty([k1 - k0, m], 'dense.weight_block');
    rt.copy(weights, copy, (k1 - k0) * m, k0 * m, 0);
    blocks.push({ k0, k1, operand: copy, copy });
  }
  return blocks;
}

/** [K, M] weights for a [N, K] input (and a [M] bias, if given); returns [N, K, M]. */
function checkDense(x: Tensor, weights: Tensor, bias: Tensor | undefined): [number, number, number] {
  expectRank(x, 2, 'dense: input (flatten it first)');
  expectRank(weights, 2, 'dense: weights');
  const [n, k] = x.shape;
  const [wk, m] = weights.shape;
  if (wk !== k) {
    throw new ShapeError(`dense: input ${formatShape(x.shape)} has ${k} features but weights ${formatShape(weights.shape)} expect ${wk} (weights are [in, out])`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== m)) {
    throw new ShapeError(`dense: bias ${formatShape(bias.shape)} must be [${m}] for weights ${formatShape(weights.shape)}`);
  }
  return [n, k, m];
}

/** y = act(x · W + bias): x [N, K], weights [K, M], bias [M] or undefined -> y [N, M]. */
export function dense(rt: Runtime, x: Tensor, weights: Tensor, bias: Tensor | undefined, options: DenseOptions = {}): Tensor {
  const [n, k, m] = checkDense(x, weights, bias);
  const epilogue = { activation: activationCode(options.activation ?? 'linear', 'dense'), bias };
  const limit = bindingLimit(rt, options);
  checkBindingSize(x.shape, limit, 'input');
  checkBindingSize([n, m], limit, 'output');
  const plan = planBlocks(rt, k, m, limit, 'weights');
  if (plan.rows < k) checkBindingSize([Math.ceil(k / plan.rows), n, m], limit, 'sums of the weight blocks');
  const y = rt.empty([n, m], 'dense.output');
  const operand = (b: Tensor | TensorSlice, k0: number, k1: number): Product => ({ a: x, b, rows: n, cols: m, inner: k1 - k0, aOffset: k0, aRow: k, aInner: 1, bInner: m, bCol: 1 });
  const blocks = weightBlocks(rt, weights, plan);
  if (blocks.length === 1) {
    product(rt, operand(weights, 0, k), { tensor: y, offset: 0, row: m }, epilogue, 'dense');
    return y;
  }
  // Each block's partial product x[:, k0:k1] · W[k0:k1, :] lands in sums[block]; sum_splits adds them.
  const sums = rt.empty([blocks.length, n, m], 'dense.block_sums');
  blocks.forEach(({ k0, k1, operand: block }, i) => product(rt, operand(block, k0, k1), { tensor: sums, offset: i * n * m, row: m }, LINEAR, 'dense.block'));
  const bindingOfBias = bias ?? sums;
  rt.dispatch(
    { shader: 'dense', entry: 'sum_splits', constants: { WORKGROUP_SIZE, ACTIVATION: epilogue.activation, HAS_BIAS: bias ? 1 : 0 } },
    { bindings: { partial: sums, bias: bindingOfBias, output: y }, uniforms: { rows: n, cols: m, splits: blocks.length, out_offset: 0, out_row: m }, workgroups: rt.grid(n * m, WORKGROUP_SIZE) },
  );
  sums.dispose();
  for (const block of blocks) block.copy?.dispose();
  return y;
}

/** dx = dy · Wᵀ: dy [N, M], weights [K, M] -> [N, K]. dy must already include the activation's derivative. */
export function denseBackwardInput(rt: Runtime, dy: Tensor, weights: Tensor, options: Pick<DenseOptions, 'maxBindingBytes'> = {}): Tensor {
  expectRank(dy, 2, 'denseBackwardInput: output gradient');
  expectRank(weights, 2, 'denseBackwardInput: weights');
  const [n, m] = dy.shape;
  const [k, wm] = weights.shape;
  if (wm !== m) throw new ShapeError(`denseBackwardInput: output gradient ${formatShape(dy.shape)} has ${m} columns but weights ${formatShape(weights.shape)} have ${wm} outputs`);
  const limit = bindingLimit(rt, options);
  checkBindingSize(dy.shape, limit, 'output gradient');
  checkBindingSize([n, k], limit, 'input gradient');
  const plan = planBlocks(rt, k, m, limit, 'weights');
  const dx = rt.empty([n, k], 'dense.input_grad');
  // Wᵀ[m, k] = W[k * M + m]; a block of W's rows [k0, k1) gives columns k0..k1 of dx.
  for (const { k0, k1, operand, copy } of weightBlocks(rt, weights, plan)) {
    const p: Product = { a: dy, b: operand, rows: n, cols: k1 - k0, inner: m, aOffset: 0, aRow: m, aInner: 1, bInner: 1, bCol: m };
    product(rt, p, { tensor: dx, offset: k0, row: k }, LINEAR, 'dense.backward_input');
    copy?.dispose();
  }
  return dx;
}

/** dW = xᵀ · dy: x [N, K], dy [N, M] -> [K, M]. dy must already include the activation's derivative. */
export function denseBackwardWeights(rt: Runtime, x: Tensor, dy: Tensor, options: Pick<DenseOptions, 'maxBindingBytes'> = {}): Tensor {
  expectRank(x, 2, 'denseBackwardWeights: input');
  expectRank(dy, 2, 'denseBackwardWeights: output gradient');
  const [n, k] = x.shape;
  const [dn, m] = dy.shape;
  if (dn !== n) throw new ShapeError(`denseBackwardWeights: input ${formatShape(x.shape)} and output gradient ${formatShape(dy.shape)} have different batch sizes`);
  const limit = bindingLimit(rt, options);
  checkBindingSize(x.shape, limit, 'input');
  checkBindingSize(dy.shape, limit, 'output gradient');
  const plan = planBlocks(rt, k, m, limit, 'weight gradient');
  const { rows } = plan;
  const dw = rt.empty([k, m], 'dense.weights_grad');
  // xᵀ[k, n] = x[n * K + k]; rows k0..k1 of dW start at x[k0].
  const operand = (k0: number, k1: number): Product => ({ a: x, b: dy, rows: k1 - k0, cols: m, inner: n, aOffset: k0, aRow: 1, aInner: k, bInner: m, bCol: 1 });
  if (rows >= k) {
    product(rt, operand(0, k), { tensor: dw, offset: 0, row: m }, LINEAR, 'dense.backward_weights');
    return dw;
  }
  // dW itself is too large to bind: compute blocks of its rows straight into slices of it, or
  // (when slices cannot be aligned) into copies that go into place.
  for (let k0 = 0; k0 < k; k0 += rows) {
    const k1 = Math.min(k0 + rows, k);
    if (plan.sliced) {
      product(rt, operand(k0, k1), { tensor: dw.slice(k0 * m, (k1 - k0) * m), offset: 0, row: m }, LINEAR, 'dense.backward_weights');
      continue;
    }
    const block = rt.empty([k1 - k0, m], 'dense.weights_grad_block');
    product(rt, operand(k0, k1), { tensor: block, offset: 0, row: m }, LINEAR, 'dense.backward_weights');
    rt.copy(block, dw, block.size, 0, k0 * m);
    block.dispose();
  }
  return dw;
}

export interface DenseSaved {
  /** Forward input [N, K]. */
  x: Tensor;
  /** Weights [K, M]. */
  weights: Tensor;
  /** Forward output [N, M] (after the activation); read only when the activation is not linear. */
  y: Tensor;
  /** Gradient of the loss with respect to y, [N, M]. */
  dy: Tensor;
}

export interface DenseGradients {
  input?: Tensor;
  weights?: Tensor;
  bias?: Tensor;
}

/**
 * Gradients of a dense layer with a fused activation. The activation's derivative is taken from
 * the forward output y (g = dy * act'(y)); then dx = g · Wᵀ, dW = xᵀ · g, db = sum_n g. Only the
 * requested gradients are computed (default: all three); intermediates are disposed.
 */
export function denseBackward(
  rt: Runtime,
  saved: DenseSaved,
  options: DenseOptions = {},
  want: { input?: boolean; weights?: boolean; bias?: boolean; rule?: BackwardRule } = { input: true, weights: true, bias: true },
): DenseGradients {
  const { x, weights, y, dy } = saved;
  const [n, , m] = checkDense(x, weights, undefined);
  const kind = options.activation ?? 'linear';
  activationCode(kind ?? 'linear', 'dense');
  for (const [name, t] of [['output', y], ['output gradient', dy]] as const) {
    if (t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== m) {
      throw new ShapeError(`denseBackward: ${name} ${formatShape(t.shape)} must be [${n}, ${m}] for input ${formatShape(x.shape)} and weights ${formatShape(weights.shape)}`);
    }
  }
  const g = kind === 'linear' ? dy : activationBackward(rt, dy, y, kind, want.rule);
  const gradients: DenseGradients = {};
  if (want.input) gradients.input = denseBackwardInput(rt, g, weights, options);
  if (want.weights) gradients.weights = denseBackwardWeights(rt, x, g, options);
  if (want.bias) gradients.bias = sumToChannels(rt, g);
  if (g !== dy) g.dispose();
  return gradients;
}
