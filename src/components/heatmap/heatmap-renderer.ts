/**
 * The GPU side of <xai-heatmap>: shaders/heatmap.wgsl as a render pipeline drawing into WebGPU
 * canvas contexts configured with the engine's device. The map and the picture are uploaded once
 * per change; redraws for a new scale or opacity only rewrite the uniforms. Nothing is read back.
 *
 * The uniform struct is packed by member name at the offsets wgsl_reflect finds in the shader
 * (never restated here), and the bind group layout is explicit (no layout: 'auto').
 */
import { packUniformStruct, reflectBindings, reflectUniformLayout, shaderSource, type ReflectedBinding, type RgbaImage, type UniformLayout } from '../../index.js';

const source = shaderSource('heatmap');

export interface HeatmapFrame {
  /** The [height, width] map, row-major. */
  map: Float32Array;
  mapWidth: number;
  mapHeight: number;
  /** Drawn under the map at its own resolution (the canvas takes its size), or none. */
  image: RgbaImage | undefined;
  /** The value at the end of the palette (> 0). */
  scale: number;
  opacity: number;
  diverging: boolean;
  smooth: boolean;
}

let layout: UniformLayout | undefined;

/** The `params` struct's layout, reflected from the shader itself. */
function uniformLayout(): UniformLayout {
  layout ??= reflectUniformLayout(source, 'params');
  return layout;
}

let bindings: Map<string, ReflectedBinding> | undefined;

/** The shader's resources (one group) with their layout entries, reflected from the shader. */
function shaderBindings(): Map<string, ReflectedBinding> {
  bindings ??= reflectBindings(source, ['heatmap', 'colorbar'], GPUShaderStage.FRAGMENT);
  return bindings;
}

/** Bind-group entries from resources given by the shader's variable names; every one is needed. */
function bindGroupEntries(resources: Record<string, GPUBindingResource>): GPUBindGroupEntry[] {
  return [...shaderBindings()].map(([name, { binding }]) => {
    const resource = resources[name];
    if (!resource) throw new Error(`shaders/heatmap.wgsl: no resource given for '${name}'`);
    return { binding, resource };
  });
}

/** The uniform bytes, every member given by name and nothing else. */
export function packParams(values: Record<string, number | readonly number[]>): ArrayBuffer {
  const { size } = uniformLayout();
  // a uniform binding's size is a multiple of 16 bytes
  const bytes = new ArrayBuffer(Math.ceil(size / 16) * 16);
  packUniformStruct(uniformLayout(), values, new DataView(bytes), 0, 'shaders/heatmap.wgsl');
  return bytes;
}

interface DeviceResources {
  module: GPUShaderModule;
  bindGroupLayout: GPUBindGroupLayout;
  pipelineLayout: GPUPipelineLayout;
  pipelines: Map<string, GPURenderPipeline>;
  /** Bound as `image` when there is none to blend. */
  blank: GPUTexture;
}

const perDevice = new WeakMap<GPUDevice, DeviceResources>();

function resources(device: GPUDevice): DeviceResources {
  let r = perDevice.get(device);
  if (r) return r;
  const module = device.createShaderModule({ label: 'heatmap', code: source });
  const bindGroupLayout = device.createBindGroupLayout({ label: 'heatmap', entries: [...shaderBindings().values()].map((b) => b.layout) });
  const pipelineLayout = device.createPipelineLayout({ label: 'heatmap', bindGroupLayouts: [bindGroupLayout] });
  const blank = device.createTexture({ label: 'heatmap.blank', size: [1, 1], format: 'rgba8unorm', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
  r = { module, bindGroupLayout, pipelineLayout, pipelines: new Map(), blank };
  perDevice.set(device, r);
  return r;
}

function pipeline(device: GPUDevice, entry: 'heatmap' | 'colorbar', format: GPUTextureFormat, constants: { DIVERGING: boolean; BLEND_IMAGE: boolean; SMOOTH: boolean }): GPURenderPipeline {
  const r = resources(device);
  const key = `${entry}:${format}:${Number(constants.DIVERGING)}${Number(constants.BLEND_IMAGE)}${Number(constants.SMOOTH)}`;
  let p = r.pipelines.get(key);
  if (!p) {
    const overrides = { DIVERGING: Number(constants.DIVERGING), BLEND_IMAGE: Number(constants.BLEND_IMAGE), SMOOTH: Number(constants.SMOOTH) };
    p = device.createRenderPipeline({
      label: `heatmap.${entry}`,
      layout: r.pipelineLayout,
      vertex: { module: r.module, entryPoint: 'fullscreen' },
      fragment: { module: r.module, entryPoint: entry, targets: [{ format }], constants: overrides },
      primitive: { topology: 'triangle-list' },
    });
    r.pipelines.set(key, p);
  }
  return p;
}

/** Draws one heatmap and its colour bar; owns the GPU copies of one element's map and picture. */
export class HeatmapRenderer {
  private mapBuffer: GPUBuffer | undefined;
  private mapSource: Float32Array | undefined;
  private imageTexture: GPUTexture | undefined;
  private imageSource: RgbaImage | undefined;
  private readonly configured = new WeakMap<GPUCanvasContext, GPUDevice>();

  constructor(readonly device: GPUDevice) {}

  /**
   * Resizes `canvas` to the frame's output (the picture's size, else the map's), draws it and the
   * colour bar, then runs `then` in the same task, before the browser presents the canvases: the
   * one moment their pixels can be copied (toBlob, drawImage), since a presented WebGPU canvas
   * may not keep its contents for readers.
   */
  async draw<T = void>(canvas: HTMLCanvasElement, colorbar: HTMLCanvasElement, frame: HeatmapFrame, then?: () => T): Promise<T | undefined> {
    const { device } = this;
    device.pushErrorScope('validation');
    let thrown: unknown;
    let result: T | undefined;
    try {
      this.encode(canvas, colorbar, frame);
      result = then?.();
    } catch (error) {
      thrown = error;
    }
    const error = await device.popErrorScope();
    if (thrown) throw thrown;
    if (error) throw new Error(`Drawing the heatmap failed: ${error.message}`);
    await device.queue.onSubmittedWorkDone();
    return result;
  }

  private encode(canvas: HTMLCanvasElement, colorbar: HTMLCanvasElement, frame: HeatmapFrame): void {
    const { device } = this;
    const r = resources(device);
    const width = frame.image?.width ?? frame.mapWidth;
    const height = frame.image?.height ?? frame.mapHeight;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const format = navigator.gpu.getPreferredCanvasFormat();
    const map = this.uploadMap(frame.map);
    const image = frame.image ? this.uploadImage(frame.image) : r.blank;
    const constants = { DIVERGING: frame.diverging, BLEND_IMAGE: frame.image !== undefined, SMOOTH: frame.smooth };
    const encoder = device.createCommandEncoder({ label: 'heatmap' });
    const temporary: GPUBuffer[] = [];
    const pass = (target: HTMLCanvasElement, entry: 'heatmap' | 'colorbar', outSize: [number, number]) => {
      const context = this.context(target, format);
      const uniforms = device.createBuffer({ label: `heatmap.${entry}.params`, size: Math.ceil(uniformLayout().size / 16) * 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      temporary.push(uniforms);
      device.queue.writeBuffer(uniforms, 0, packParams({ map_size: [frame.mapWidth, frame.mapHeight], out_size: outSize, scale: frame.scale, opacity: frame.opacity }));
      const bindGroup = device.createBindGroup({
        label: `heatmap.${entry}`,
        layout: r.bindGroupLayout,
        entries: bindGroupEntries({ params: { buffer: uniforms }, attribution: { buffer: map }, image: image.createView() }),
      });
      const render = encoder.beginRenderPass({
        label: `heatmap.${entry}`,
        colorAttachments: [{ view: context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: [0, 0, 0, 1] }],
      });
      render.setPipeline(pipeline(device, entry, format, constants));
      render.setBindGroup(0, bindGroup);
      render.draw(3);
      render.end();
    };
    try {
      pass(canvas, 'heatmap', [width, height]);
      pass(colorbar, 'colorbar', [colorbar.width, colorbar.height]);
      device.queue.submit([encoder.finish()]);
    } finally {
      for (const b of temporary) b.destroy();
    }
  }

  private context(canvas: HTMLCanvasElement, format: GPUTextureFormat): GPUCanvasContext {
    const context = canvas.getContext('webgpu');
    if (!context) throw new Error('This canvas has no WebGPU context');
    if (this.configured.get(context) !== this.device) {
      context.configure({ device: this.device, format, alphaMode: 'opaque', usage: GPUTextureUsage.RENDER_ATTACHMENT });
      this.configured.set(context, this.device);
    }
    return context;
  }

  private uploadMap(map: Float32Array): GPUBuffer {
    if (this.mapBuffer && this.mapSource === map) return this.mapBuffer;
    this.mapBuffer?.destroy();
    // storage bindings need at least 4 bytes and 4-byte multiples
    this.mapBuffer = this.device.createBuffer({ label: 'heatmap.map', size: Math.max(4, map.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(this.mapBuffer, 0, map.buffer, map.byteOffset, map.byteLength);
    this.mapSource = map;
    return this.mapBuffer;
  }

  private uploadImage(image: RgbaImage): GPUTexture {
    if (this.imageTexture && this.imageSource === image) return this.imageTexture;
    this.imageTexture?.destroy();
    const texture = this.device.createTexture({ label: 'heatmap.image', size: [image.width, image.height], format: 'rgba8unorm', usage: GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST });
    const bytes = new Uint8Array(image.data.buffer as ArrayBuffer, image.data.byteOffset, image.data.byteLength);
    this.device.queue.writeTexture({ texture }, bytes, { bytesPerRow: image.width * 4, rowsPerImage: image.height }, [image.width, image.height]);
    this.imageTexture = texture;
    this.imageSource = image;
    return texture;
  }

  dispose(): void {
    this.mapBuffer?.destroy();
    this.imageTexture?.destroy();
    this.mapBuffer = this.imageTexture = undefined;
    this.mapSource = this.imageSource = undefined;
  }
}
