import { html, nothing } from 'lit';
import { property, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, type Attribution, type Explainer, type Progress, type RgbaImage } from '../../index.js';
import { displayMap, formatDuration, formatPercent, formatValue, remainingTime, sharedScale } from '../internal/display.js';
import { filePixels, pictureFiles } from '../internal/files.js';
import { XaiMethodElement } from '../internal/method-element.js';
import { METHODS, isMethod, methodRow, methodTitle, runMethodOnMany, type MethodName, type MethodSettings } from '../internal/methods.js';
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
 * grid with each picture's map and its top classes. The readable pictures go to the Explainer in
 * one call, which runs them as its batches (progress across the pictures; a run can be cancelled
 * within them). (`image` and `src` are not used: set `images`.)
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
 * @event xai-explained - One picture's map is drawn, in order once the run is done (detail: { method, target, milliseconds, attribution }).
 * @event xai-batch-explained - Every picture is done (detail: { results }: one entry per picture).
 * @event xai-progress - The run went past another picture (detail: { method, done, total, elapsed, remaining }: pictures whose work is done, unreadable ones included, as the engine's progress counts them).
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
    const total = images.length;
    const started = performance.now();
    let done = 0;
    const progressed = (pictures: number, fraction: number, remaining: number | undefined) => {
      this.progressValue = fraction;
      this.progressText = `${pictures} of ${total} pictures${remaining !== undefined ? ` · about ${formatDuration(remaining)} left` : ''}`;
      if (pictures <= done) return;
      done = pictures;
      this.emit('xai-progress', { method, done, total, elapsed: performance.now() - started, remaining });
    };
    try {
      // the pictures first: one that cannot be read fails alone
      const loaded: { index: number; pixels: RgbaImage; input: { data: Float32Array; shape: number[] } }[] = [];
      for (const [i, { image }] of images.entries()) {
        if (signal.aborted) throw new AbortedError('Batch cancelled');
        try {
          const pixels = image instanceof Blob ? await filePixels(image, signal) : pixelsOf(image);
          loaded.push({ index: i, pixels, input: modelInput(explainer, pixels) });
        } catch (error) {
          if (error instanceof AbortedError || signal.aborted) throw error;
          update(i, { status: 'error', error: errorMessage(error) });
          this.reportError(error, 'image');
        }
      }
      const failed = total - loaded.length;
      if (failed) progressed(failed, failed / total, undefined);
      if (loaded.length) await this.explainLoaded(explainer, method, settings, topK, loaded, update, signal, (p) => {
        // the engine counts the copies of every picture, picture after picture: pictures done = its share of them
        const fraction = p.total ? p.done / p.total : 0;
        progressed(failed + Math.floor(fraction * loaded.length), (failed + fraction * loaded.length) / total, remainingTime(p));
      });
    } catch (error) {
      if (!(error instanceof AbortedError || signal.aborted)) throw error;
      entries.forEach((entry, j) => entry.status === 'waiting' || entry.status === 'running' ? update(j, { status: 'cancelled' }) : undefined);
      throw error instanceof AbortedError ? error : new AbortedError('Batch cancelled');
    }
    this.progressText = undefined;
    this.emit('xai-batch-explained', { results: [...entries] });
    return entries;
  }

  /**
   * The readable pictures' maps in one call of the method (the engine's batches: progress across
   * the pictures, cancel within a chunk) and their outputs in one more; a failed run fails every
   * one of them. Then the cards, in order.
   */
  private async explainLoaded(
    explainer: Explainer,
    method: MethodName,
    settings: MethodSettings,
    topK: number,
    loaded: readonly { index: number; pixels: RgbaImage; input: { data: Float32Array; shape: number[] } }[],
    update: (i: number, patch: Partial<BatchEntry>) => void,
    signal: AbortSignal,
    onProgress: (p: Progress) => void,
  ): Promise<void> {
    for (const { index } of loaded) update(index, { status: 'running' });
    const inputs = loaded.map((l) => l.input);
    let maps: Attribution[];
    let outputs: { values: Float32Array }[];
    try {
      maps = await runMethodOnMany(explainer, method, inputs, settings, { signal, onProgress });
      outputs = await explainer.activations(inputs, { layer: explainer.model.outputName, signal });
    } catch (error) {
      if (error instanceof AbortedError || signal.aborted) throw error;
      for (const { index } of loaded) update(index, { status: 'error', error: errorMessage(error) });
      this.reportError(error, 'run');
      return;
    }
    if (signal.aborted) throw new AbortedError('Batch cancelled');
    // a method's last report may come before its read back: every picture is done now
    onProgress({ done: 1, total: 1, elapsed: 0 });
    for (const [k, { index, pixels, input }] of loaded.entries()) {
      const attribution = maps[k];
      const values = outputs[k].values;
      const names = classNames(explainer, this.labels, values.length);
      const top = Array.from(values, (value, c) => ({ index: c, name: names[c], value }))
        .sort((a, b) => b.value - a.value)
        .slice(0, topK);
      update(index, { status: 'done', pixels, input: input.data, attribution, top });
      await this.painted(attribution);
      this.emit('xai-explained', { method: attribution.method, target: attribution.target, milliseconds: attribution.milliseconds, attribution });
    }
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
