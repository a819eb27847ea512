import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import { encodeNpy, type Attribution, type RgbaImage } from '../../index.js';
import {
  displayMap, formatValue, percentileScale, resolveColormap, saveBlob, valueRange, type ColormapKind, type Reduction,
} from '../internal/display.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { pixelsOf, sharedDevice } from '../internal/sources.js';
import type { ImageSource } from '../internal/types.js';
import { errorMessage, XaiElement } from '../internal/xai-element.js';
import { HeatmapRenderer, type HeatmapFrame } from './heatmap-renderer.js';
import styles from './heatmap.styles.js';

/**
 * @summary An attribution map drawn over its picture on the GPU (shaders/heatmap.wgsl), with a
 * colour bar in the map's own units and downloads of the raw values (.npy) and the picture (PNG).
 *
 * Magnitude maps get the sequential palette (inferno) from 0; signed maps the diverging one
 * (blue-white-red) centred on zero. The value at the end of the palette is the 99th percentile of
 * |value| (`percentile`), unless `scale` fixes it (a shared scale set by <xai-compare>, or a
 * user's absolute scale); values beyond are clipped and the colour bar says so.
 *
 * @csspart base - The figure.
 * @csspart label - The title above the map.
 * @csspart canvas - The WebGPU canvas with the map (the picture's resolution, else the map's).
 * @csspart placeholder - Shown while there is no map.
 * @csspart colorbar - The colour bar with its ticks.
 * @csspart colorbar-canvas - The colour bar's WebGPU canvas.
 * @csspart ticks - The colour bar's values.
 * @csspart caption - Where the scale comes from, and the map's value range.
 * @csspart downloads - The download buttons.
 * @csspart download-npy - Saves the raw attribution [H, W, C] as .npy.
 * @csspart download-png - Saves the canvas as PNG.
 * @csspart error - A drawing error.
 *
 * @cssproperty --xai-heatmap-size - Displayed width of the map (default 224px).
 * @cssproperty --xai-colorbar-height - Height of the colour bar (default 10px).
 *
 * @event xai-error - Drawing failed (detail: { error, phase: 'draw', message }).
 */
export class XaiHeatmap extends XaiElement {
  static override styles = [sharedStyles, styles];

  /** The map to show: an Attribution from the engine (or any { method, values, shape: [H, W, C], target }). */
  @property({ attribute: false }) attribution?: Attribution;

  /** The picture under the map; the canvas takes its resolution. None: the map alone, at its own resolution. */
  @property({ attribute: false }) image?: ImageSource;

  /** The model input [H, W, C], needed by reduction="gradient-x-input". */
  @property({ attribute: false }) input?: ArrayLike<number>;

  /** The device to draw with (use the explainer's: `explainer.runtime.device`); default: one shared by the page. */
  @property({ attribute: false }) device?: GPUDevice;

  /** Channels to one value per pixel: auto (one channel as is; IG signed sum; else abs-max), abs-max, abs-sum, sum, gradient-x-input. */
  @property() reduction: Reduction = 'auto';

  /** sequential (magnitudes from 0), diverging (signed, white at 0), or auto: diverging for signed maps (Integrated Gradients, occlusion, gradient x input) and wherever a value is negative. */
  @property() colormap: ColormapKind = 'auto';

  /** Percentile of |value| that reaches the end of the palette, when `scale` is not set. */
  @property({ type: Number }) percentile = 99;

  /** A fixed value for the end of the palette (shared or absolute scale); overrides `percentile`. */
  @property({ type: Number }) scale?: number;

  /** Says where a fixed `scale` comes from, in the caption (e.g. "shared by 5 maps"). */
  @property({ attribute: 'scale-note' }) scaleNote?: string;

  /** Weight of the colours over the picture, 0..1. */
  @property({ type: Number }) opacity = 0.6;

  /** Bilinear interpolation of the map instead of square pixels. */
  @property({ type: Boolean, reflect: true }) smooth = false;

  /** A title shown above the map (also its accessible name). */
  @property() label?: string;

  /** Base name of downloaded files; default "<method>-class<target>". */
  @property() filename?: string;

  /** Hides the download buttons. */
  @property({ type: Boolean, attribute: 'no-downloads' }) noDownloads = false;

  @state() private drawError?: string;

  @query('canvas[part~="canvas"]') private canvas!: HTMLCanvasElement;
  @query('canvas[part~="colorbar-canvas"]') private colorbarCanvas!: HTMLCanvasElement;

  private displayed?: Float32Array;
  private pictured?: RgbaImage;
  private renderer?: HeatmapRenderer;
  private frame?: HeatmapFrame;
  private drawn: Promise<void> = Promise.resolve();
  private drawId = 0;
  private percentileCache?: { map: Float32Array; q: number; scale: number };

  /** The [H, W] values shown (after `reduction`), row-major; undefined without an attribution. */
  get map(): Float32Array | undefined {
    return this.displayed;
  }

  /** The map's [H, W]. */
  get mapShape(): [number, number] | undefined {
    return this.attribution ? [this.attribution.shape[0], this.attribution.shape[1]] : undefined;
  }

  /** The palette in use. */
  get colormapInUse(): 'sequential' | 'diverging' {
    if (!this.attribution || !this.displayed) return this.colormap === 'diverging' ? 'diverging' : 'sequential';
    return resolveColormap(this.attribution, this.reduction, this.colormap, this.displayed);
  }

  /** The value at the end of the palette: `scale` when set (and > 0), else the percentile of |map|. */
  get scaleInUse(): number {
    if (this.scale !== undefined && this.scale !== null && this.scale > 0 && Number.isFinite(this.scale)) return this.scale;
    if (!this.displayed) return 1;
    const q = this.percentileInUse;
    if (this.percentileCache?.map !== this.displayed || this.percentileCache.q !== q) {
      this.percentileCache = { map: this.displayed, q, scale: percentileScale(this.displayed, q) };
    }
    return this.percentileCache.scale;
  }

  /** `percentile` when it is in (0, 100], else 99. */
  get percentileInUse(): number {
    return this.percentile > 0 && this.percentile <= 100 ? this.percentile : 99;
  }

  /** Resolves once the current map is drawn and the GPU is done with it. */
  get drawComplete(): Promise<void> {
    return this.updateComplete.then(() => this.drawn);
  }

  /** The raw attribution values [H, W, C] as a NumPy .npy file. */
  toNpy(): Uint8Array {
    if (!this.attribution) throw new Error('<xai-heatmap> has no attribution');
    return encodeNpy(this.attribution.values, this.attribution.shape);
  }

  /** The drawn map (blended over the picture) as a PNG, at the canvas's resolution. */
  async toPng(): Promise<Blob> {
    // toBlob copies the canvas when called (inside capture); the PNG is encoded afterwards
    return this.capture(() => new Promise<Blob>((resolve, reject) => {
      this.canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The canvas gave no PNG'))), 'image/png');
    }));
  }

  /** The drawn map's RGBA pixels, at the canvas's resolution. */
  async toImageData(): Promise<ImageData> {
    return this.capture(() => {
      const copy = new OffscreenCanvas(this.canvas.width, this.canvas.height);
      const context = copy.getContext('2d')!;
      context.drawImage(this.canvas, 0, 0);
      return context.getImageData(0, 0, copy.width, copy.height);
    });
  }

  /** Draws the current frame again and runs `read` before the browser presents it (see HeatmapRenderer.draw). */
  private async capture<T>(read: () => T): Promise<T> {
    if (!this.attribution) throw new Error('<xai-heatmap> has no attribution');
    await this.drawComplete;
    const frame = this.frame;
    if (!this.renderer || !frame) throw new Error(`<xai-heatmap> could not draw its map${this.drawError ? `: ${this.drawError}` : ''}`);
    return (await this.renderer.draw(this.canvas, this.colorbarCanvas, frame, read)) as T;
  }

  /** Saves the raw values (.npy) or the picture (PNG) through the browser's download. */
  async download(format: 'npy' | 'png'): Promise<void> {
    const base = this.filename ?? (this.attribution ? `${this.attribution.method}-class${this.attribution.target}` : 'attribution');
    if (format === 'npy') saveBlob(new Blob([this.toNpy() as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), `${base}.npy`);
    else saveBlob(await this.toPng(), `${base}.png`);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('attribution') || changed.has('reduction') || changed.has('input')) {
      this.displayed = undefined;
      this.drawError = undefined;
      if (this.attribution) {
        try {
          this.displayed = displayMap(this.attribution, this.reduction, this.input);
        } catch (error) {
          this.drawError = this.reportError(error, 'draw');
        }
      }
    }
    if (changed.has('image')) {
      this.pictured = undefined;
      if (this.image) {
        try {
          this.pictured = pixelsOf(this.image);
        } catch (error) {
          this.drawError = this.reportError(error, 'draw');
        }
      }
    }
  }

  protected override updated(): void {
    const map = this.displayed;
    const shape = this.mapShape;
    const id = ++this.drawId;
    if (!map || !shape) {
      this.frame = undefined;
      this.drawn = Promise.resolve();
      return;
    }
    const frame: HeatmapFrame = {
      map,
      mapWidth: shape[1],
      mapHeight: shape[0],
      image: this.pictured,
      scale: this.scaleInUse,
      opacity: Math.min(1, Math.max(0, Number.isFinite(this.opacity) ? this.opacity : 0.6)),
      diverging: this.colormapInUse === 'diverging',
      smooth: this.smooth,
    };
    this.drawn = (async () => {
      const device = this.device ?? (await sharedDevice());
      if (id !== this.drawId) return;
      if (this.renderer?.device !== device) {
        this.renderer?.dispose();
        this.renderer = new HeatmapRenderer(device);
      }
      await this.renderer.draw(this.canvas, this.colorbarCanvas, frame);
      this.frame = frame;
    })().catch((error: unknown) => {
      if (id === this.drawId) this.drawError = this.reportError(error, 'draw');
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.renderer?.dispose();
    this.renderer = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // reconnected after a move: the GPU copies were released, draw again
    if (this.hasUpdated) this.requestUpdate();
  }

  private ticks(): { values: string[]; description: string } {
    const scale = this.scaleInUse;
    const [low, high] = this.displayed ? valueRange(this.displayed) : [0, 0];
    if (this.colormapInUse === 'diverging') {
      const lo = `${low < -scale ? '≤ ' : ''}${formatValue(-scale)}`;
      const hi = `${high > scale ? '≥ ' : ''}${formatValue(scale)}`;
      return { values: [lo, '0', hi], description: `blue ${lo}, white 0, red ${hi}` };
    }
    const hi = `${high > scale ? '≥ ' : ''}${formatValue(scale)}`;
    return { values: [low < 0 ? '≤ 0' : '0', formatValue(scale / 2), hi], description: `dark 0, bright ${hi}` };
  }

  private caption(): string {
    const fixed = this.scale !== undefined && this.scale !== null && this.scale > 0 && Number.isFinite(this.scale);
    const source = fixed ? `scale ${formatValue(this.scaleInUse)} (${this.scaleNote ?? 'fixed'})` : `scale: ${this.percentileInUse}th percentile of |value| = ${formatValue(this.scaleInUse)}`;
    const [low, high] = this.displayed ? valueRange(this.displayed) : [0, 0];
    return `${source}; values ${formatValue(low)} … ${formatValue(high)}`;
  }

  protected override render() {
    const a = this.attribution;
    const hasMap = Boolean(this.displayed && a);
    const ticks = hasMap ? this.ticks() : undefined;
    const name = this.label ?? (a ? `${a.method} map` : 'attribution map');
    return html`
      <figure part="base">
        ${this.label ? html`<figcaption part="label">${this.label}</figcaption>` : nothing}
        <canvas
          part="canvas"
          class=${this.smooth ? '' : 'pixelated'}
          role="img"
          aria-label=${a ? `${name}, class ${a.target}${ticks ? `; ${ticks.description}` : ''}` : name}
          ?hidden=${!hasMap}
        ></canvas>
        ${hasMap ? nothing : html`<div part="placeholder">No map yet</div>`}
        <div part="colorbar" ?hidden=${!hasMap}>
          <canvas part="colorbar-canvas" width="256" height="1" role="img" aria-label=${ticks ? `colour scale: ${ticks.description}` : 'colour scale'}></canvas>
          <div part="ticks">${ticks?.values.map((t) => html`<span>${t}</span>`)}</div>
          <p part="caption">${hasMap ? this.caption() : ''}</p>
        </div>
        ${this.drawError ? html`<p part="error" role="alert">${this.drawError}</p>` : nothing}
        ${hasMap && !this.noDownloads
          ? html`<div part="downloads">
              <button part="download-npy" type="button" aria-label="Download the raw values as .npy" @click=${() => this.download('npy').catch((e: unknown) => (this.drawError = errorMessage(e)))}>.npy</button>
              <button part="download-png" type="button" aria-label="Download the picture as PNG" @click=${() => this.download('png').catch((e: unknown) => (this.drawError = errorMessage(e)))}>PNG</button>
            </div>`
          : nothing}
      </figure>
    `;
  }
}
