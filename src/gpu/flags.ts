/**
 * WebGPU's flag values, fixed by the specification. Used instead of the `GPUBufferUsage` and
 * friends globals, which Node's `webgpu` package only provides once they are copied onto
 * globalThis: the engine takes an injected device and must not depend on that.
 */
export const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080, QUERY_RESOLVE: 0x0200 } as const;
export const ShaderStage = { COMPUTE: 0x4 } as const;
export const MapMode = { READ: 0x0001 } as const;
