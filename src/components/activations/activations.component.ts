import { html, nothing, type PropertyValues } from 'lit';
import { property, queryAll } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import type { Explainer, RgbaImage } from '../../index.js';
import { formatDuration, formatValue, hasNegative, percentileScale } from '../internal/display.js';
import { XaiEngineElement } from '../internal/engine-element.js';
import { drawFeatureMap, paletteGradient } from '../internal/pictures.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { spatialLayers } from '../internal/sources.js';
import { selectField } from '../internal/templates.js';
import type { LayerMaps } from '../internal/types.js';
import { errorMessage } from '../internal/xai-element.js';
import styles from './activations.styles.js';

interface Maps {
  result: LayerMaps;
  scale: number;
  signed: boolean;
}

/**
 * @summary A layer's feature maps for the current picture (Explainer.activations): one small
 * canvas per channel, all on one scale (the percentile of |value| over the layer).
 *
 * @csspart base - The wrapper.
 * @csspart controls - The layer select.
 * @csspart legend - The palette and its values.
 * @csspart grid - The maps.
 * @csspart map - One channel's map and its index.
 * @csspart error - A load or run error (role="alert").
 *
 * @cssproperty --xai-thumb-size - Smallest width of a map (default 72px).
 *
 * @event xai-model-ready - The Explainer is ready.
 * @event xai-activations - The maps were computed (detail: { result: { layer, values, shape, milliseconds } }).
 * @event xai-error - Loading or the forward pass failed.
 */
export class XaiActivations extends XaiEngineElement {
  static override styles = [sharedStyles, styles];

  /** The layer (a node with an [N, h, w, K] output); default: the last such layer. */
  @property() layer?: string;
  /** Percentile of |value| over the layer that reaches the end of the palette. */
  @property({ type: Number }) percentile = 99;

  @queryAll('canvas[data-channel]') private canvases!: NodeListOf<HTMLCanvasElement>;

  private readonly mapsTask = new Task(this, {
    task: async ([explainer, pixels, layer, percentile]: readonly [Explainer | undefined, RgbaImage | undefined, string | undefined, number]): Promise<Maps | undefined> => {
      if (!explainer || !pixels) return undefined;
      const name = layer ?? spatialLayers(explainer).at(-1);
      if (!name) throw new Error(`${explainer.model.spec.source} has no layer with an [N, h, w, K] output`);
      const result = await explainer.activations(this.inputOf(explainer, pixels), { layer: name });
      if (result.shape.length !== 3) throw new Error(`Layer '${name}' has output [${result.shape.join(', ')}]: feature maps need an [h, w, K] layer`);
      return { result, scale: percentileScale(result.values, percentile), signed: hasNegative(result.values) };
    },
    args: () => [this.activeExplainer, this.pixels, this.layer, this.percentile] as const,
    onComplete: (maps) => {
      if (maps) this.emit('xai-activations', { result: maps.result });
    },
    onError: (error) => this.reportError(error, 'run'),
  });

  /** The last computed activations. */
  get activations(): LayerMaps | undefined {
    return this.mapsTask.status === TaskStatus.COMPLETE ? this.mapsTask.value?.result : undefined;
  }

  /** Resolves with the activations for the current model, picture and layer. */
  async whenComputed(): Promise<LayerMaps | undefined> {
    await this.updateComplete;
    await this.sources(true);
    await this.updateComplete;
    return (await this.mapsTask.taskComplete)?.result;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const maps = this.mapsTask.status === TaskStatus.COMPLETE ? this.mapsTask.value : undefined;
    if (maps && maps !== this.drawn) {
      for (const canvas of this.canvases) drawFeatureMap(canvas, maps.result.values, maps.result.shape, Number(canvas.dataset.channel), maps.scale, maps.signed);
      this.drawn = maps;
    }
  }

  private drawn?: Maps;

  protected override render() {
    const explainer = this.activeExplainer;
    const layers = explainer ? spatialLayers(explainer) : [];
    const layer = this.layer ?? layers.at(-1);
    const maps = this.mapsTask.status === TaskStatus.COMPLETE ? this.mapsTask.value : undefined;
    const shape = maps?.result.shape;
    return html`
      <div part="base" style=${shape ? `--xai-aspect: ${shape[1]} / ${shape[0]}` : ''}>
        <div part="controls" class="controls">
          ${selectField({
            id: 'layer',
            label: 'Layer',
            values: layers,
            selected: layer,
            text: (l) => `${l} [${explainer!.model.shapes(1).get(l)!.slice(1).join(' × ')}]`,
            disabled: !explainer,
            onChange: (l) => (this.layer = l),
          })}
        </div>
        ${this.renderSourceState(true)}
        ${this.mapsTask.status === TaskStatus.ERROR ? html`<p part="error" role="alert">${errorMessage(this.mapsTask.error)}</p>` : nothing}
        ${this.mapsTask.status === TaskStatus.PENDING ? html`<p part="loading" role="status">Computing…</p>` : nothing}
        ${maps
          ? html`<div part="legend">
              <span>${maps.signed ? formatValue(-maps.scale) : '0'}</span>
              <span class="bar" role="img" aria-label=${maps.signed ? 'blue negative, white zero, red positive' : 'dark zero, bright large'} style=${`background: ${paletteGradient(maps.signed)}`}></span>
              <span>${formatValue(maps.scale)}</span>
              <span>(${this.percentile}th percentile of |value| over <code>${maps.result.layer}</code>; ${shape![2]} channels in ${formatDuration(maps.result.milliseconds)})</span>
            </div>
            <div part="grid" role="list" aria-label=${`Feature maps of ${maps.result.layer}`}>
              ${Array.from({ length: shape![2] }, (_, c) => html`<figure part="map" role="listitem">
                <canvas data-channel=${c} role="img" aria-label=${`channel ${c}`}></canvas>
                <figcaption>#${c}</figcaption>
              </figure>`)}
            </div>`
          : nothing}
      </div>
    `;
  }
}
