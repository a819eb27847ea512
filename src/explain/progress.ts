/** Cancellation and progress for long explanations. */
import { XaiError } from '../errors.js';

export class AbortedError extends XaiError {
  override readonly code = 'ABORTED';
}

export interface Progress {
  /** Copies the GPU has finished (samples, path points, windows, images, over all images and targets) and their total. */
  done: number;
  total: number;
  /** Milliseconds since the call started. */
  elapsed: number;
  /** Estimated milliseconds until the call finishes, from the pace so far (0 when done). */
  eta?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(`Explanation cancelled${signal.reason ? `: ${String(signal.reason)}` : ''}`);
}

/** Splits `total` items into consecutive chunks of at most `size`. */
export function* chunks(total: number, size: number): Generator<{ start: number; count: number }> {
  for (let start = 0; start < total; start += size) yield { start, count: Math.min(size, total - start) };
}
