/**
 * Random tensors from the counter-based generator in shaders/random.wgsl. A (seed, stream) pair
 * names a sequence; element e of copy k is fixed by (seed, stream, k, e), so chunks of a batch
 * generated separately equal the batch generated at once.
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Shape, Tensor } from '../gpu/tensor.js';

const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'random', entry, constants: { WORKGROUP_SIZE } });

export interface RandomStream {
  seed: number;
  /** Separates independent uses of one seed (noise vs. baseline vs. jitter). */
  stream: number;
}

function run(rt: Runtime, entry: string, output: Tensor, input: Tensor | undefined, copySize: number, copyOffset: number, a: number, b: number, random: RandomStream): void {
  rt.dispatch(spec(entry), {
    bindings: input ? { input, output } : { output },
    uniforms: { seed: random.seed >>> 0, stream: random.stream >>> 0, copy_offset: copyOffset, copy_size: copySize, a, b },
    workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
}

/**
 * `copies` noisy versions of the single image `x` ([1, ...]): x + sigma * N(0, 1), stacked on the
 * batch axis. `firstCopy` numbers the first one (for chunked batches).
 */
export function addGaussianNoise(rt: Runtime, x: Tensor, copies: number, sigma: number, random: RandomStream, firstCopy = 0): Tensor {
  const output = rt.empty([copies, ...x.shape.slice(1)], 'noisy_copies');
  run(rt, 'add_gaussian', output, x, x.size, firstCopy, sigma, 0, random);
  return output;
}

/**
 * Noisy copies of rows of `x` ([R, ...]): row n is x[table[n, 0]] + sigma * N(0, 1) drawn as copy
 * table[n, 1] of `random` (the same draw `addGaussianNoise` makes for that copy number). `table`
 * is [count, stride] with stride >= 2 (further columns are the caller's).
 */
export function addGaussianNoiseRows(rt: Runtime, x: Tensor, table: Tensor, sigma: number, random: RandomStream): Tensor {
  const [count, stride] = table.shape;
  const copySize = x.size / x.shape[0];
  const output = rt.empty([count, ...x.shape.slice(1)], 'noisy_copies');
  rt.dispatch(spec('add_gaussian_rows'), {
    bindings: { input: x, output, table },
    uniforms: { seed: random.seed >>> 0, stream: random.stream >>> 0, copy_size: copySize, table_stride: stride, sigma },
    workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
  return output;
}

/** Uniform values in [low, high). */
export function randomUniform(rt: Runtime, shape: Shape, low: number, high: number, random: RandomStream): Tensor {
  const output = rt.empty(shape, 'uniform');
  run(rt, 'fill_uniform', output, undefined, output.size, 0, low, high, random);
  return output;
}

/** Normal values with the given mean and standard deviation. */
export function randomNormal(rt: Runtime, shape: Shape, mean: number, deviation: number, random: RandomStream): Tensor {
  const output = rt.empty(shape, 'normal');
  run(rt, 'fill_gaussian', output, undefined, output.size, 0, mean, deviation, random);
  return output;
}
