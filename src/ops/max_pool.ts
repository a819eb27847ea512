/**
 * Max pooling over NHWC windows (Keras MaxPooling2D, tf.nn.max_pool) and its gradient with
 * respect to the input. The backward pass needs the forward input only: each window's argmax is
 * recomputed from it (`shaders/pool.wgsl`), so nothing is stored between the passes: per input
 * element over the windows that contain it, or, where windows do not overlap, per window.
 * Tie rule (TensorFlow's MaxPoolGrad): the first maximum of a window in row-major order takes the
 * window's whole gradient. Padding cells never win.
 *
 * Also home of the pooling-window options and their validation, shared with `avg_pool.ts`.
 */
import { ShapeError } from '../errors.js';
import type { DispatchArgs, Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';
import { channelBlockCount, formatShape, windowGeometry, type Padding } from './shapes.js';

export interface PoolOptions {
  /** Window [height, width]; one number for a square window. */
  poolSize: number | readonly [number, number];
  /** Steps [y, x] between windows; one number for both. Defaults to poolSize, as in Keras. */
  strides?: number | readonly [number, number];
  /** 'valid' (default, as in Keras) or 'same' (TensorFlow's rule: the odd extra padding row/column goes bottom/right). */
  padding?: Padding;
}

/** A validated pooling call: shapes on both sides and the shader's uniforms. */
export interface PoolPlan {
  inputShape: Shape;
  outputShape: Shape;
  uniforms: Record<string, number>;
}

const POOL_WORKGROUP_SIZE = 64;

function pair(value: unknown, name: string, what: string): [number, number] {
  const values = typeof value === 'number' ? [value, value] : Array.isArray(value) ? value : undefined;
  if (!values || values.length !== 2 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new ShapeError(`${what}: ${name} must be a positive integer or a pair [y, x] of them, got ${JSON.stringify(value)}`);
  }
  return [values[0], values[1]];
}

/** Validates a pooling call on an NHWC input and derives the output shape and uniforms. */
export function planPool(inputShape: Shape, options: PoolOptions, what: string): PoolPlan {
  if (inputShape.length !== 4 || inputShape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`${what}: input must be NHWC [batch, height, width, channels] with positive sizes, got ${formatShape(inputShape)}`);
  }
  if (typeof options !== 'object' || options === null) throw new ShapeError(`${what}: options { poolSize, strides?, padding? } are required`);
  const poolSize = pair(options.poolSize, 'poolSize', what);
  const strides = options.strides === undefined ? poolSize : pair(options.strides, 'strides', what);
  const padding = options.padding ?? 'valid';
  if (padding !== 'valid' && padding !== 'same') throw new ShapeError(`${what}: padding must be 'valid' or 'same', got '${String(padding)}'`);
  const [batch, height, width, channels] = inputShape;
  let geometry;
  try {
    geometry = windowGeometry(height, width, poolSize, strides, [1, 1], padding);
  } catch (error) {
    if (error instanceof ShapeError) throw new ShapeError(`${what}: ${error.message}`);
    throw error;
  }
  return {
    inputShape: [batch, height, width, channels],
    outputShape: [batch, geometry.outHeight, geometry.outWidth, channels],
    uniforms: {
      in_height: height,
      in_width: width,
      channels,
      out_height: geometry.outHeight,
      out_width: geometry.outWidth,
      pool_height: poolSize[0],
      pool_width: poolSize[1],
      stride_y: strides[0],
      stride_x: strides[1],
      pad_top: geometry.padTop,
      pad_left: geometry.padLeft,
    },
  };
}

/** Throws unless `dy` has the shape the forward pass of `plan` produces. */
export function checkOutputGrad(dy: Tensor, plan: PoolPlan, what: string): void {
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== plan.outputShape[i])) {
    throw new ShapeError(`${what}: the output gradient must have the forward output's shape ${formatShape(plan.outputShape)}, got ${formatShape(dy.shape)}`);
  }
}

/** Records `entry` of shaders/pool.wgsl for `plan` over `invocations` elements. */
export function dispatchPool(rt: Runtime, entry: string, plan: PoolPlan, bindings: DispatchArgs['bindings'], invocations: number): void {
  rt.dispatch({ shader: 'pool', entry, constants: { WORKGROUP_SIZE: POOL_WORKGROUP_SIZE } }, { bindings, uniforms: plan.uniforms, workgroups: rt.grid(invocations, POOL_WORKGROUP_SIZE) });
}

/** [N, H, W, C] -> [N, outH, outW, C]: the maximum of each window. */
export function maxPool(rt: Runtime, x: Tensor, options: PoolOptions): Tensor {
  const plan = planPool(x.shape, options, 'maxPool');
  const y = rt.empty(plan.outputShape, 'maxPool.output');
  dispatchPool(rt, 'max_forward', plan, { input: x, output: y }, channelBlockCount(y.shape));
  return y;
}

/** dL/dx [N, H, W, C] from the forward input x and dL/dy [N, outH, outW, C]: dy goes to each window's first argmax. */
export function maxPoolBackward(rt: Runtime, x: Tensor, dy: Tensor, options: PoolOptions): Tensor {
  const plan = planPool(x.shape, options, 'maxPoolBackward');
  checkOutputGrad(dy, plan, 'maxPoolBackward');
  const dx = rt.empty(x.shape, 'maxPool.input_grad');
  const { pool_height, pool_width, stride_y, stride_x } = plan.uniforms;
  // Windows that do not overlap (the usual 2x2 / 2): one invocation per window writes its block.
  const blocks = stride_y >= pool_height && stride_x >= pool_width;
  const bindings = { input: x, output_grad: dy, input_grad: dx };
  if (blocks) dispatchPool(rt, 'max_backward_blocks', plan, bindings, channelBlockCount(dy.shape));
  else dispatchPool(rt, 'max_backward', plan, bindings, channelBlockCount(dx.shape));
  return dx;
}
