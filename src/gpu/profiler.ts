/**
 * Per-kernel GPU time, for finding what to optimize on a given adapter: between
 * `Runtime.beginProfile()` and `endProfile()` the runtime puts every dispatch in its own compute
 * pass with timestamp writes, and a SubmissionProfile resolves them after each submit and adds them
 * up by kernel (`shader.entry`). One pass per dispatch costs a little time of its own, so profile
 * to compare kernels, and time whole explanations without it.
 */
import { OptionError } from '../errors.js';
import { BufferUsage, MapMode } from './flags.js';

export interface KernelTime {
  /** `shader.entry`, e.g. 'conv2d.backward_input'. */
  kernel: string;
  /** GPU time summed over its dispatches. */
  ms: number;
  dispatches: number;
}

/** WebGPU caps a query set at 4096 queries: 2 per dispatch. */
const DISPATCHES_PER_SET = 2048;

/** The timestamps of one submission: a query-set pair per dispatch, in recording order. */
export class SubmissionProfile {
  private readonly sets: GPUQuerySet[] = [];
  private readonly kernels: string[] = [];
  private resolved?: GPUBuffer;
  private readback?: GPUBuffer;

  /** `totals`: where collect() adds this submission's kernel times. */
  constructor(private readonly device: GPUDevice, private readonly totals: Map<string, KernelTime>) {}

  /** Timestamp writes for the pass of the next dispatch, of `kernel`. */
  passWrites(kernel: string): GPUComputePassTimestampWrites {
    const index = this.kernels.length;
    this.kernels.push(kernel);
    const set = Math.floor(index / DISPATCHES_PER_SET);
    if (set === this.sets.length) {
      this.sets.push(this.device.createQuerySet({ label: 'profile', type: 'timestamp', count: 2 * DISPATCHES_PER_SET }));
    }
    const first = 2 * (index % DISPATCHES_PER_SET);
    return { querySet: this.sets[set], beginningOfPassWriteIndex: first, endOfPassWriteIndex: first + 1 };
  }

  /** Encodes copying the timestamps out: call last on the submission's encoder. */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.kernels.length) return;
    const bytes = this.kernels.length * 16;
    this.resolved = this.device.createBuffer({ label: 'profile.resolve', size: this.sets.length * DISPATCHES_PER_SET * 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    this.readback = this.device.createBuffer({ label: 'profile.read', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.sets.forEach((set, s) => {
      const count = Math.min(DISPATCHES_PER_SET, this.kernels.length - s * DISPATCHES_PER_SET);
      encoder.resolveQuerySet(set, 0, 2 * count, this.resolved!, s * DISPATCHES_PER_SET * 16);
    });
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, bytes);
  }

  /** After the submit: adds this submission's kernel times to the totals and frees its GPU objects. */
  async collect(): Promise<void> {
    if (!this.readback) return;
    try {
      await this.readback.mapAsync(MapMode.READ);
      const stamps = new BigUint64Array(this.readback.getMappedRange().slice(0));
      this.kernels.forEach((kernel, i) => {
        const [begin, end] = [stamps[2 * i], stamps[2 * i + 1]];
        const entry = this.totals.get(kernel) ?? { kernel, ms: 0, dispatches: 0 };
        entry.ms += end > begin ? Number(end - begin) / 1e6 : 0;
        entry.dispatches++;
        this.totals.set(kernel, entry);
      });
    } finally {
      this.readback.destroy();
      this.resolved?.destroy();
      for (const set of this.sets) set.destroy();
    }
  }
}

/** Checks the device can be profiled. */
export function checkProfilable(device: GPUDevice): void {
  if (!device.features.has('timestamp-query')) {
    throw new OptionError("profile needs the 'timestamp-query' feature, which this device was not created with (the adapter may lack it)");
  }
}
