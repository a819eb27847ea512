/**
 * Kernels: a compute pipeline built from one entry point of a `shaders/*.wgsl` file and its
 * `override` constants. Everything about layout comes from reflecting the WGSL with wgsl_reflect:
 * the bind-group layout (explicit, with read-only storage where the shader says `read`), and the
 * byte offsets of each uniform member, which `packUniforms` fills by name.
 */
import { ShaderStage } from './flags.js';
import { WgslReflect, type FunctionInfo, type TypeInfo, type VariableInfo } from 'wgsl_reflect/wgsl_reflect.module.js';
import { GpuValidationError, ShaderCompilationError } from '../errors.js';
import { shaderSource } from './shaders.js';

export interface KernelSpec {
  /** File name in `shaders/` without `.wgsl`. */
  shader: string;
  /** Compute entry point. */
  entry: string;
  /** Values for the shader's `override` declarations (workgroup size, variant switches). */
  constants?: Record<string, number>;
}

type Scalar = 'f32' | 'i32' | 'u32';
interface UniformMember {
  offset: number;
  scalar: Scalar;
  /** 1 for scalars, 2..4 for vectors. */
  components: number;
}
export interface UniformLayout {
  size: number;
  members: Map<string, UniformMember>;
}

export interface KernelBinding {
  name: string;
  group: number;
  binding: number;
  kind: 'uniform' | 'read-only-storage' | 'storage';
  /** Present for the uniform binding. */
  uniform?: UniformLayout;
}

export interface Kernel {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroupLayouts: GPUBindGroupLayout[];
  /** Resources the entry point uses, by variable name. */
  bindings: Map<string, KernelBinding>;
  /** The single uniform binding of the entry point, if any. */
  uniform: KernelBinding | undefined;
}

interface ReflectedShader {
  module: GPUShaderModule;
  reflection: WgslReflect;
}

const SCALAR_OF: Record<string, Scalar> = { f32: 'f32', i32: 'i32', u32: 'u32', f: 'f32', i: 'i32', u: 'u32' };

function uniformMember(name: string, type: TypeInfo, offset: number): UniformMember {
  const typeName = type.getTypeName();
  if (SCALAR_OF[typeName]) return { offset, scalar: SCALAR_OF[typeName], components: 1 };
  // vecN<T> or the vecNT shorthands (vec4u, vec2f, ...)
  const vector = /^vec([234])(?:<(f32|i32|u32)>|([fiu]))$/.exec(typeName);
  if (vector) return { offset, scalar: SCALAR_OF[vector[2] ?? vector[3]], components: Number(vector[1]) };
  throw new Error(`Uniform member '${name}' has type ${typeName}; kernels take scalars and vectors of f32/i32/u32 only`);
}

function uniformLayout(variable: VariableInfo): UniformLayout {
  if (!variable.type.isStruct) throw new Error(`Uniform '${variable.name}' must be a struct`);
  const members = new Map<string, UniformMember>();
  for (const member of (variable.type as unknown as { members: { name: string; type: TypeInfo; offset: number }[] }).members) {
    members.set(member.name, uniformMember(member.name, member.type, member.offset));
  }
  return { size: variable.type.size, members };
}

function bindingKind(variable: VariableInfo): KernelBinding['kind'] {
  // wgsl_reflect ResourceType: 0 = uniform, 1 = storage
  if (variable.resourceType === 0) return 'uniform';
  if (variable.resourceType === 1) return variable.access === 'read_write' ? 'storage' : 'read-only-storage';
  throw new Error(`Binding '${variable.name}' is neither a uniform nor a storage buffer`);
}

const SAMPLE_TYPES: Record<string, GPUTextureSampleType> = { f32: 'float', i32: 'sint', u32: 'uint' };

/** The bind-group layout entry of one reflected resource: a buffer, a sampled texture or a sampler. */
function layoutEntry(resource: VariableInfo, visibility: GPUShaderStageFlags): GPUBindGroupLayoutEntry {
  // wgsl_reflect ResourceType: 3 = texture, 4 = sampler
  if (resource.resourceType === 3) {
    const format = (resource.type as unknown as { format?: { name: string } }).format?.name ?? 'f32';
    return { binding: resource.binding, visibility, texture: { sampleType: SAMPLE_TYPES[format] ?? 'float' } };
  }
  if (resource.resourceType === 4) return { binding: resource.binding, visibility, sampler: {} };
  return { binding: resource.binding, visibility, buffer: { type: bindingKind(resource) } };
}

function formatCompilationMessages(label: string, code: string, messages: readonly GPUCompilationMessage[]): string {
  const lines = code.split('\n');
  return messages
    .map((m) => `${label}:${m.lineNum}:${m.linePos} ${m.type}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`)
    .join('\n');
}

/**
 * Caches shader modules (by file) and pipelines (by file, entry and constants). Creation is
 * synchronous so that recording stays synchronous; compilation and validation results are
 * collected as promises that `takeChecks()` hands to the next submission, which throws them.
 */
export class KernelCache {
  private readonly shaders = new Map<string, ReflectedShader>();
  private readonly kernels = new Map<string, Kernel>();
  private pendingChecks: Promise<void>[] = [];

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.kernels.size;
  }

  /** The reflection of a shader file (also used by ops to read array sizes and entry points). */
  reflect(shader: string): WgslReflect {
    return this.shaderModule(shader).reflection;
  }

  get(spec: KernelSpec): Kernel {
    const constants = spec.constants ?? {};
    const key = `${spec.shader}:${spec.entry}:${Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`).join(',')}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.create(spec, constants);
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  /** Compilation and pipeline-validation results since the last call; each rejects with a typed error. */
  takeChecks(): Promise<void>[] {
    const checks = this.pendingChecks;
    this.pendingChecks = [];
    return checks;
  }

  private shaderModule(shader: string): ReflectedShader {
    let reflected = this.shaders.get(shader);
    if (!reflected) {
      const code = shaderSource(shader);
      const module = this.device.createShaderModule({ label: shader, code });
      const check = module.getCompilationInfo().then((info) => {
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) throw new ShaderCompilationError(`shaders/${shader}.wgsl failed to compile:\n${formatCompilationMessages(`shaders/${shader}.wgsl`, code, errors)}`);
      });
      this.pendingChecks.push(check);
      reflected = { module, reflection: new WgslReflect(code) };
      this.shaders.set(shader, reflected);
    }
    return reflected;
  }

  private create(spec: KernelSpec, constants: Record<string, number>): Kernel {
    const { module, reflection } = this.shaderModule(spec.shader);
    const label = `${spec.shader}.${spec.entry}`;
    const entry: FunctionInfo | undefined = reflection.entry.compute.find((f) => f.name === spec.entry);
    if (!entry) {
      throw new Error(`shaders/${spec.shader}.wgsl has no compute entry point '${spec.entry}' (has: ${reflection.entry.compute.map((f) => f.name).join(', ')})`);
    }
    const declared = new Set(reflection.overrides.map((o) => o.name));
    for (const name of Object.keys(constants)) {
      if (!declared.has(name)) throw new Error(`${label}: constant '${name}' is not an override in the shader (declared: ${[...declared].join(', ') || 'none'})`);
    }

    const bindings = new Map<string, KernelBinding>();
    const groups: GPUBindGroupLayoutEntry[][] = [];
    for (const resource of entry.resources) {
      const kind = bindingKind(resource);
      const binding: KernelBinding = { name: resource.name, group: resource.group, binding: resource.binding, kind };
      if (kind === 'uniform') binding.uniform = uniformLayout(resource);
      bindings.set(resource.name, binding);
      (groups[resource.group] ??= []).push(layoutEntry(resource, ShaderStage.COMPUTE));
    }
    const uniforms = [...bindings.values()].filter((b) => b.kind === 'uniform');
    if (uniforms.length > 1) throw new Error(`${label}: at most one uniform struct per entry point (found ${uniforms.map((u) => u.name).join(', ')})`);

    const bindGroupLayouts = Array.from({ length: groups.length }, (_, g) =>
      this.device.createBindGroupLayout({ label: `${label}.group${g}`, entries: groups[g] ?? [] }),
    );
    this.device.pushErrorScope('validation');
    const pipeline = this.device.createComputePipeline({
      label,
      layout: this.device.createPipelineLayout({ label, bindGroupLayouts }),
      compute: { module, entryPoint: spec.entry, constants },
    });
    this.pendingChecks.push(
      this.device.popErrorScope().then((error) => {
        if (error) throw new GpuValidationError(`Creating the pipeline ${label} failed: ${error.message}`);
      }),
    );
    return { label, pipeline, bindGroupLayouts, bindings, uniform: uniforms[0] };
  }
}

/**
 * The layout of the uniform struct variable `name` of a WGSL source, for code outside the kernel
 * path (render pipelines such as the heatmap) that must pack the same way.
 */
export function reflectUniformLayout(code: string, name: string): UniformLayout {
  const variable = new WgslReflect(code).uniforms.find((u) => u.name === name);
  if (!variable) throw new Error(`No uniform '${name}' in the shader`);
  return uniformLayout(variable);
}

/** A resource of a render shader: where it is bound and its bind-group layout entry. */
export interface ReflectedBinding {
  group: number;
  binding: number;
  layout: GPUBindGroupLayoutEntry;
}


/**
 * The resources that the entry points `entries` of a render (or any) shader use, by variable
 * name, with layout entries for `visibility`: buffers, sampled textures and samplers. Code
 * outside the kernel path builds explicit bind-group layouts from this instead of restating them.
 */
export function reflectBindings(code: string, entries: readonly string[], visibility: GPUShaderStageFlags): Map<string, ReflectedBinding> {
  const reflection = new WgslReflect(code);
  const functions = [...reflection.entry.vertex, ...reflection.entry.fragment, ...reflection.entry.compute];
  const result = new Map<string, ReflectedBinding>();
  for (const name of entries) {
    const entry = functions.find((f) => f.name === name);
    if (!entry) throw new Error(`No entry point '${name}' in the shader (has: ${functions.map((f) => f.name).join(', ')})`);
    for (const resource of entry.resources) {
      if (!result.has(resource.name)) result.set(resource.name, { group: resource.group, binding: resource.binding, layout: layoutEntry(resource, visibility) });
    }
  }
  return result;
}

/**
 * Writes `values` into `target` at the reflected offsets; every member must be given, nothing
 * else may be. `label` names the shader in errors.
 */
export function packUniformStruct(layout: UniformLayout, values: Record<string, number | readonly number[]>, target: DataView, base: number, label: string): void {
  for (const name of Object.keys(values)) {
    if (!layout.members.has(name)) throw new Error(`${label}: uniform member '${name}' does not exist (members: ${[...layout.members.keys()].join(', ')})`);
  }
  for (const [name, member] of layout.members) {
    const value = values[name];
    if (value === undefined) throw new Error(`${label}: uniform member '${name}' was not given`);
    const components = typeof value === 'number' ? [value] : value;
    if (components.length !== member.components) throw new Error(`${label}: uniform '${name}' takes ${member.components} value(s), got ${components.length}`);
    components.forEach((v, i) => {
      const at = base + member.offset + 4 * i;
      if (member.scalar === 'f32') target.setFloat32(at, v, true);
      else if (member.scalar === 'i32') target.setInt32(at, v, true);
      else {
        if (!Number.isInteger(v) || v < 0) throw new Error(`${label}: uniform '${name}' is u32 but got ${v}`);
        target.setUint32(at, v, true);
      }
    });
  }
}

/** Packs a kernel's uniform struct (see packUniformStruct). */
export function packUniforms(kernel: Kernel, values: Record<string, number | readonly number[]>, target: DataView, base: number): void {
  const layout = kernel.uniform?.uniform;
  if (!layout) {
    if (Object.keys(values).length) throw new Error(`${kernel.label} declares no uniform, but uniforms were given: ${Object.keys(values).join(', ')}`);
    return;
  }
  packUniformStruct(layout, values, target, base, kernel.label);
}
