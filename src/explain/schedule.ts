/**
 * Running chunks so that progress and cancel are true: at most two chunks are queued on the GPU
 * (the next one is recorded while the previous runs, then we wait for the GPU to finish the older
 * one with onSubmittedWorkDone), progress counts finished work only, an abort is honoured after
 * at most one more chunk and leaves nothing queued, and chunk sizes follow the measured time per
 * copy so that one chunk takes about TARGET_MS: the event loop is never blocked longer than that.
 */
import type { Runtime } from '../gpu/runtime.js';
import { throwIfAborted, type RunOptions } from './progress.js';

/** Aimed-for GPU time of one chunk. */
export const TARGET_MS = 400;
/**
 * Speed assumed for work never measured before, in FLOP per millisecond: 0.1 GFLOP/s, the slow end
 * of CPU adapters, so that a first chunk is short anywhere; the measured pace takes over after it.
 */
export const ASSUMED_FLOP_PER_MS = 1e5;

/** Measured milliseconds per copy, by kind of work, kept per explainer for later calls. */
export type Pace = Map<string, number>;

interface InFlight {
  done: Promise<void>;
  count: number;
}

export class Schedule {
  private finished = 0;
  private readonly started = performance.now();

  constructor(
    private readonly rt: Runtime,
    private readonly options: RunOptions,
    /** Copies of the whole call, across groups. */
    readonly total: number,
    private readonly pace: Pace,
    /** Names the kind of work whose time per copy is remembered (method and pass). */
    private readonly kind: string,
    /** FLOPs of one copy (Model.flops(1), three times that with a backward pass): the first chunk's guess. */
    private readonly flopsPerCopy: number,
  ) {}

  get elapsed(): number {
    return performance.now() - this.started;
  }

  checkAborted(): void {
    throwIfAborted(this.options.signal);
  }

  /**
   * Runs `copies` copies in chunks of at most `largest`: `record(first, count)` records one chunk
   * (nothing read back), which is then submitted; returns when the GPU has finished all of them.
   */
  async run(copies: number, largest: number, record: (first: number, count: number) => void): Promise<void> {
    const queue: InFlight[] = [];
    let runStart: number | undefined;
    let finishedHere = 0;
    const retire = async () => {
      const chunk = queue.shift()!;
      await chunk.done;
      // the pace over this run so far: chunks run back to back (the next is queued while one
      // runs), and the GPU's completion callbacks may arrive together, so single chunks time badly
      finishedHere += chunk.count;
      this.pace.set(this.kind, (performance.now() - runStart!) / finishedHere);
      this.finished += chunk.count;
      const elapsed = this.elapsed;
      this.options.onProgress?.({ done: this.finished, total: this.total, elapsed, eta: (elapsed / this.finished) * (this.total - this.finished) });
    };
    try {
      let first = 0;
      while (first < copies) {
        this.checkAborted();
        const count = Math.min(this.chunkSize(largest), copies - first);
        runStart ??= performance.now();
        record(first, count);
        const { done } = await this.rt.submit();
        queue.push({ done, count });
        first += count;
        if (queue.length === 2) await retire();
      }
      while (queue.length) await retire();
      this.checkAborted();
    } catch (error) {
      // leave nothing queued: whatever was submitted finishes before the error reaches the caller
      await Promise.allSettled(queue.map((chunk) => chunk.done));
      throw error;
    }
  }

  /** Copies per chunk: what TARGET_MS allows at the measured pace, at most `largest`. */
  private chunkSize(largest: number): number {
    const msPerCopy = this.pace.get(this.kind) ?? this.flopsPerCopy / ASSUMED_FLOP_PER_MS;
    return Math.max(1, Math.min(largest, Math.floor(TARGET_MS / msPerCopy)));
  }
}
