import { html, nothing, type PropertyValues } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, type Attribution, type Explainer, type Progress, type RgbaImage } from '../../index.js';
import { formatDuration, formatNumbers, formatPercent, formatValue, remainingTime } from '../internal/display.js';
import { XaiMethodElement } from '../internal/method-element.js';
import { METHODS, isMethod, methodNumbers, methodRow, methodTitle, runMethod, type MethodName, type MethodSettings } from '../internal/methods.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { classNames } from '../internal/sources.js';
import { progressRow, selectField, submitTo } from '../internal/templates.js';
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

  /** A method of the components' method table: saliency, smoothgrad, integrated-gradients, gradcam, occlusion, ... */
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
        this.cancelledMessage = `Cancelled: no map for ${methodTitle(this.runMethodName)}.`;
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
    const key = [explainer, pixels, this.method, ...Object.values(s)];
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
    const controls = isMethod(method) ? methodRow(method).controls : [];
    return html`
      <form part="controls" class="controls" @submit=${submitTo(() => this.run())} aria-label="Explanation settings">
        ${selectField({ id: 'method', label: 'Method', values: METHODS, selected: method, text: methodTitle, onChange: (m) => (this.method = m) })}
        ${this.renderTargetField(names, { disabled: !prediction, top: `Predicted${top >= 0 ? ` (${names[top]})` : ''}`, text: (name, i) => `${name} — ${valueText(i)}` })}
        ${this.renderSettingControls(controls, explainer)}
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
    const unit = methodRow(this.runMethodName).unit;
    const text = p
      ? `${p.done} of ${p.total} ${unit} · ${formatDuration(p.elapsed)} elapsed${p.remaining !== undefined ? ` · about ${formatDuration(p.remaining)} left` : ''}`
      : `Running ${methodTitle(this.runMethodName)}…`;
    return progressRow({ label: 'Explanation progress', max: p?.total, value: p?.done, text, cancel: 'Cancel', onCancel: () => this.cancel() });
  }

  protected override render() {
    const explainer = this.activeExplainer;
    const prediction = this.predictionTask.status === TaskStatus.COMPLETE ? this.predictionTask.value : undefined;
    const a = this.result;
    const numbersText = a ? formatNumbers(methodNumbers(this.runMethodName, a)) : '';
    const names = explainer && prediction ? classNames(explainer, this.labels, prediction.values.length) : [];
    const predictionError = this.predictionTask.status === TaskStatus.ERROR ? errorMessage(this.predictionTask.error) : undefined;
    return html`
      <div part="base">
        ${this.renderControls(explainer, prediction)} ${this.renderSourceState(true)}
        ${predictionError ? html`<p part="error" role="alert">Could not run the model on the image: ${predictionError}</p>` : nothing}
        ${this.renderProgress()}
        ${this.cancelledMessage && !this.running ? html`<p part="status" role="status">${this.cancelledMessage}</p>` : nothing}
        ${this.runError ? html`<p part="error" role="alert">${this.runError}</p>` : nothing}
        ${this.renderHeatmap(a, { scale: this.scale, label: a ? `${methodTitle(this.runMethodName)} · ${names[a.target] ?? `class ${a.target}`}` : undefined })}
        ${a
          ? html`<p part="summary">
              ${methodTitle(this.runMethodName)} of <strong>${names[a.target] ?? `class ${a.target}`}</strong> in ${formatDuration(a.milliseconds)}${numbersText ? ` · ${numbersText}` : nothing}
            </p>`
          : nothing}
      </div>
    `;
  }
}
