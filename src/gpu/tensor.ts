/**
 * Tensors: float32 data in a GPU storage buffer with an NHWC shape (batch first). Buffers come
 * from a pool of size classes so that repeated explanations of the same shapes allocate nothing.
 */
import { BufferUsage } from './flags.js';
import { ShapeError } from '../errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function checkShape(shape: Shape, what = 'tensor'): void {
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`${what} shape [${shape.join(', ')}] must be a non-empty list of positive integers`);
  }
}

/**
 * Rounds a byte size up to a size class: 256-byte steps up to 4 KiB, then four classes per power
 * of two (at most 25% waste), so that similar shapes share buffers.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= 4096) return Math.max(256, Math.ceil(bytes / 256) * 256);
  const power = 2 ** Math.floor(Math.log2(bytes));
  const step = power / 4;
  return Math.ceil(bytes / step) * step;
}

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private live = 0;
  private inUse = 0;
  private bytesUsed = 0;
  private bytesPeak = 0;

  constructor(private readonly device: GPUDevice) {}

  /** GPU buffers this pool holds (in use or free). Constant across repeated same-shape calls. */
  get liveBuffers(): number {
    return this.live;
  }

  /** Buffers handed out and not yet released. */
  get buffersInUse(): number {
    return this.inUse;
  }

  /** Bytes of the buffers handed out and not yet released (size classes, as allocated). */
  get bytesInUse(): number {
    return this.bytesUsed;
  }

  /** The largest `bytesInUse` since the last `resetPeak()`: what a batch planner's count is checked against. */
  get peakBytesInUse(): number {
    return this.bytesPeak;
  }

  resetPeak(): void {
    this.bytesPeak = this.bytesUsed;
  }

  acquire(bytes: number, label: string): GPUBuffer {
    // a size class may round past the device's largest buffer even when the bytes fit it
    const size = Math.min(sizeClass(bytes), this.device.limits.maxBufferSize - (this.device.limits.maxBufferSize % 4));
    if (bytes > size) {
      throw new ShapeError(`A ${bytes}-byte tensor exceeds this device's maxBufferSize (${this.device.limits.maxBufferSize}); use a smaller batch`);
    }
    this.inUse++;
    this.bytesUsed += size;
    this.bytesPeak = Math.max(this.bytesPeak, this.bytesUsed);
    const reused = this.free.get(size)?.pop();
    if (reused) return reused;
    this.live++;
    return this.device.createBuffer({ label, size, usage: STORAGE_USAGE });
  }

  release(buffer: GPUBuffer): void {
    this.inUse--;
    this.bytesUsed -= buffer.size;
    const list = this.free.get(buffer.size);
    if (list) list.push(buffer);
    else this.free.set(buffer.size, [buffer]);
  }

  /** Destroys the free buffers (keeps those in use). */
  trim(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.live -= [...this.free.values()].reduce((n, l) => n + l.length, 0);
    this.free.clear();
  }
}

/** A contiguous range of a tensor's elements, bindable like a tensor (see Tensor.slice). */
export interface TensorSlice {
  tensor: Tensor;
  /** First element. */
  offset: number;
  /** Elements. */
  size: number;
}

export class Tensor {
  readonly size: number;
  private disposed = false;

  constructor(
    readonly shape: Shape,
    private readonly gpuBuffer: GPUBuffer,
    private readonly pool: BufferPool,
  ) {
    this.size = sizeOf(shape);
  }

  /** The backing buffer; may be larger than the tensor (bind with `binding()`). */
  get buffer(): GPUBuffer {
    if (this.disposed) throw new Error(`Tensor [${this.shape.join(', ')}] was used after dispose()`);
    return this.gpuBuffer;
  }

  get byteLength(): number {
    return this.size * 4;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** A binding of exactly this tensor's bytes, so `arrayLength()` in shaders is the element count. */
  binding(): GPUBufferBinding {
    return { buffer: this.buffer, offset: 0, size: this.byteLength };
  }

  /**
   * Elements [offset, offset + size) bound as an array of their own, without a copy: how a matrix
   * too large for one storage binding is worked on in blocks. The offset in bytes must be a
   * multiple of the device's minStorageBufferOffsetAlignment (the runtime checks).
   */
  slice(offset: number, size: number): TensorSlice {
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size <= 0 || offset + size > this.size) {
      throw new ShapeError(`slice [${offset}, ${offset + size}) does not lie inside a tensor of ${this.size} elements`);
    }
    return { tensor: this, offset, size };
  }

  /**
   * The same data under a new shape of the same size, without a copy: the buffer moves to the
   * returned tensor and this one counts as disposed.
   */
  reshapeMove(shape: Shape): Tensor {
    checkShape(shape);
    if (sizeOf(shape) !== this.size) throw new ShapeError(`Cannot reshape [${this.shape.join(', ')}] to [${shape.join(', ')}]: sizes differ`);
    const moved = new Tensor(shape, this.buffer, this.pool);
    this.disposed = true;
    return moved;
  }

  /** Returns the buffer to the pool. Work already recorded that reads it still sees its data. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.release(this.gpuBuffer);
  }

  toString(): string {
    return `Tensor[${this.shape.join(', ')}]`;
  }
}
