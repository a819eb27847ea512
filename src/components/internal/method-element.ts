/**
 * The base of the components that run explanation methods (<xai-explainer>, <xai-compare>,
 * <xai-batch>): the methods' settings and the heatmap's display settings, as attributes, the
 * controls of the settings a method's table row names, and the heatmap of a map.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { property } from 'lit/decorators.js';
import { INTEGRATION_RULES, type Attribution, type Explainer, type IntegrationRule, type Target } from '../../index.js';
import { targetConverter } from './converters.js';
import type { ColormapKind, Reduction } from './display.js';
import { XaiEngineElement } from './engine-element.js';
import { BASELINES, REFERENCES, SEGMENT_FILLS, type BaselineName, type ControlName, type MethodSettings, type ReferenceName, type SegmentFill } from './methods.js';
import { spatialLayers } from './sources.js';
import { selectField } from './templates.js';
import '../heatmap/heatmap.js';

/** How each setting's control is drawn: a number field, a choice, or the list of the model's spatial layers. */
type Control =
  | { kind: 'number'; label: string; min: number; max?: number; step: number; /** Empty means the engine's default (shown as `placeholder`, default "auto"). */ optional?: boolean; placeholder?: string }
  | { kind: 'select'; label: string; values: readonly string[] }
  | { kind: 'layer'; label: string };

const CONTROLS: Record<ControlName, Control> = {
  samples: { kind: 'number', label: 'Samples', min: 1, step: 1 },
  noise: { kind: 'number', label: 'Noise (σ / range)', min: 0, max: 1, step: 0.01 },
  steps: { kind: 'number', label: 'Steps', min: 1, step: 1 },
  baseline: { kind: 'select', label: 'Baseline', values: BASELINES },
  rule: { kind: 'select', label: 'Rule', values: INTEGRATION_RULES },
  tolerance: { kind: 'number', label: 'Tolerance (adaptive)', min: 0.0001, max: 0.9999, step: 0.0001, optional: true, placeholder: 'off' },
  window: { kind: 'number', label: 'Window (px)', min: 1, step: 1, optional: true },
  layer: { kind: 'layer', label: 'Layer' },
  segments: { kind: 'number', label: 'Segments', min: 1, step: 1 },
  perturbations: { kind: 'number', label: 'Masked copies', min: 1, step: 1, optional: true },
  segmentFill: { kind: 'select', label: 'Off segments', values: SEGMENT_FILLS },
  masks: { kind: 'number', label: 'Masks', min: 1, step: 1, optional: true },
  references: { kind: 'select', label: 'References', values: REFERENCES },
};

export class XaiMethodElement extends XaiEngineElement {
  /** The class to explain: "top" (the predicted one) or an index. */
  @property({ converter: targetConverter }) target: Target = 'top';
  /** SmoothGrad's noisy copies. */
  @property({ type: Number }) samples = 50;
  /** SmoothGrad's noise, as a fraction of the input range. */
  @property({ type: Number }) noise = 0.15;
  /** Integrated Gradients' path steps. */
  @property({ type: Number }) steps = 64;
  /** Integrated Gradients' baseline: black, white, blur or uniform. */
  @property() baseline: BaselineName = 'black';
  /** Integrated Gradients' quadrature rule. */
  @property() rule: IntegrationRule = 'gauss-legendre';
  /** Integrated Gradients made adaptive: Gauss-Legendre points doubled until the completeness error is under this (e.g. 0.01); `steps` is the first round. Default: off. */
  @property({ type: Number }) tolerance?: number;
  /** Occlusion window in pixels (default: 1/8 of the shorter side). */
  @property({ type: Number }) window?: number;
  /** Grad-CAM's, LayerCAM's and Score-CAM's layer (default: the last spatial layer). */
  @property() layer?: string;
  /** LIME and KernelSHAP: SLIC superpixels asked for. */
  @property({ type: Number }) segments = 50;
  /** LIME's samples or KernelSHAP's coalitions (default: the engine's, 1000 and 2 M + 2048). */
  @property({ type: Number }) perturbations?: number;
  /** LIME and KernelSHAP: what an off segment shows: its mean colour, a blur, or black. */
  @property({ attribute: 'segment-fill' }) segmentFill: SegmentFill = 'mean';
  /** RISE's random masks (default: the engine's, 4000). */
  @property({ type: Number }) masks?: number;
  /** GradientSHAP's and DeepLIFT's references: auto (the engine's default: uniform noise images, and black), black, white or uniform (DeepLIFT over several: DeepSHAP). */
  @property() references: ReferenceName = 'auto';
  /** Passed to the heatmap: channel reduction. */
  @property() reduction: Reduction = 'auto';
  /** Passed to the heatmap: palette. */
  @property() colormap: ColormapKind = 'auto';
  /** Passed to the heatmap: percentile scale. */
  @property({ type: Number }) percentile = 99;
  /** Weight of the map over the picture, 0..1. */
  @property({ type: Number }) opacity = 0.6;

  /** The methods' settings as they stand now. */
  protected settings(): MethodSettings {
    return {
      target: this.target,
      samples: this.samples,
      noise: this.noise,
      steps: this.steps,
      baseline: this.baseline,
      rule: this.rule,
      tolerance: this.tolerance,
      window: this.window,
      layer: this.layer,
      segments: this.segments,
      perturbations: this.perturbations,
      segmentFill: this.segmentFill,
      masks: this.masks,
      references: this.references,
    };
  }

  /** The controls of `names` (each setting once, in the given order), editing this element's properties. */
  protected renderSettingControls(names: readonly ControlName[], explainer: Explainer | undefined): TemplateResult[] {
    const settings = this as unknown as Record<ControlName, unknown>;
    return [...new Set(names)].map((name) => {
      const control = CONTROLS[name];
      if (control.kind === 'select') {
        return selectField({ id: name, label: control.label, values: control.values, selected: String(settings[name]), onChange: (v) => (settings[name] = v) });
      }
      if (control.kind === 'layer') {
        const layers = explainer ? spatialLayers(explainer) : [];
        if (!layers.length) return html``;
        return html`<div class="field">
          <label for=${name}>${control.label}</label>
          <select id=${name} @change=${(e: Event) => (settings[name] = (e.target as HTMLSelectElement).value || undefined)}>
            <option value="" ?selected=${!settings[name]}>last (${layers[layers.length - 1]})</option>
            ${layers.map((l) => html`<option value=${l} ?selected=${l === settings[name]}>${l}</option>`)}
          </select>
        </div>`;
      }
      const value = settings[name] as number | undefined;
      const onChange = (e: Event) => {
        const input = e.target as HTMLInputElement;
        if (control.optional && input.value === '') settings[name] = undefined;
        else if (Number.isFinite(input.valueAsNumber)) settings[name] = input.valueAsNumber;
      };
      return html`<div class="field"><label for=${name}>${control.label}</label><input id=${name} type="number" min=${control.min} max=${control.max ?? nothing} step=${control.step}
        placeholder=${control.optional ? (control.placeholder ?? 'auto') : nothing} .value=${value === undefined ? '' : String(value)} @change=${onChange} /></div>`;
    });
  }

  /** The model input of the current picture (needed by reduction="gradient-x-input"), once both are loaded. */
  protected modelInputData(): Float32Array | undefined {
    const explainer = this.activeExplainer;
    return explainer && this.pixels ? this.inputOf(explainer, this.pixels).data : undefined;
  }

  /** The Class select: "top" first (its text `top`), then one option per class name (its text `text`). */
  protected renderTargetField(names: readonly string[], options: { disabled: boolean; top: string; text: (name: string, index: number) => string }): TemplateResult {
    return html`<div class="field">
      <label for="target">Class</label>
      <select id="target" ?disabled=${options.disabled} @change=${(e: Event) => {
        const v = (e.target as HTMLSelectElement).value;
        this.target = v === 'top' ? 'top' : Number(v);
      }}>
        <option value="top" ?selected=${this.target === 'top'}>${options.top}</option>
        ${names.map((name, i) => html`<option value=${i} ?selected=${this.target === i}>${options.text(name, i)}</option>`)}
      </select>
    </div>`;
  }

  /**
   * Resolves once this element has rendered `attribution` and its <xai-heatmap> has drawn it, so
   * that xai-explained's listeners find the map on screen (a drawing failure is reported by the
   * heatmap as xai-error; it does not hold the event back).
   */
  protected async painted(attribution: Attribution): Promise<void> {
    await this.updateComplete;
    const heatmaps = Array.from(this.renderRoot.querySelectorAll('xai-heatmap'));
    await heatmaps.find((h) => h.attribution === attribution)?.drawComplete.catch(() => {});
  }

  /** An <xai-heatmap> (part "heatmap", its parts exported as heatmap-*) of `attribution` over the picture, with the display settings. */
  protected renderHeatmap(attribution: Attribution | undefined, shown: { scale: number | undefined; scaleNote?: string; label: string | undefined }): TemplateResult {
    return html`<xai-heatmap
      part="heatmap"
      exportparts="canvas: heatmap-canvas, colorbar: heatmap-colorbar, ticks: heatmap-ticks, caption: heatmap-caption, downloads: heatmap-downloads, placeholder: heatmap-placeholder"
      .attribution=${attribution}
      .image=${this.pixels}
      .device=${this.activeExplainer?.runtime.device}
      .input=${attribution ? this.modelInputData() : undefined}
      .reduction=${this.reduction}
      .colormap=${this.colormap}
      .percentile=${this.percentile}
      .scale=${shown.scale}
      .scaleNote=${shown.scaleNote}
      .opacity=${this.opacity}
      .label=${shown.label}
    ></xai-heatmap>`;
  }
}
