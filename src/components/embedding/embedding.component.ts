import { html, nothing, type PropertyValues } from 'lit';
import { property, query, state } from 'lit/decorators.js';
import type { LayerEmbedding, RgbaImage } from '../../index.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { pixelsOf } from '../internal/sources.js';
import type { ImageSource } from '../internal/types.js';
import { XaiElement } from '../internal/xai-element.js';
import styles from './embedding.styles.js';

/** Points to draw: a LayerEmbedding, or any [count, 2] layout (extra dimensions are ignored). */
export type EmbeddingPoints = Pick<LayerEmbedding, 'points' | 'count' | 'dimensions'> & Partial<Pick<LayerEmbedding, 'layer' | 'method'>>;

/** Tableau 10: distinct categorical colours that stay apart for common colour-vision deficiencies. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
/** Canvas pixels per side (the canvas is scaled to --xai-embedding-size). */
const RESOLUTION = 480;
const RADIUS = 4;
const MARGIN = 12;
/** How near (in canvas pixels) the pointer must be to a point to pick it. */
const PICK_DISTANCE = 10;

/**
 * @summary A 2-D scatter of a layer embedding (Explainer.layerEmbedding: PCA or t-SNE), one dot
 * per image coloured by its class or a user's labels; hovering a dot shows the image's thumbnail
 * and label. Drawn on a 2D canvas (a few thousand dots need no GPU).
 *
 * @csspart base - The figure.
 * @csspart label - The title above the scatter.
 * @csspart canvas - The scatter.
 * @csspart tooltip - The hovered point's thumbnail and label.
 * @csspart thumbnail - The hovered image.
 * @csspart legend - One entry per label with its colour.
 * @csspart caption - Layer, method and number of points.
 *
 * @cssproperty --xai-embedding-size - Displayed width of the scatter (default 320px).
 * @cssproperty --xai-thumb-size - Width of the tooltip's thumbnail (default 64px).
 */
export class XaiEmbedding extends XaiElement {
  static override styles = [sharedStyles, styles];

  /** The layout to draw. */
  @property({ attribute: false }) embedding?: EmbeddingPoints;

  /** Class index (or user label index) of each point; colours and legend. None: one colour. */
  @property({ attribute: false }) labels?: ArrayLike<number>;

  /** Names of the label indices, e.g. the model's labels (default "class i"). */
  @property({ attribute: false }) labelNames?: readonly string[];

  /** Each point's picture, shown in the tooltip. */
  @property({ attribute: false }) thumbnails?: readonly ImageSource[];

  /** A title shown above the scatter (also its accessible name). */
  @property() label?: string;

  /** The hovered point's index, or undefined. */
  @state() hovered?: number;

  @query('canvas[part~="canvas"]') private canvas!: HTMLCanvasElement;
  @query('canvas[part~="thumbnail"]') private thumbnailCanvas?: HTMLCanvasElement;

  /** Each point's position in canvas pixels, [count, 2]. */
  private positions = new Float32Array(0);

  /** Where point `index` is drawn, in client (viewport) coordinates. */
  pointPosition(index: number): { x: number; y: number } {
    const rect = this.canvas.getBoundingClientRect();
    const scale = rect.width / RESOLUTION;
    return { x: rect.left + this.positions[index * 2] * scale, y: rect.top + this.positions[index * 2 + 1] * scale };
  }

  private nameOf(label: number): string {
    return this.labelNames?.[label] ?? `class ${label}`;
  }

  private colorOf(index: number): string {
    const label = this.labels?.[index] ?? 0;
    return PALETTE[((label % PALETTE.length) + PALETTE.length) % PALETTE.length];
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('embedding')) return;
    const e = this.embedding;
    this.hovered = undefined;
    if (!e) {
      this.positions = new Float32Array(0);
      return;
    }
    // fit the first two coordinates into the canvas, same scale on both axes (distances mean something)
    const dims = e.dimensions;
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
    for (let i = 0; i < e.count; i++) {
      const x = e.points[i * dims];
      const y = dims > 1 ? e.points[i * dims + 1] : 0;
      [minX, maxX, minY, maxY] = [Math.min(minX, x), Math.max(maxX, x), Math.min(minY, y), Math.max(maxY, y)];
    }
    const span = Math.max(maxX - minX, maxY - minY) || 1;
    const scale = (RESOLUTION - 2 * MARGIN) / span;
    const [centerX, centerY] = [(minX + maxX) / 2, (minY + maxY) / 2];
    this.positions = new Float32Array(e.count * 2);
    for (let i = 0; i < e.count; i++) {
      this.positions[i * 2] = RESOLUTION / 2 + (e.points[i * dims] - centerX) * scale;
      // y up, as in a plot
      this.positions[i * 2 + 1] = RESOLUTION / 2 - ((dims > 1 ? e.points[i * dims + 1] : 0) - centerY) * scale;
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('embedding') || changed.has('labels')) this.drawPoints();
    if (this.hovered !== undefined && this.thumbnailCanvas) this.drawThumbnail(this.hovered, this.thumbnailCanvas);
  }

  private drawPoints(): void {
    const canvas = this.canvas;
    canvas.width = RESOLUTION;
    canvas.height = RESOLUTION;
    const context = canvas.getContext('2d')!;
    context.clearRect(0, 0, RESOLUTION, RESOLUTION);
    const count = this.positions.length / 2;
    for (let i = 0; i < count; i++) {
      context.beginPath();
      context.arc(this.positions[i * 2], this.positions[i * 2 + 1], RADIUS, 0, 2 * Math.PI);
      context.fillStyle = this.colorOf(i);
      context.globalAlpha = 0.85;
      context.fill();
    }
    context.globalAlpha = 1;
  }

  private drawThumbnail(index: number, target: HTMLCanvasElement): void {
    const source = this.thumbnails?.[index];
    if (!source) return;
    const pixels: RgbaImage = pixelsOf(source);
    target.width = pixels.width;
    target.height = pixels.height;
    target.getContext('2d')!.putImageData(new ImageData(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height), 0, 0);
  }

  private onPointerMove(event: PointerEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const scale = RESOLUTION / rect.width;
    const x = (event.clientX - rect.left) * scale;
    const y = (event.clientY - rect.top) * scale;
    let best: number | undefined;
    let bestDistance = PICK_DISTANCE ** 2;
    for (let i = 0; i < this.positions.length / 2; i++) {
      const d = (this.positions[i * 2] - x) ** 2 + (this.positions[i * 2 + 1] - y) ** 2;
      if (d <= bestDistance) [best, bestDistance] = [i, d];
    }
    this.hovered = best;
  }

  private tooltip() {
    const index = this.hovered;
    if (index === undefined) return nothing;
    const rect = this.canvas.getBoundingClientRect();
    const scale = rect.width / RESOLUTION;
    const label = this.labels?.[index];
    return html`<div part="tooltip" role="tooltip" style="left: ${this.positions[index * 2] * scale}px; top: ${this.positions[index * 2 + 1] * scale + this.canvas.offsetTop}px">
      ${this.thumbnails?.[index] ? html`<canvas part="thumbnail"></canvas>` : nothing}
      <div>#${index}${label === undefined ? '' : `: ${this.nameOf(label)}`}</div>
    </div>`;
  }

  private legend() {
    if (!this.labels || !this.embedding) return nothing;
    const present = [...new Set(Array.from(this.labels))].sort((a, b) => a - b);
    return html`<div part="legend">${present.map((l) => html`<span><i style="background: ${PALETTE[l % PALETTE.length]}"></i>${this.nameOf(l)}</span>`)}</div>`;
  }

  protected override render() {
    const e = this.embedding;
    const name = this.label ?? (e ? `${e.method ?? 'embedding'} of ${e.layer ?? 'a layer'}, ${e.count} points` : 'embedding');
    return html`
      <figure part="base">
        ${this.label ? html`<figcaption part="label">${this.label}</figcaption>` : nothing}
        <canvas part="canvas" role="img" aria-label=${name} @pointermove=${this.onPointerMove} @pointerleave=${() => (this.hovered = undefined)}></canvas>
        ${this.tooltip()}
        ${this.legend()}
        ${e ? html`<div part="caption">${e.method ?? 'layout'}${e.layer ? ` of ${e.layer}` : ''}: ${e.count} points</div>` : nothing}
      </figure>
    `;
  }
}
