import { html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, type Attribution, type Explainer, type RgbaImage } from '../../index.js';
import { displayMap, formatDuration, formatNumbers, remainingTime, sharedScale } from '../internal/display.js';
import { methodsConverter } from '../internal/converters.js';
import { XaiMethodElement } from '../internal/method-element.js';
import { COMPARED_BY_DEFAULT, METHODS, isMethod, methodNumbers, methodRow, methodTitle, runMethod, type MethodName, type MethodSettings } from '../internal/methods.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { classNames } from '../internal/sources.js';
import { progressRow, selectField, submitTo } from '../internal/templates.js';
import { errorMessage } from '../internal/xai-element.js';
import styles from './compare.styles.js';

const numbers = (method: MethodName, a: Attribution) => formatNumbers(methodNumbers(method, a));

/** One method's state in a comparison. */
export interface CompareEntry {
  method: MethodName;
  status: 'waiting' | 'running' | 'done' | 'cancelled' | 'error';
  attribution?: Attribution;
  error?: string;
}

interface CompareRequest {
  explainer: Explainer;
  pixels: RgbaImage;
  methods: MethodName[];
  settings: MethodSettings;
}

/**
 * @summary One picture under several explanation methods side by side, on one shared scale
 * (the percentile of |value| over all the maps together), each with the time it took.
 *
 * @csspart base - The wrapper.
 * @csspart controls - The methods to compare, class, the chosen methods' settings, scale mode and the Compare button.
 * @csspart methods - The checkboxes that choose the methods (one per method of the table).
 * @csspart run-button - Starts the comparison.
 * @csspart progress - Progress, time left and the cancel button.
 * @csspart progress-bar - The <progress> element.
 * @csspart progress-text - Which method runs, and the time left.
 * @csspart cancel-button - Cancels the comparison.
 * @csspart grid - The cards.
 * @csspart card - One method: its heatmap and time.
 * @csspart heatmap - Each <xai-heatmap>.
 * @csspart time - A method's time and the class it explained, or its state.
 * @csspart numbers - The numbers a map carries (e.g. IG's completeness error, LIME's R², KernelSHAP's additivity error).
 * @csspart heatmap-canvas, heatmap-colorbar, heatmap-ticks, heatmap-caption, heatmap-downloads, heatmap-placeholder - The heatmaps' parts.
 * @csspart error - A load or run error (role="alert").
 *
 * @cssproperty --xai-compare-size - Displayed width of each map (default 180px).
 *
 * @event xai-model-ready - The Explainer is ready.
 * @event xai-explained - One method's map is done and painted (detail: { method, target, milliseconds, attribution }).
 * @event xai-compared - Every method is done (detail: { results, scale }).
 * @event xai-progress - Progress of the running method (detail: { method, done, total, elapsed, remaining }).
 * @event xai-cancelled - The comparison was cancelled (detail: { method }: the one that was running).
 * @event xai-error - Loading or a method failed (detail: { error, phase, message }).
 */
export class XaiCompare extends XaiMethodElement {
  static override styles = [sharedStyles, styles];

  /**
   * The methods to compare, in order (attribute: space- or comma-separated; any method of the
   * table, see METHODS). Default: the gradient methods, Grad-CAM and occlusion, which together
   * take seconds; the perturbation methods (RISE, LIME, KernelSHAP, Score-CAM) are chosen on demand.
   */
  @property({ converter: methodsConverter }) methods: MethodName[] = [...COMPARED_BY_DEFAULT];
  /** shared: one scale for every map (the percentile of |value| over all of them); per-map: each its own. */
  @property({ attribute: 'scale-mode' }) scaleMode: 'shared' | 'per-map' = 'shared';
  // fewer than the engine's defaults (and <xai-explainer>'s): a comparison runs every method
  override samples = 32;
  override steps = 32;

  @state() private entries: CompareEntry[] = [];
  @state() private progressText?: string;
  @state() private progressValue?: number;
  @state() private runError?: string;
  private runningMethod: MethodName = 'saliency';
  private scaleCache?: { key: unknown[]; scale: number };

  private readonly compareTask = new Task(this, {
    autoRun: false,
    task: async ([request]: readonly [CompareRequest], { signal }) => this.compare(request, signal),
    onError: (error) => {
      this.progressText = undefined;
      if (error instanceof AbortedError) this.emit('xai-cancelled', { method: this.runningMethod });
      else this.runError = this.reportError(error, 'run');
    },
  });

  /** Each method's state and result, in order. */
  get results(): readonly CompareEntry[] {
    return this.entries;
  }

  /** The scale the maps share (undefined with scale-mode="per-map" or before any map). */
  get sharedScale(): number | undefined {
    if (this.scaleMode !== 'shared') return undefined;
    const attributions = this.entries.flatMap((e) => (e.attribution ? [e.attribution] : []));
    if (!attributions.length) return undefined;
    const key = [this.reduction, this.percentile, ...attributions];
    const cached = this.scaleCache;
    if (cached && cached.key.length === key.length && cached.key.every((k, i) => k === key[i])) return cached.scale;
    const scale = sharedScale(attributions.map((a) => displayMap(a, this.reduction, this.modelInputData())), this.percentile);
    this.scaleCache = { key, scale };
    return scale;
  }

  get running(): boolean {
    return this.compareTask.status === TaskStatus.PENDING;
  }

  /** Runs every method in turn; rejects with AbortedError when cancelled (finished maps stay). */
  async run(): Promise<Attribution[]> {
    const { explainer, pixels } = await this.sources(true);
    const methods = this.methods.filter(isMethod);
    if (!methods.length) throw new Error(`No known method in methods="${this.methods.join(' ')}" (use ${METHODS.join(', ')})`);
    await this.compareTask.run([{ explainer, pixels: pixels!, methods, settings: this.settings() }]);
    return this.compareTask.taskComplete;
  }

  cancel(): void {
    this.compareTask.abort('cancelled by the user');
  }

  private async compare({ explainer, pixels, methods, settings }: CompareRequest, signal: AbortSignal): Promise<Attribution[]> {
    this.runError = undefined;
    const entries: CompareEntry[] = methods.map((method) => ({ method, status: 'waiting' }));
    this.entries = entries;
    const update = (i: number, patch: Partial<CompareEntry>) => {
      entries[i] = { ...entries[i], ...patch };
      this.entries = [...entries];
    };
    const input = this.inputOf(explainer, pixels);
    const started = performance.now();
    const results: Attribution[] = [];
    for (const [i, method] of methods.entries()) {
      this.runningMethod = method;
      this.progressValue = i / methods.length;
      this.progressText = `${methodTitle(method)} (${i + 1} of ${methods.length})`;
      update(i, { status: 'running' });
      try {
        if (signal.aborted) throw new AbortedError('Comparison cancelled');
        const attribution = await runMethod(explainer, method, input, settings, {
          signal,
          onProgress: (p) => {
            if (signal.aborted) return;
            const fraction = (i + p.done / p.total) / methods.length;
            const elapsed = performance.now() - started;
            const remaining = remainingTime({ done: fraction, total: 1, elapsed });
            this.progressValue = fraction;
            this.progressText = `${methodTitle(method)} (${i + 1} of ${methods.length}) · ${p.done} of ${p.total}${remaining !== undefined ? ` · about ${formatDuration(remaining)} left` : ''}`;
            this.emit('xai-progress', { ...p, method, remaining: remainingTime(p) });
          },
        });
        if (signal.aborted) throw new AbortedError('Comparison cancelled');
        update(i, { status: 'done', attribution });
        results.push(attribution);
        await this.painted(attribution);
        this.emit('xai-explained', { method: attribution.method, target: attribution.target, milliseconds: attribution.milliseconds, attribution });
      } catch (error) {
        if (error instanceof AbortedError || signal.aborted) {
          for (let j = i; j < entries.length; j++) update(j, { status: 'cancelled' });
          throw error instanceof AbortedError ? error : new AbortedError('Comparison cancelled');
        }
        update(i, { status: 'error', error: errorMessage(error) });
        this.reportError(error, 'run');
      }
    }
    this.progressText = undefined;
    this.emit('xai-compared', { results, scale: this.sharedScale });
    return results;
  }

  /** Adds or removes a method, keeping the table's order. */
  private choose(method: MethodName, use: boolean): void {
    const chosen = new Set(this.methods);
    if (use) chosen.add(method);
    else chosen.delete(method);
    this.methods = METHODS.filter((m) => chosen.has(m));
  }

  private renderControls(explainer: Explainer | undefined) {
    const count = explainer ? (explainer.model.shapes(1).get(explainer.model.logitsName)?.at(-1) ?? 0) : 0;
    const names = explainer ? classNames(explainer, this.labels, count) : [];
    return html`
      <form part="controls" class="controls" aria-label="Comparison settings" @submit=${submitTo(() => this.run())}>
        <fieldset part="methods" class="methods">
          <legend>Methods</legend>
          ${METHODS.map((m) => html`<label for=${`use-${m}`}><input id=${`use-${m}`} type="checkbox" .checked=${this.methods.includes(m)} @change=${(e: Event) => this.choose(m, (e.target as HTMLInputElement).checked)} />${methodTitle(m)}</label>`)}
        </fieldset>
        ${this.renderTargetField(names, { disabled: !explainer, top: 'Predicted', text: (name) => name })}
        ${this.renderSettingControls(this.methods.filter(isMethod).flatMap((m) => methodRow(m).controls), explainer)}
        ${selectField({
          id: 'scale-mode',
          label: 'Scale',
          values: ['shared', 'per-map'] as const,
          selected: this.scaleMode,
          text: (mode) => (mode === 'shared' ? 'Shared by all maps' : 'Per map'),
          onChange: (mode) => (this.scaleMode = mode),
        })}
        <button part="run-button" class="primary" type="submit" ?disabled=${!explainer || !this.pixels || this.running}>Compare</button>
      </form>
    `;
  }

  protected override render() {
    const explainer = this.activeExplainer;
    const scale = this.sharedScale;
    const done = this.entries.filter((e) => e.attribution).length;
    const names = explainer ? classNames(explainer, this.labels, 1 + Math.max(0, ...this.entries.map((e) => e.attribution?.target ?? 0))) : [];
    return html`
      <div part="base">
        ${this.renderControls(explainer)} ${this.renderSourceState(true)}
        ${this.running
          ? progressRow({ label: 'Comparison progress', max: 1, value: this.progressValue ?? 0, text: this.progressText ?? 'Starting…', cancel: 'Cancel', onCancel: () => this.cancel() })
          : nothing}
        ${this.runError ? html`<p part="error" role="alert">${this.runError}</p>` : nothing}
        <div part="grid">
          ${this.entries.map((entry) => {
            const a = entry.attribution;
            const title = methodTitle(entry.method);
            const shown = a ? numbers(entry.method, a) : '';
            return html`<section part="card" aria-label=${title}>
              ${this.renderHeatmap(a, { scale, scaleNote: `shared by ${done} map${done === 1 ? '' : 's'}`, label: title })}
              <p part="time">${entry.status === 'done' && a
                ? `${formatDuration(a.milliseconds)} · ${names[a.target] ?? `class ${a.target}`}`
                : entry.status === 'error'
                  ? html`<span part="error" role="alert">${entry.error}</span>`
                  : entry.status === 'running'
                    ? 'running…'
                    : entry.status}</p>
              ${shown ? html`<p part="numbers">${shown}</p>` : nothing}
            </section>`;
          })}
        </div>
      </div>
    `;
  }
}
