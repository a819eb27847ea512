import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, INTEGRATION_RULES, type Attribution, type Explainer, type Progress, type RgbaImage } from '../../index.js';
import { formatDuration, formatPercent, formatValue, remainingTime } from '../internal/display.js';
import { XaiMethodElement } from '../internal/method-element.js';
import { BASELINES, PROGRESS_UNITS, isMethod, runMethod, type MethodSettings } from '../internal/methods.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { classNames, spatialLayers } from '../internal/sources.js';
import { progressRow, selectField, submitTo } from '../internal/templates.js';
import { METHODS, METHOD_TITLES, type MethodName } from '../internal/types.js';
import { errorMessage } from '../internal/xai-element.js';
import styles from './explainer.styles.js';

interface Prediction {
  /** Per class: probabilities when the model ends in softmax or sigmoid, else its raw outputs. */
  values: Float32Array;
  probabilities: boolean;
}

interface ExplainRequest {
  explainer: Explainer;
  pixels: RgbaImage;
  method: MethodName;
  settings: MethodSettings;
}

/**
 * @summary A model, a picture and the controls of one explanation method; runs the engine and
 * shows the map (an <xai-heatmap>). Long runs show progress, time left and a Cancel button.
 *
 * @csspart base - The wrapper.
 * @csspart controls - The form with the method controls.
 * @csspart run-button - Starts an explanation.
 * @csspart predictions - The predicted class and its probability.
 * @csspart progress - Progress bar, time left and the cancel button.
 * @csspart progress-bar - The <progress> element.
 * @csspart progress-text - Done / total and the time left.
 * @csspart cancel-button - Cancels the running explanation.
 * @csspart status - The cancelled message.
 * @csspart error - A load or run error (role="alert").
 * @csspart loading - The model-loading message.
 * @csspart hint - What is missing.
 * @csspart heatmap - The <xai-heatmap>.
 * @csspart heatmap-canvas, heatmap-colorbar, heatmap-ticks, heatmap-caption, heatmap-downloads, heatmap-placeholder - Its parts.
 * @csspart summary - Method, class and time of the map shown.
 *
 * @event xai-model-ready - The Explainer is ready (detail: { explainer }).
 * @event xai-explained - A map was computed and painted (detail: { method, target, milliseconds, attribution }).
 * @event xai-progress - A long run progressed (detail: { method, done, total, elapsed, remaining }).
 * @event xai-cancelled - A run was cancelled (detail: { method }).
 * @event xai-error - Loading or running failed (detail: { error, phase, message }).
 */
export class XaiExplainer extends XaiMethodElement {
  static override styles = [sharedStyles, styles];

  /** saliency, smoothgrad, integrated-gradients, gradcam or occlusion. */
  @property() method: MethodName = 'saliency';
  /** Passed to the heatmap: an absolute scale. */
  @property({ type: Number }) scale?: number;
  /** Explain as soon as the model and picture are ready, and again when a setting changes. */
  @property({ type: Boolean, attribute: 'auto-run' }) autoRun = false;

  @state() private result?: Attribution;
  @state() private progress?: Progress & { remaining: number | undefined };
  @state() private runError?: string;
  @state() private cancelledMessage?: string;
  private lastAutoRun?: unknown[];
  private runMethodName: MethodName = 'saliency';

  private readonly predictionTask = new Task(this, {
    task: async ([explainer, pixels]: readonly [Explainer | undefined, RgbaImage | undefined]): Promise<Prediction | undefined> => {
      if (!explainer || !pixels) return undefined;
      const { model } = explainer;
      const output = await explainer.activations(this.inputOf(explainer, pixels), { layer: model.outputName });
      return { values: output.values, probabilities: model.outputName !== model.logitsName };
    },
    args: () => [this.activeExplainer, this.pixels] as const,
    onError: (error) => this.reportError(error, 'run'),
  });

  private readonly explainTask = new Task(this, {
    autoRun: false,
    task: async ([request]: readonly [ExplainRequest], { signal }) => this.explain(request, signal),
    onError: (error) => {
      this.progress = undefined;
      if (error instanceof AbortedError) {
        this.cancelledMessage = `Cancelled: no map for ${METHOD_TITLES[this.runMethodName]}.`;
        this.emit('xai-cancelled', { method: this.runMethodName });
      } else {
        this.runError = this.reportError(error, 'run');
      }
    },
  });

  /** The last computed attribution (undefined while a run is in progress, after a cancel, or an error). */
  get attribution(): Attribution | undefined {
    return this.result;
  }

  /** Whether an explanation is running. */
  get running(): boolean {
    return this.explainTask.status === TaskStatus.PENDING;
  }

  /** Computes the map for the current settings; rejects with AbortedError when cancelled. */
  async run(): Promise<Attribution> {
    const { explainer, pixels } = await this.sources(true);
    const method = this.method;
    if (!isMethod(method)) throw new Error(`Unknown method '${String(method)}' (use ${METHODS.join(', ')})`);
    await this.explainTask.run([{ explainer, pixels: pixels!, method, settings: this.settings() }]);
    return this.explainTask.taskComplete;
  }

  /** Stops the running explanation: run() rejects with AbortedError and no map is shown. */
  cancel(): void {
    this.explainTask.abort('cancelled by the user');
  }

  private async explain({ explainer, pixels, method, settings }: ExplainRequest, signal: AbortSignal): Promise<Attribution> {
    this.runMethodName = method;
    this.result = undefined;
    this.runError = undefined;
    this.cancelledMessage = undefined;
    this.progress = undefined;
    const input = this.inputOf(explainer, pixels);
    const attribution = await runMethod(explainer, method, input, settings, {
      signal,
      onProgress: (p) => {
        if (signal.aborted) return;
        const remaining = remainingTime(p);
        this.progress = { ...p, remaining };
        this.emit('xai-progress', { ...p, method, remaining });
      },
    });
    // methods with a single submission take no signal: a cancel during them still discards the result
    if (signal.aborted) throw new AbortedError(`Explanation cancelled: ${String(signal.reason ?? 'aborted')}`);
    this.progress = undefined;
    this.result = attribution;
    await this.painted(attribution);
    this.emit('xai-explained', { method: attribution.method, target: attribution.target, milliseconds: attribution.milliseconds, attribution });
    return attribution;
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    if (!this.autoRun) return;
    const explainer = this.activeExplainer;
    const pixels = this.pixels;
    if (!explainer || !pixels) return;
    const s = this.settings();
    const key = [explainer, pixels, this.method, s.target, s.samples, s.noise, s.steps, s.baseline, s.rule, s.window, s.layer];
    if (this.lastAutoRun && key.every((v, i) => v === this.lastAutoRun![i])) return;
    this.lastAutoRun = key;
    this.run().catch(() => {}); // shown inside and reported as xai-error / xai-cancelled
  }

  private renderControls(explainer: Explainer | undefined, prediction: Prediction | undefined) {
    const classes = prediction ? prediction.values.length : 0;
    const names = explainer ? classNames(explainer, this.labels, classes) : [];
    const top = prediction ? prediction.values.reduce((best, v, i, all) => (v > all[best] ? i : best), 0) : -1;
    const valueText = (i: number) => (prediction ? (prediction.probabilities ? formatPercent(prediction.values[i]) : formatValue(prediction.values[i])) : '');
    const method = this.method;
    const layers = explainer && method === 'gradcam' ? spatialLayers(explainer) : [];
    const onNumber = (key: 'samples' | 'noise' | 'steps' | 'window') => (e: Event) => {
      const value = (e.target as HTMLInputElement).valueAsNumber;
      if (Number.isFinite(value)) this[key] = value;
    };
    return html`
      <form part="controls" class="controls" @submit=${submitTo(() => this.run())} aria-label="Explanation settings">
        ${selectField({ id: 'method', label: 'Method', values: METHODS, selected: method, text: (m) => METHOD_TITLES[m], onChange: (m) => (this.method = m) })}
        ${this.renderTargetField(names, { disabled: !prediction, top: `Predicted${top >= 0 ? ` (${names[top]})` : ''}`, text: (name, i) => `${name} — ${valueText(i)}` })}
        ${method === 'smoothgrad'
          ? html`
              <div class="field"><label for="samples">Samples</label><input id="samples" type="number" min="1" step="1" .value=${String(this.samples)} @change=${onNumber('samples')} /></div>
              <div class="field"><label for="noise">Noise (σ / range)</label><input id="noise" type="number" min="0" max="1" step="0.01" .value=${String(this.noise)} @change=${onNumber('noise')} /></div>
            `
          : nothing}
        ${method === 'integrated-gradients'
          ? html`
              <div class="field"><label for="steps">Steps</label><input id="steps" type="number" min="1" step="1" .value=${String(this.steps)} @change=${onNumber('steps')} /></div>
              ${selectField({ id: 'baseline', label: 'Baseline', values: BASELINES, selected: this.baseline, onChange: (b) => (this.baseline = b) })}
              ${selectField({ id: 'rule', label: 'Rule', values: INTEGRATION_RULES, selected: this.rule, onChange: (r) => (this.rule = r) })}
            `
          : nothing}
        ${method === 'occlusion'
          ? html`<div class="field"><label for="window">Window (px)</label><input id="window" type="number" min="1" step="1" placeholder="auto" .value=${this.window ? String(this.window) : ''} @change=${onNumber('window')} /></div>`
          : nothing}
        ${method === 'gradcam' && layers.length
          ? html`<div class="field">
              <label for="layer">Layer</label>
              <select id="layer" @change=${(e: Event) => (this.layer = (e.target as HTMLSelectElement).value || undefined)}>
                <option value="" ?selected=${!this.layer}>last (${layers[layers.length - 1]})</option>
                ${layers.map((l) => html`<option value=${l} ?selected=${l === this.layer}>${l}</option>`)}
              </select>
            </div>`
          : nothing}
        <div class="field">
          <label for="opacity">Opacity</label>
          <input id="opacity" type="range" min="0" max="1" step="0.05" .value=${String(this.opacity)} @input=${(e: Event) => (this.opacity = (e.target as HTMLInputElement).valueAsNumber)} />
        </div>
        <button part="run-button" class="primary" type="submit" ?disabled=${!explainer || !this.pixels || this.running}>Explain</button>
      </form>
      ${prediction && top >= 0
        ? html`<p part="predictions">Predicted: <strong>${names[top]}</strong> (${prediction.probabilities ? `p = ${formatPercent(prediction.values[top])}` : `score ${formatValue(prediction.values[top])}`})</p>`
        : nothing}
    `;
  }

  private renderProgress() {
    if (!this.running) return nothing;
    const p = this.progress;
    const unit = PROGRESS_UNITS[this.runMethodName];
    const text = p
      ? `${p.done} of ${p.total} ${unit} · ${formatDuration(p.elapsed)} elapsed${p.remaining !== undefined ? ` · about ${formatDuration(p.remaining)} left` : ''}`
      : `Running ${METHOD_TITLES[this.runMethodName]}…`;
    return progressRow({ label: 'Explanation progress', max: p?.total, value: p?.done, text, cancel: 'Cancel', onCancel: () => this.cancel() });
  }

  protected override render() {
    const explainer = this.activeExplainer;
    const prediction = this.predictionTask.status === TaskStatus.COMPLETE ? this.predictionTask.value : undefined;
    const a = this.result;
    const names = explainer && prediction ? classNames(explainer, this.labels, prediction.values.length) : [];
    const predictionError = this.predictionTask.status === TaskStatus.ERROR ? errorMessage(this.predictionTask.error) : undefined;
    return html`
      <div part="base">
        ${this.renderControls(explainer, prediction)} ${this.renderSourceState(true)}
        ${predictionError ? html`<p part="error" role="alert">Could not run the model on the image: ${predictionError}</p>` : nothing}
        ${this.renderProgress()}
        ${this.cancelledMessage && !this.running ? html`<p part="status" role="status">${this.cancelledMessage}</p>` : nothing}
        ${this.runError ? html`<p part="error" role="alert">${this.runError}</p>` : nothing}
        ${this.renderHeatmap(a, { scale: this.scale, label: a ? `${METHOD_TITLES[this.runMethodName]} · ${names[a.target] ?? `class ${a.target}`}` : undefined })}
        ${a
          ? html`<p part="summary">
              ${METHOD_TITLES[this.runMethodName]} of <strong>${names[a.target] ?? `class ${a.target}`}</strong> in ${formatDuration(a.milliseconds)}${a.completenessError !== undefined
                ? html` · completeness error ${formatPercent(a.completenessError)}`
                : nothing}
            </p>`
          : nothing}
      </div>
    `;
  }
}
