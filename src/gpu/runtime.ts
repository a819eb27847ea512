/**
 * The runtime: one per GPUDevice. Ops record dispatches here; nothing reaches the GPU until a
 * read (or `flush()`), which encodes everything recorded into one command encoder and one submit
 * inside validation and out-of-memory error scopes, so that a whole forward+backward is a single
 * submission and any error surfaces as a typed exception instead of a hang or a silent zero.
 */
import { BufferUsage, MapMode } from './flags.js';
import { DeviceLostError, GpuValidationError, XaiError } from '../errors.js';
import { KernelCache, packUniforms, type Kernel, type KernelSpec } from './kernel.js';
import { SubmissionProfile, checkProfilable, type KernelTime } from './profiler.js';
import { BufferPool, Tensor, checkShape, sizeOf, type Shape, type TensorSlice } from './tensor.js';
import { selectKernelVariant, type KernelPreference, type KernelVariant } from './variants.js';

export type Workgroups = readonly [number, number?, number?];

export interface DispatchArgs {
  /** Storage bindings by the shader's variable name: whole tensors or slices of them. */
  bindings: Record<string, Tensor | TensorSlice>;
  /** Members of the entry point's uniform struct, by name. */
  uniforms?: Record<string, number | readonly number[]>;
  workgroups: Workgroups;
}

type Command =
  | { kind: 'dispatch'; kernel: Kernel; bindings: Record<string, GPUBufferBinding>; uniformOffset: number; workgroups: Workgroups }
  | { kind: 'copy'; source: GPUBuffer; target: GPUBuffer; bytes: number; sourceOffset: number; targetOffset: number };

export interface RuntimeOptions {
  /** Fill every tensor from `empty()` with NaN before use, so unwritten elements show up in tests. */
  poison?: boolean;
  /**
   * Which form of the hot kernels (conv2d forward, dense) the ops use: 'register' (no workgroup
   * memory; fastest on CPU adapters), 'tiled' (workgroup-memory tiles; for hardware GPUs), or
   * 'auto' (default): chosen from the adapter and limits by `selectKernelVariant` (gpu/variants.ts).
   */
  kernels?: KernelPreference;
}

export interface RuntimeStats {
  submits: number;
  dispatches: number;
  /** `mapAsync` calls: reads of results back to the CPU. */
  mapCalls: number;
  /** Submissions the GPU has reported finished (through `submit()`'s promise). */
  completed: number;
}

/** Loss and uncaptured errors of one device, watched once however many runtimes share it. */
interface DeviceHealth {
  lostReason: string | undefined;
  /** Validation messages that escaped every error scope, reported by the next flush. */
  uncaptured: string[];
}

const watched = new WeakMap<GPUDevice, DeviceHealth>();

function watchDevice(device: GPUDevice): DeviceHealth {
  let health = watched.get(device);
  if (!health) {
    const state: DeviceHealth = { lostReason: undefined, uncaptured: [] };
    device.lost.then((info) => {
      state.lostReason = `${info.reason}: ${info.message}`;
    });
    device.addEventListener('uncapturederror', (event) => {
      state.uncaptured.push((event as GPUUncapturedErrorEvent).error.message);
    });
    watched.set(device, state);
    health = state;
  }
  return health;
}

export class Runtime {
  readonly kernels: KernelCache;
  readonly pool: BufferPool;
  readonly stats: RuntimeStats = { submits: 0, dispatches: 0, mapCalls: 0, completed: 0 };
  /** The kernel variant ops dispatch (RuntimeOptions.kernels, resolved for this device). */
  readonly kernelVariant: KernelVariant;
  private commands: Command[] = [];
  /** Uniform bytes of the recorded dispatches, at 256-byte aligned offsets. */
  private uniformBytes = new ArrayBuffer(1 << 16);
  private uniformUsed = 0;
  /** Upload staging buffers to destroy once the submission that copies from them is done. */
  private staging: GPUBuffer[] = [];
  private readonly uniformAlignment: number;
  private readonly health: DeviceHealth;
  /** Per-kernel GPU time since `beginProfile()`; undefined when not profiling. */
  private profileTotals: Map<string, KernelTime> | undefined;

  constructor(
    readonly device: GPUDevice,
    private readonly options: RuntimeOptions = {},
  ) {
    this.kernels = new KernelCache(device);
    this.pool = new BufferPool(device);
    this.uniformAlignment = device.limits.minUniformBufferOffsetAlignment;
    this.health = watchDevice(device);
    this.kernelVariant = selectKernelVariant(device, options.kernels);
  }

  /**
   * Starts timing every kernel with timestamp queries (the device needs 'timestamp-query'): until
   * `endProfile()`, each dispatch gets its own compute pass. For finding hot kernels; the extra
   * passes cost a little, so time whole explanations without it.
   */
  beginProfile(): void {
    checkProfilable(this.device);
    this.profileTotals = new Map();
  }

  /** Stops profiling; GPU time per kernel (`shader.entry`) of the work flushed since `beginProfile()`, slowest first. */
  endProfile(): KernelTime[] {
    if (!this.profileTotals) throw new XaiError('endProfile() without beginProfile()');
    const times = [...this.profileTotals.values()].sort((a, b) => b.ms - a.ms);
    this.profileTotals = undefined;
    return times;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  private checkAlive(): void {
    if (this.health.lostReason !== undefined) {
      throw new DeviceLostError(`The GPU device was lost (${this.health.lostReason}). Create a new device and Runtime; tensors of the old one are gone.`);
    }
  }

  /** A tensor with undefined contents (NaN when the runtime poisons). */
  empty(shape: Shape, label = 'tensor'): Tensor {
    this.checkAlive();
    checkShape(shape, label);
    const tensor = new Tensor(shape, this.pool.acquire(sizeOf(shape) * 4, label), this.pool);
    if (this.options.poison) this.fill(tensor, Number.NaN);
    return tensor;
  }

  /** A tensor holding `data` (copied through a staging buffer in recording order). */
  upload(shape: Shape, data: ArrayLike<number>, label = 'input'): Tensor {
    checkShape(shape, label);
    if (data.length !== sizeOf(shape)) {
      throw new XaiError(`${label}: ${data.length} values do not fill shape [${shape.join(', ')}] (${sizeOf(shape)} values)`);
    }
    this.checkAlive();
    const tensor = new Tensor(shape, this.pool.acquire(sizeOf(shape) * 4, label), this.pool);
    this.write(tensor, data);
    return tensor;
  }

  /** Records overwriting `tensor` with `data`, ordered after everything recorded so far. */
  write(tensor: Tensor, data: ArrayLike<number>): void {
    if (data.length !== tensor.size) throw new XaiError(`write: ${data.length} values for a tensor of ${tensor.size}`);
    const staging = this.device.createBuffer({ label: 'upload', size: tensor.byteLength, usage: BufferUsage.COPY_SRC, mappedAtCreation: true });
    new Float32Array(staging.getMappedRange()).set(data);
    staging.unmap();
    this.staging.push(staging);
    this.commands.push({ kind: 'copy', source: staging, target: tensor.buffer, bytes: tensor.byteLength, sourceOffset: 0, targetOffset: 0 });
  }

  /** Records a copy of `bytes` from one tensor's buffer to another's. */
  copy(source: Tensor, target: Tensor, elements = source.size, sourceOffset = 0, targetOffset = 0): void {
    this.commands.push({ kind: 'copy', source: source.buffer, target: target.buffer, bytes: elements * 4, sourceOffset: sourceOffset * 4, targetOffset: targetOffset * 4 });
  }

  /** Records filling `tensor` with a constant. */
  fill(tensor: Tensor, value: number): void {
    this.dispatch({ shader: 'fill', entry: 'fill', constants: { WORKGROUP_SIZE: 64 } }, {
      bindings: { output: tensor },
      uniforms: { value },
      workgroups: this.grid(tensor.size, 64),
    });
  }

  /**
   * Workgroup counts covering `invocations` with `workgroupSize` per group, folded into a second
   * dimension past maxComputeWorkgroupsPerDimension. Shaders recover the linear index with
   * `linear_index()` from `shaders/common` conventions: gid.x + gid.y * num_workgroups.x * WORKGROUP_SIZE.
   */
  grid(invocations: number, workgroupSize: number): Workgroups {
    const groups = Math.ceil(invocations / workgroupSize);
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    return [Math.ceil(groups / y), y, 1];
  }

  /** Records one dispatch of `spec`. Bindings and uniforms are checked against the reflected shader now. */
  dispatch(spec: KernelSpec, args: DispatchArgs): void {
    this.checkAlive();
    const kernel = this.kernels.get(spec);
    const bindings: Record<string, GPUBufferBinding> = {};
    for (const [name, tensor] of Object.entries(args.bindings)) {
      const binding = kernel.bindings.get(name);
      if (!binding || binding.kind === 'uniform') {
        throw new Error(`${kernel.label}: no storage binding '${name}' (has: ${[...kernel.bindings.values()].filter((b) => b.kind !== 'uniform').map((b) => b.name).join(', ')})`);
      }
      if (tensor instanceof Tensor) {
        bindings[name] = tensor.binding();
        continue;
      }
      const offset = tensor.offset * 4;
      if (offset % this.device.limits.minStorageBufferOffsetAlignment !== 0) {
        throw new Error(`${kernel.label}: slice of '${name}' starts at byte ${offset}, not a multiple of minStorageBufferOffsetAlignment (${this.device.limits.minStorageBufferOffsetAlignment})`);
      }
      bindings[name] = { buffer: tensor.tensor.buffer, offset, size: tensor.size * 4 };
    }
    for (const binding of kernel.bindings.values()) {
      if (binding.kind !== 'uniform' && !bindings[binding.name]) throw new Error(`${kernel.label}: binding '${binding.name}' was not given`);
    }
    let uniformOffset = -1;
    if (kernel.uniform) {
      uniformOffset = this.reserveUniform(kernel.uniform.uniform!.size);
      packUniforms(kernel, args.uniforms ?? {}, new DataView(this.uniformBytes), uniformOffset);
    } else if (args.uniforms && Object.keys(args.uniforms).length) {
      throw new Error(`${kernel.label} takes no uniforms`);
    }
    const [x, y = 1, z = 1] = args.workgroups;
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    if ([x, y, z].some((n) => !Number.isInteger(n) || n < 0 || n > max)) {
      throw new Error(`${kernel.label}: workgroup counts [${x}, ${y}, ${z}] must be integers in 0..${max}`);
    }
    if (x * y * z === 0) return;
    this.commands.push({ kind: 'dispatch', kernel, bindings, uniformOffset, workgroups: [x, y, z] });
  }

  private reserveUniform(size: number): number {
    const offset = this.uniformUsed;
    this.uniformUsed = offset + Math.ceil(size / this.uniformAlignment) * this.uniformAlignment;
    if (this.uniformUsed > this.uniformBytes.byteLength) {
      const grown = new ArrayBuffer(Math.max(this.uniformUsed, this.uniformBytes.byteLength * 2));
      new Uint8Array(grown).set(new Uint8Array(this.uniformBytes));
      this.uniformBytes = grown;
    }
    return offset;
  }

  /** Recorded commands not yet submitted. */
  get pendingCommands(): number {
    return this.commands.length;
  }

  /**
   * Encodes everything recorded into one command encoder and submits it. Resolves when the GPU
   * has accepted it and throws typed errors for validation failures, out-of-memory and device loss.
   */
  async flush(): Promise<void> {
    this.checkAlive();
    const checks = this.kernels.takeChecks();
    const commands = this.commands;
    const staging = this.staging;
    this.commands = [];
    this.staging = [];
    const uniformSize = this.uniformUsed;
    this.uniformUsed = 0;

    const device = this.device;
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let uniformBuffer: GPUBuffer | undefined;
    if (uniformSize > 0) {
      uniformBuffer = device.createBuffer({ label: 'uniforms', size: uniformSize, usage: BufferUsage.UNIFORM, mappedAtCreation: true });
      new Uint8Array(uniformBuffer.getMappedRange()).set(new Uint8Array(this.uniformBytes, 0, uniformSize));
      uniformBuffer.unmap();
    }
    const encoder = device.createCommandEncoder({ label: 'webgpu-xai' });
    const profile = this.profileTotals ? new SubmissionProfile(device, this.profileTotals) : undefined;
    let pass: GPUComputePassEncoder | undefined;
    for (const command of commands) {
      if (command.kind === 'copy') {
        pass?.end();
        pass = undefined;
        encoder.copyBufferToBuffer(command.source, command.sourceOffset, command.target, command.targetOffset, command.bytes);
        continue;
      }
      const { kernel } = command;
      if (profile) {
        pass?.end();
        pass = encoder.beginComputePass({ label: kernel.label, timestampWrites: profile.passWrites(kernel.label) });
      }
      pass ??= encoder.beginComputePass({ label: 'webgpu-xai' });
      pass.setPipeline(kernel.pipeline);
      kernel.bindGroupLayouts.forEach((layout, group) => {
        const entries: GPUBindGroupEntry[] = [];
        for (const binding of kernel.bindings.values()) {
          if (binding.group !== group) continue;
          const resource = binding.kind === 'uniform' ? { buffer: uniformBuffer!, offset: command.uniformOffset, size: binding.uniform!.size } : command.bindings[binding.name];
          entries.push({ binding: binding.binding, resource });
        }
        pass!.setBindGroup(group, device.createBindGroup({ label: kernel.label, layout, entries }));
      });
      const [x, y, z] = command.workgroups;
      pass.dispatchWorkgroups(x, y, z);
      this.stats.dispatches++;
    }
    pass?.end();
    profile?.resolve(encoder);
    device.queue.submit([encoder.finish()]);
    this.stats.submits++;
    const validation = device.popErrorScope();
    const memory = device.popErrorScope();
    uniformBuffer?.destroy();
    for (const buffer of staging) buffer.destroy();

    await Promise.all(checks);
    const [validationError, memoryError] = await Promise.all([validation, memory]);
    this.checkAlive();
    if (memoryError) throw new GpuValidationError(`The GPU ran out of memory: ${memoryError.message}. Use a smaller batch or fewer samples.`);
    if (validationError) throw new GpuValidationError(`WebGPU rejected the submitted work: ${validationError.message}`);
    if (this.health.uncaptured.length) {
      const messages = this.health.uncaptured.splice(0);
      throw new GpuValidationError(`WebGPU reported errors: ${messages.join('; ')}`);
    }
    await profile?.collect();
  }

  /** Submits pending work and reads `tensor` back; the only place data leaves the GPU. */
  async read(tensor: Tensor): Promise<Float32Array> {
    const source = tensor.buffer;
    const bytes = tensor.byteLength;
    const readback = this.device.createBuffer({ label: 'readback', size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    this.commands.push({ kind: 'copy', source, target: readback, bytes, sourceOffset: 0, targetOffset: 0 });
    try {
      await this.flush();
      this.stats.mapCalls++;
      try {
        await readback.mapAsync(MapMode.READ);
      } catch (cause) {
        this.checkAlive();
        throw new GpuValidationError(`Reading a tensor back failed: ${String(cause)}`, { cause });
      }
      return new Float32Array(readback.getMappedRange().slice(0));
    } finally {
      readback.destroy();
    }
  }

  /**
   * Submits the work recorded so far and returns at once with a promise that resolves when the GPU
   * has finished it (queue.onSubmittedWorkDone): how long explanations keep at most two chunks
   * queued, report only finished work, and measure how long a chunk takes.
   */
  async submit(): Promise<{ done: Promise<void> }> {
    await this.flush();
    const submitted = this.stats.submits;
    // wrapped: an async function would otherwise adopt the promise and wait for the GPU here
    const done = this.device.queue.onSubmittedWorkDone().then(() => {
      this.stats.completed = Math.max(this.stats.completed, submitted);
      this.checkAlive();
    });
    return { done };
  }

  /** Waits until the GPU has finished all submitted work. */
  async finish(): Promise<void> {
    await this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkAlive();
  }

  /** Releases the pooled buffers that are not in use. Tensors still alive keep working. */
  trim(): void {
    this.pool.trim();
  }
}
