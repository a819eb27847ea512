import { html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, type Attribution, type Explainer, type RgbaImage } from '../../index.js';
import { displayMap, formatDuration, formatPercent, formatValue, remainingTime, sharedScale } from '../internal/display.js';
import { filePixels, pictureFiles } from '../internal/files.js';
import { XaiMethodElement } from '../internal/method-element.js';
import { METHODS, isMethod, methodRow, methodTitle, runMethod, type MethodName, type MethodSettings } from '../internal/methods.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { classNames, modelInput, pixelsOf } from '../internal/sources.js';
import { progressRow, selectField, submitTo } from '../internal/templates.js';
import type { ImageSource } from '../internal/types.js';
import { errorMessage } from '../internal/xai-element.js';
import styles from './batch.styles.js';

/** A picture of the batch: a name (a file's path below the dropped folder) and the picture or its file. */
export interface BatchImage {
  name: string;
  image: ImageSource | Blob;
}

/** A class and the model's output for it (a probability when the model ends in softmax or sigmoid). */
export interface TopClass {
  index: number;
  name: string;
  value: number;
}

/** One picture's state and result. */
export interface BatchEntry {
  name: string;
  status: 'waiting' | 'running' | 'done' | 'cancelled' | 'error';
  pixels?: RgbaImage;
  /** The model input of the picture (for reduction="gradient-x-input"). */
  input?: Float32Array;
  attribution?: Attribution;
  /** The top-k classes, best first. */
  top?: TopClass[];
  error?: string;
}

interface BatchRequest {
  explainer: Explainer;
  images: readonly BatchImage[];
  method: MethodName;
  settings: MethodSettings;
  topK: number;
}

/**
 * @summary Many pictures under one explanation method: drop a folder (or choose files) and get a
 * grid with each picture's map and its top classes. Pictures run one after another; a run can be
 * cancelled between and within pictures. (`image` and `src` are not used: set `images`.)
 *
 * @csspart base - The wrapper.
 * @csspart dropzone - Where pictures and folders are dropped; holds the file choosers.
 * @csspart controls - Method, its settings, scale mode and the Explain button.
 * @csspart run-button - Explains every picture.
 * @csspart progress - Progress, time left and the cancel button.
 * @csspart progress-bar - The <progress> element.
 * @csspart progress-text - Pictures done, and the time left.
 * @csspart cancel-button - Cancels the run.
 * @csspart grid - The cards.
 * @csspart card - One picture: its map, name, top classes and time.
 * @csspart heatmap - Each <xai-heatmap>.
 * @csspart heatmap-canvas, heatmap-colorbar, heatmap-ticks, heatmap-caption, heatmap-downloads, heatmap-placeholder - Their parts.
 * @csspart name - A picture's name.
 * @csspart classes - Its top classes (an ordered list).
 * @csspart state - Waiting, running, cancelled, or its time.
 * @csspart error - A load or run error (role="alert").
 *
 * @cssproperty --xai-batch-size - Smallest width of a card (default 180px).
 *
 * @event xai-model-ready - The Explainer is ready.
 * @event xai-explained - One picture's map is done and drawn (detail: { method, target, milliseconds, attribution }).
 * @event xai-batch-explained - Every picture is done (detail: { results }: one entry per picture).
 * @event xai-progress - A picture is done (detail: { method, done, total, elapsed, remaining }: pictures).
 * @event xai-cancelled - The run was cancelled (detail: { method }).
 * @event xai-error - Loading the model, a picture, or a method failed (detail: { error, phase, message }).
 */
export class XaiBatch extends XaiMethodElement {
  static override styles = [sharedStyles, styles];

  /** saliency, smoothgrad, integrated-gradients, gradcam or occlusion. */
  @property() method: MethodName = 'saliency';
  /** How many classes each card lists. */
  @property({ type: Number, attribute: 'top-k' }) topK = 3;
  /** per-map: each map on its own percentile scale; shared: one scale for all (colours comparable across pictures). */
  @property({ attribute: 'scale-mode' }) scaleMode: 'shared' | 'per-map' = 'per-map';
  /** The pictures; dropping or choosing files replaces them and starts a run. */
  @property({ attribute: false }) images: readonly BatchImage[] = [];

  @state() private entries: BatchEntry[] = [];
  @state() private progressText?: string;
  @state() private progressValue?: number;
  @state() private runError?: string;

  private readonly batchTask = new Task(this, {
    autoRun: false,
    task: async ([request]: readonly [BatchRequest], { signal }) => this.explainAll(request, signal),
    onError: (error) => {
      this.progressText = undefined;
      if (error instanceof AbortedError) this.emit('xai-cancelled', { method: this.method });
      else this.runError = this.reportError(error, 'run');
    },
  });

  /** Each picture's state and result, in order. */
  get results(): readonly BatchEntry[] {
    return this.entries;
  }

  get running(): boolean {
    return this.batchTask.status === TaskStatus.PENDING;
  }

  /** With scale-mode="shared": the percentile of |value| over every finished map together. */
  get sharedScale(): number | undefined {
    const done = this.entries.filter((e) => e.attribution);
    if (this.scaleMode !== 'shared' || !done.length) return undefined;
    return sharedScale(done.map((e) => displayMap(e.attribution!, this.reduction, e.input)), this.percentile);
  }

  /** Explains every picture; rejects with AbortedError when cancelled (finished cards stay). */
  async run(): Promise<BatchEntry[]> {
    const { explainer } = await this.sources(false);
    const method = this.method;
    if (!isMethod(method)) throw new Error(`Unknown method '${String(method)}' (use ${METHODS.join(', ')})`);
    await this.batchTask.run([{ explainer, images: this.images, method, settings: this.settings(), topK: this.topK }]);
    return this.batchTask.taskComplete;
  }

  cancel(): void {
    this.batchTask.abort('cancelled by the user');
  }

  private async explainAll({ explainer, images, method, settings, topK }: BatchRequest, signal: AbortSignal): Promise<BatchEntry[]> {
    this.runError = undefined;
    const entries: BatchEntry[] = images.map(({ name }) => ({ name, status: 'waiting' }));
    this.entries = entries;
    const update = (i: number, patch: Partial<BatchEntry>) => {
      entries[i] = { ...entries[i], ...patch };
      this.entries = [...entries];
    };
    const { model } = explainer;
    const started = performance.now();
    for (const [i, { image }] of images.entries()) {
      this.progressValue = i / images.length;
      const elapsed = performance.now() - started;
      const remaining = remainingTime({ done: i, total: images.length, elapsed });
      this.progressText = `${i} of ${images.length} pictures${remaining !== undefined ? ` · about ${formatDuration(remaining)} left` : ''}`;
      update(i, { status: 'running' });
      let phase: 'image' | 'run' = 'image';
      try {
        if (signal.aborted) throw new AbortedError('Batch cancelled');
        const pixels = image instanceof Blob ? await filePixels(image, signal) : pixelsOf(image);
        const input = modelInput(explainer, pixels);
        phase = 'run';
        const attribution = await runMethod(explainer, method, input, settings, { signal, onProgress: () => {} });
        const output = await explainer.activations(input, { layer: model.outputName });
        if (signal.aborted) throw new AbortedError('Batch cancelled');
        const names = classNames(explainer, this.labels, output.values.length);
        const top = Array.from(output.values, (value, index) => ({ index, name: names[index], value }))
          .sort((a, b) => b.value - a.value)
          .slice(0, topK);
        update(i, { status: 'done', pixels, input: input.data, attribution, top });
        await this.painted(attribution);
        this.emit('xai-explained', { method: attribution.method, target: attribution.target, milliseconds: attribution.milliseconds, attribution });
        this.emit('xai-progress', { method, done: i + 1, total: images.length, elapsed: performance.now() - started, remaining: remainingTime({ done: i + 1, total: images.length, elapsed: performance.now() - started }) });
      } catch (error) {
        if (error instanceof AbortedError || signal.aborted) {
          for (let j = i; j < entries.length; j++) update(j, { status: 'cancelled' });
          throw error instanceof AbortedError ? error : new AbortedError('Batch cancelled');
        }
        update(i, { status: 'error', error: errorMessage(error) });
        this.reportError(error, phase);
      }
    }
    this.progressText = undefined;
    this.emit('xai-batch-explained', { results: [...entries] });
    return entries;
  }

  /** New pictures from a drop or a file chooser: they replace the batch and run once the model is there. */
  private async take(source: DataTransfer | FileList): Promise<void> {
    const files = await pictureFiles(source);
    if (!files.length) {
      this.runError = 'No pictures there (PNG, JPEG, GIF, WebP, BMP or AVIF files)';
      return;
    }
    this.cancel();
    this.images = files.map(({ name, file }) => ({ name, image: file }));
    await this.run().catch(() => {}); // shown inside and reported as xai-error / xai-cancelled
  }

  private onDrop(event: DragEvent): void {
    event.preventDefault();
    if (event.dataTransfer) void this.take(event.dataTransfer);
  }

  private renderDropzone() {
    const chosen = (e: Event) => {
      const input = e.target as HTMLInputElement;
      if (input.files) void this.take(input.files);
    };
    return html`<div part="dropzone" class="dropzone" @dragover=${(e: DragEvent) => e.preventDefault()} @drop=${(e: DragEvent) => this.onDrop(e)}>
      <span>Drop a folder of pictures here, or</span>
      <label class="choose" for="files">choose pictures<input id="files" type="file" accept="image/*" multiple @change=${chosen} /></label>
      <label class="choose" for="folder">choose a folder<input id="folder" type="file" webkitdirectory @change=${chosen} /></label>
    </div>`;
  }

  private renderCard(entry: BatchEntry, explainer: Explainer | undefined, scale: { scale: number | undefined; note: string | undefined }) {
    const a = entry.attribution;
    const probabilities = explainer ? explainer.model.outputName !== explainer.model.logitsName : true;
    const names = explainer && a ? classNames(explainer, this.labels, a.target + 1) : [];
    return html`<figure part="card" aria-label=${entry.name}>
      ${a
        ? html`<xai-heatmap
            part="heatmap"
            exportparts="canvas: heatmap-canvas, colorbar: heatmap-colorbar, ticks: heatmap-ticks, caption: heatmap-caption, downloads: heatmap-downloads, placeholder: heatmap-placeholder"
            .attribution=${a}
            .image=${entry.pixels}
            .device=${explainer?.runtime.device}
            .input=${entry.input}
            .reduction=${this.reduction}
            .colormap=${this.colormap}
            .percentile=${this.percentile}
            .scale=${scale.scale}
            .scaleNote=${scale.note}
            .opacity=${this.opacity}
            .label=${entry.name}
          ></xai-heatmap>`
        : nothing}
      <figcaption>
        <span part="name">${entry.name}</span>
        ${entry.top
          ? html`<ol part="classes">${entry.top.map((c) => html`<li>${c.name} ${probabilities ? formatPercent(c.value) : formatValue(c.value)}</li>`)}</ol>`
          : nothing}
        <span part="state">${entry.status === 'done' && a
          ? `${isMethod(this.method) ? methodTitle(this.method) : this.method} of ${names[a.target]} · ${formatDuration(a.milliseconds)}`
          : entry.status === 'error'
            ? html`<span part="error" role="alert">${entry.error}</span>`
            : entry.status === 'running'
              ? 'running…'
              : entry.status}</span>
      </figcaption>
    </figure>`;
  }

  protected override render() {
    const explainer = this.activeExplainer;
    const shared = this.sharedScale;
    const maps = this.entries.filter((e) => e.attribution).length;
    const scale = { scale: shared, note: shared === undefined ? undefined : `shared by ${maps} map${maps === 1 ? '' : 's'}` };
    return html`
      <div part="base">
        ${this.renderDropzone()}
        <form part="controls" class="controls" aria-label="Batch settings" @submit=${submitTo(() => this.run())}>
          ${selectField({ id: 'method', label: 'Method', values: METHODS, selected: this.method, text: methodTitle, onChange: (m) => (this.method = m) })}
          ${this.renderSettingControls(isMethod(this.method) ? methodRow(this.method).controls : [], explainer)}
          ${selectField({ id: 'scale-mode', label: 'Scale', values: ['per-map', 'shared'] as const, selected: this.scaleMode, text: (m) => (m === 'shared' ? 'Shared by all maps' : 'Per map'), onChange: (m) => (this.scaleMode = m) })}
          <button part="run-button" class="primary" type="submit" ?disabled=${!explainer || !this.images.length || this.running}>Explain ${this.images.length} picture${this.images.length === 1 ? '' : 's'}</button>
        </form>
        ${this.renderSourceState(false)}
        ${this.running
          ? progressRow({ label: 'Batch progress', max: 1, value: this.progressValue ?? 0, text: this.progressText ?? 'Starting…', cancel: 'Cancel', onCancel: () => this.cancel() })
          : nothing}
        ${this.runError ? html`<p part="error" role="alert">${this.runError}</p>` : nothing}
        <div part="grid">${this.entries.map((entry) => this.renderCard(entry, explainer, scale))}</div>
      </div>
    `;
  }
}
