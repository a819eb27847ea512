/**
 * Timing for the benchmark: wall time to result (performance.now() around a call that ends with
 * the result on the CPU), and GPU time from timestamp queries where the device has the
 * 'timestamp-query' feature.
 *
 * GPU time is taken without touching the engine or TF.js: `GpuTimer` replaces
 * `createCommandEncoder` on one GPUDevice instance (an own property; the prototype is untouched)
 * so that, while a measurement is open, every compute pass that does not already write timestamps
 * gets `timestampWrites` for the beginning and end of the pass. After the measured call the
 * queries are resolved in one extra submission and read back (outside the wall-time interval).
 * Two numbers come out:
 *   busy: the sum of (end - begin) over the compute passes: time the GPU spent executing the
 *         method's kernels. Copies between passes and idle gaps (CPU work, readbacks) are excluded.
 *   span: last pass end - first pass begin: the GPU timeline from first kernel to last, gaps included.
 * Dawn quantizes timestamps (to 65.5 us) unless its `timestamp_quantization` toggle is off: the
 * Node device is created with that toggle off (bench/device-node.ts) and Chromium gets
 * --enable-webgpu-developer-features; `quantized` says when the values still look quantized.
 */

export interface Stats {
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  /** Every sample, in the order measured. */
  samples: number[];
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  // linear interpolation between closest ranks (numpy's default percentile)
  const at = (q: number) => {
    const position = q * (sorted.length - 1);
    const low = Math.floor(position);
    const high = Math.min(sorted.length - 1, low + 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
  };
  return { median: at(0.5), min: sorted[0], max: sorted[sorted.length - 1], q1: at(0.25), q3: at(0.75), samples };
}

export interface GpuTime {
  busyMs: number;
  spanMs: number;
  /** Compute passes timed. */
  passes: number;
  /** Passes that already carried their own timestampWrites (not timed). */
  skipped: number;
}

/** Timestamp queries per query set (WebGPU caps a set at 4096). */
const QUERIES_PER_SET = 4096;
/** GPUBufferUsage / GPUMapMode values (spec constants), so that no global is needed. */
const USAGE = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, QUERY_RESOLVE: 0x0200 };
const MAP_READ = 0x0001;

/** Times the compute passes of one device through timestamp queries. */
export class GpuTimer {
  private sets: GPUQuerySet[] = [];
  /** Queries handed out in the open measurement. */
  private used = 0;
  private skipped = 0;
  private open = false;
  private readonly original: GPUDevice['createCommandEncoder'];
  /** Whether timestamps seen so far are all multiples of 65536 ns (Dawn's quantization). */
  quantized: boolean | undefined;

  private constructor(private readonly device: GPUDevice) {
    this.original = device.createCommandEncoder;
    const timer = this;
    const original = this.original;
    const patched = function (this: GPUDevice, descriptor?: GPUCommandEncoderDescriptor): GPUCommandEncoder {
      const encoder = original.call(device, descriptor);
      const begin = encoder.beginComputePass;
      encoder.beginComputePass = function (this: GPUCommandEncoder, pass?: GPUComputePassDescriptor): GPUComputePassEncoder {
        return begin.call(encoder, timer.instrument(pass));
      };
      return encoder;
    };
    Object.defineProperty(device, 'createCommandEncoder', { value: patched, configurable: true, writable: true });
  }

  /** A timer for `device`, or undefined where it lacks 'timestamp-query'. */
  static attach(device: GPUDevice): GpuTimer | undefined {
    if (!device.features.has('timestamp-query')) return undefined;
    return new GpuTimer(device);
  }

  private instrument(pass: GPUComputePassDescriptor | undefined): GPUComputePassDescriptor | undefined {
    if (!this.open) return pass;
    if (pass?.timestampWrites) {
      this.skipped++;
      return pass;
    }
    const setIndex = Math.floor(this.used / QUERIES_PER_SET);
    if (setIndex === this.sets.length) this.sets.push(this.device.createQuerySet({ label: 'bench.timestamps', type: 'timestamp', count: QUERIES_PER_SET }));
    const first = this.used % QUERIES_PER_SET;
    this.used += 2;
    return { ...pass, timestampWrites: { querySet: this.sets[setIndex], beginningOfPassWriteIndex: first, endOfPassWriteIndex: first + 1 } };
  }

  begin(): void {
    if (this.open) throw new Error('GpuTimer.begin: a measurement is already open');
    this.open = true;
    this.used = 0;
    this.skipped = 0;
  }

  /** Closes the measurement; resolves once the GPU has finished everything it timed. */
  async end(): Promise<GpuTime> {
    this.open = false;
    const used = this.used;
    if (used === 0) return { busyMs: 0, spanMs: 0, passes: 0, skipped: this.skipped };
    const bytes = used * 8;
    const resolve = this.device.createBuffer({ label: 'bench.timestamps.resolve', size: bytes, usage: USAGE.QUERY_RESOLVE | USAGE.COPY_SRC });
    const readback = this.device.createBuffer({ label: 'bench.timestamps.read', size: bytes, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const encoder = this.original.call(this.device, { label: 'bench.timestamps' });
    for (let s = 0; s * QUERIES_PER_SET < used; s++) {
      const count = Math.min(QUERIES_PER_SET, used - s * QUERIES_PER_SET);
      // destination offsets must be 256-byte aligned: 4096 queries * 8 bytes is
      encoder.resolveQuerySet(this.sets[s], 0, count, resolve, s * QUERIES_PER_SET * 8);
    }
    encoder.copyBufferToBuffer(resolve, 0, readback, 0, bytes);
    this.device.queue.submit([encoder.finish()]);
    await readback.mapAsync(MAP_READ);
    const values = new BigInt64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    readback.destroy();
    resolve.destroy();
    let busy = 0n;
    let first: bigint | undefined;
    let last: bigint | undefined;
    let passes = 0;
    let quantized = true;
    for (let i = 0; i < used; i += 2) {
      const b = values[i];
      const e = values[i + 1];
      if (b === 0n && e === 0n) continue; // a pass encoded but never submitted
      passes++;
      if (e > b) busy += e - b;
      if (first === undefined || b < first) first = b;
      if (last === undefined || e > last) last = e;
      if (b % 65536n !== 0n || e % 65536n !== 0n) quantized = false;
    }
    this.quantized = passes > 0 ? quantized && this.quantized !== false : this.quantized;
    const span = first !== undefined && last !== undefined && last > first ? last - first : 0n;
    return { busyMs: Number(busy) / 1e6, spanMs: Number(span) / 1e6, passes, skipped: this.skipped };
  }

  /** Gives the device its own createCommandEncoder back and frees the query sets. */
  detach(): void {
    delete (this.device as unknown as Record<string, unknown>).createCommandEncoder;
    for (const set of this.sets) set.destroy();
    this.sets = [];
  }
}

export interface MeasureOptions {
  warmup: number;
  repeats: number;
  /** Stop repeating (after at least `minRepeats`) once the measured runs took this long in total. */
  budgetMs: number;
  minRepeats: number;
}

export interface Measurement {
  wall: Stats;
  /** GPU busy and span time per run, when a timer was given. */
  gpuBusy?: Stats;
  gpuSpan?: Stats;
  /** Compute passes per run (median). */
  passes?: number;
  repeats: number;
  warmup: number;
}

/** Runs `run` `warmup` times untimed, then up to `repeats` times timed. */
export async function measure(run: () => Promise<unknown>, options: MeasureOptions, timer?: GpuTimer): Promise<Measurement> {
  for (let i = 0; i < options.warmup; i++) await run();
  const wall: number[] = [];
  const busy: number[] = [];
  const span: number[] = [];
  const passes: number[] = [];
  let total = 0;
  for (let i = 0; i < options.repeats; i++) {
    timer?.begin();
    const started = performance.now();
    try {
      await run();
    } finally {
      const ms = performance.now() - started;
      wall.push(ms);
      total += ms;
      if (timer) {
        const gpu = await timer.end();
        busy.push(gpu.busyMs);
        span.push(gpu.spanMs);
        passes.push(gpu.passes);
      }
    }
    if (i + 1 >= options.minRepeats && total >= options.budgetMs) break;
  }
  const result: Measurement = { wall: stats(wall), repeats: wall.length, warmup: options.warmup };
  if (timer && passes.some((p) => p > 0)) {
    result.gpuBusy = stats(busy);
    result.gpuSpan = stats(span);
    result.passes = stats(passes).median;
  }
  return result;
}
