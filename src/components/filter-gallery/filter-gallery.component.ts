import { html, nothing, type PropertyValues } from 'lit';
import { property, queryAll, state } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, type Explainer, type GeneratorVisualization, type Model, type Parametrization, type Progress, type Visualization } from '../../index.js';
import { channelsConverter } from '../internal/converters.js';
import { formatDuration, formatValue, remainingTime } from '../internal/display.js';
import { XaiEngineElement } from '../internal/engine-element.js';
import { drawImage } from '../internal/pictures.js';
import { sharedStyles } from '../internal/shared.styles.js';
import { spatialLayers } from '../internal/sources.js';
import { progressRow, selectField, submitTo } from '../internal/templates.js';
import { generatorSection, loadGenerator, type LoadedGenerator } from './filter-gallery.generator.js';
import styles from './filter-gallery.styles.js';

interface GalleryRequest {
  explainer: Explainer;
  layer: string;
  channels: 'all' | number[];
  steps: number;
  learningRate: number;
  previewEvery: number;
  parametrization: Parametrization;
}

/**
 * @summary Every filter of a layer visualized by gradient ascent (Explainer.visualizeFilters),
 * the images updating live while the optimization runs, with progress and a Stop button.
 *
 * @csspart base - The wrapper.
 * @csspart controls - Layer, steps, parametrization, contrast and the Visualize button.
 * @csspart run-button - Starts the visualization.
 * @csspart progress - Progress, time left and the stop button.
 * @csspart progress-bar - The <progress> element.
 * @csspart progress-text - Steps done and time left.
 * @csspart cancel-button - Stops the optimization.
 * @csspart grid - The images.
 * @csspart filter - One filter: its image and final activation.
 * @csspart error - A load or run error (role="alert").
 * @csspart generator - With `generator` set: the class images through the generator.
 * @csspart generator-button - Starts them.
 * @csspart generator-grid - Their images; each a `class-image` part with the class and its probability.
 *
 * @cssproperty --xai-thumb-size - Smallest width of a filter image (default 96px).
 *
 * @event xai-model-ready - The Explainer is ready.
 * @event xai-visualized - The optimization finished (detail: { result: Visualization }).
 * @event xai-progress - Steps done (detail: { method: 'filters' or 'generator-class', done, total, elapsed, remaining }).
 * @event xai-cancelled - Stopped (detail: { method: 'filters' or 'generator-class' }).
 * @event xai-generated - The class images through the generator are done (detail: { result: GeneratorVisualization }).
 * @event xai-error - Loading or the optimization failed.
 */
export class XaiFilterGallery extends XaiEngineElement {
  static override styles = [sharedStyles, styles];

  /** The layer (a node with an [N, H, W, C] output); default: the first such layer. */
  @property() layer?: string;
  /** "all" or channel indices ("0 1 2"). */
  @property({ converter: channelsConverter }) channels: 'all' | number[] = 'all';
  /** Gradient-ascent steps. */
  @property({ type: Number }) steps = 128;
  @property({ type: Number, attribute: 'learning-rate' }) learningRate = 0.05;
  /**
   * What the ascent optimizes: "pixel" or "fourier" (each image's spectrum, 1/f scaled, in
   * decorrelated colours behind a sigmoid: Olah et al. 2017). Passed to visualizeFilters as is.
   */
  @property() parametrization: Parametrization = 'pixel';
  /** Steps between live previews (each is one readback of the images). */
  @property({ type: Number, attribute: 'preview-every' }) previewEvery = 8;
  /** Show each image stretched to its own min..max instead of the model's input range. */
  @property({ type: Boolean }) stretch = false;
  /** Start as soon as the model is ready, and again when a setting changes. */
  @property({ type: Boolean, attribute: 'auto-run' }) autoRun = false;

  // ---- the generator section (class images through a generator; filter-gallery.generator.ts)
  /**
   * A generator G(z) whose images the explained model takes (a Model on the explainer's runtime, or
   * the URL of a TF.js model, e.g. a VAE decoder): adds "Class images through the generator", one
   * image per class by ascent over G's latent code (Explainer.visualizeClassWithGenerator).
   */
  @property() generator?: string | Model;
  /** Ascent steps of the class images through the generator. */
  @property({ type: Number, attribute: 'generator-steps' }) generatorSteps = 200;
  @state() private generated?: GeneratorVisualization;
  @state() private generatorProgress?: Progress & { remaining: number | undefined };
  @state() private generatorError?: string;
  private loadedGenerator?: LoadedGenerator;

  private readonly generatorTask = new Task(this, {
    autoRun: false,
    task: async ([explainer, source, steps]: readonly [Explainer, string | Model, number], { signal }) => this.generate(explainer, source, steps, signal),
    onError: (error) => {
      this.generatorProgress = undefined;
      if (error instanceof AbortedError) this.emit('xai-cancelled', { method: 'generator-class' });
      else this.generatorError = this.reportError(error, 'run');
    },
  });

  /** The finished class images through the generator. */
  get generatorVisualization(): GeneratorVisualization | undefined {
    return this.generated;
  }

  /** One image per class of the model through `generator`; rejects with AbortedError when stopped. */
  async runGenerator(): Promise<GeneratorVisualization> {
    if (this.generator === undefined) throw new Error('Set the generator (a Model or a model URL) first');
    const { explainer } = await this.sources(false);
    await this.generatorTask.run([explainer, this.generator, this.generatorSteps]);
    return this.generatorTask.taskComplete;
  }

  stopGenerator(): void {
    this.generatorTask.abort('stopped by the user');
  }

  private async generate(explainer: Explainer, source: string | Model, steps: number, signal: AbortSignal): Promise<GeneratorVisualization> {
    this.generated = undefined;
    this.generatorError = undefined;
    const previous = this.loadedGenerator;
    const loaded = await loadGenerator(source, explainer, previous);
    if (previous && previous !== loaded && previous.owned) previous.model.dispose();
    this.loadedGenerator = loaded;
    const classes = explainer.model.shapes(1).get(explainer.model.logitsName)![1];
    const result = await explainer.visualizeClassWithGenerator(loaded.model, {
      classes: Array.from({ length: classes }, (_, c) => c),
      steps,
      signal,
      onProgress: (p) => {
        if (signal.aborted) return;
        const remaining = remainingTime(p);
        this.generatorProgress = { ...p, remaining };
        this.emit('xai-progress', { ...p, method: 'generator-class', remaining });
      },
    });
    this.generatorProgress = undefined;
    this.generated = result;
    this.emit('xai-generated', { result });
    return result;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.loadedGenerator?.owned) this.loadedGenerator.model.dispose();
    this.loadedGenerator = undefined;
  }
  // ---- end of the generator section

  @state() private images?: Float32Array;
  @state() private imageShape?: [number, number, number, number];
  @state() private units: number[] = [];
  @state() private step = 0;
  @state() private progress?: Progress & { remaining: number | undefined };
  @state() private result?: Visualization;
  @state() private runError?: string;
  @state() private stopped = false;
  @queryAll('canvas[data-index]') private canvases!: NodeListOf<HTMLCanvasElement>;
  private lastAutoRun?: unknown[];

  private readonly galleryTask = new Task(this, {
    autoRun: false,
    task: async ([request]: readonly [GalleryRequest], { signal }) => this.visualize(request, signal),
    onError: (error) => {
      this.progress = undefined;
      if (error instanceof AbortedError) {
        this.stopped = true;
        this.emit('xai-cancelled', { method: 'filters' });
      } else {
        this.runError = this.reportError(error, 'run');
      }
    },
  });

  /** The finished visualization (undefined while running or after a stop). */
  get visualization(): Visualization | undefined {
    return this.result;
  }

  get running(): boolean {
    return this.galleryTask.status === TaskStatus.PENDING;
  }

  /** Runs the optimization; rejects with AbortedError when stopped (the last preview stays shown). */
  async run(): Promise<Visualization> {
    const { explainer } = await this.sources(false);
    const layer = this.layer ?? spatialLayers(explainer)[0];
    if (!layer) throw new Error(`${explainer.model.spec.source} has no layer with an [N, H, W, C] output to visualize`);
    const { channels, steps, learningRate, previewEvery, parametrization } = this;
    await this.galleryTask.run([{ explainer, layer, channels, steps, learningRate, previewEvery, parametrization }]);
    return this.galleryTask.taskComplete;
  }

  /** Stops the optimization at its next check (every few steps). */
  stop(): void {
    this.galleryTask.abort('stopped by the user');
  }

  private async visualize({ explainer, layer, channels, steps, learningRate, previewEvery, parametrization }: GalleryRequest, signal: AbortSignal): Promise<Visualization> {
    this.result = undefined;
    this.runError = undefined;
    this.stopped = false;
    this.progress = undefined;
    this.step = 0;
    const shape = explainer.model.shapes(1).get(layer);
    const count = channels === 'all' ? (shape?.[3] ?? 0) : channels.length;
    const imageShape = explainer.model.inputShape;
    const elements = imageShape.reduce((a, b) => a * b, 1);
    this.units = channels === 'all' ? Array.from({ length: count }, (_, c) => c) : [...channels];
    this.imageShape = [count, imageShape[0], imageShape[1], imageShape[2]];
    // mid-gray until the first preview
    const [low, high] = explainer.inputRange;
    this.images = new Float32Array(count * elements).fill((low + high) / 2);
    const result = await explainer.visualizeFilters({
      layer,
      channels,
      steps,
      learningRate,
      parametrization,
      signal,
      onProgress: (p) => {
        if (signal.aborted) return;
        const remaining = remainingTime(p);
        this.progress = { ...p, remaining };
        this.emit('xai-progress', { ...p, method: 'filters', remaining });
      },
      ...(previewEvery > 0
        ? {
            previewEvery,
            onPreview: (images: Float32Array, info: { step: number; first: number; count: number }) => {
              if (signal.aborted || !this.images) return;
              const next = this.images.slice();
              next.set(images, info.first * elements);
              this.images = next;
              this.step = info.step;
            },
          }
        : {}),
    });
    if (signal.aborted) throw new AbortedError('Filter visualization stopped');
    this.images = result.images;
    this.imageShape = result.shape;
    this.units = result.channels;
    this.step = result.steps;
    this.progress = undefined;
    this.result = result;
    this.emit('xai-visualized', { result });
    return result;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const explainer = this.activeExplainer;
    const redraw = changed.has('images') || changed.has('imageShape') || changed.has('units') || changed.has('stretch');
    if (redraw && this.images && this.imageShape && explainer) {
      for (const canvas of this.canvases) {
        drawImage(canvas, this.images, this.imageShape, Number(canvas.dataset.index), explainer.inputRange, this.stretch);
      }
    }
    const generated = this.generated;
    if ((changed.has('generated') || changed.has('stretch')) && generated && explainer) {
      for (const canvas of this.renderRoot.querySelectorAll<HTMLCanvasElement>('canvas[data-class-index]')) {
        drawImage(canvas, generated.images, generated.shape, Number(canvas.dataset.classIndex), explainer.inputRange, this.stretch);
      }
    }
    if (this.autoRun && explainer) {
      const key = [explainer, this.layer, this.channels, this.steps, this.learningRate, this.parametrization];
      if (!this.lastAutoRun || key.some((v, i) => v !== this.lastAutoRun![i])) {
        this.lastAutoRun = key;
        this.run().catch(() => {});
      }
    }
  }

  protected override render() {
    const explainer = this.activeExplainer;
    const layers = explainer ? spatialLayers(explainer) : [];
    const layer = this.layer ?? layers[0];
    const p = this.progress;
    const result = this.result;
    const shape = this.imageShape;
    return html`
      <div part="base" style=${shape ? `--xai-aspect: ${shape[2]} / ${shape[1]}` : ''}>
        <form part="controls" class="controls" aria-label="Filter visualization settings" @submit=${submitTo(() => this.run())}>
          ${selectField({
            id: 'layer',
            label: 'Layer',
            values: layers,
            selected: layer,
            text: (l) => `${l} (${explainer!.model.shapes(1).get(l)![3]} filters)`,
            disabled: !explainer || this.running,
            onChange: (l) => (this.layer = l),
          })}
          <div class="field">
            <label for="steps">Steps</label>
            <input id="steps" type="number" min="1" step="1" .value=${String(this.steps)} ?disabled=${this.running} @change=${(e: Event) => {
              const v = (e.target as HTMLInputElement).valueAsNumber;
              if (Number.isInteger(v) && v > 0) this.steps = v;
            }} />
          </div>
          ${selectField({
            id: 'parametrization',
            label: 'Parametrization',
            values: ['pixel', 'fourier'] as const,
            selected: this.parametrization,
            text: (v) => (v === 'fourier' ? 'Fourier (decorrelated)' : 'Pixels'),
            disabled: this.running,
            onChange: (v) => (this.parametrization = v),
          })}
          ${selectField({
            id: 'stretch',
            label: 'Contrast',
            values: ['range', 'stretch'] as const,
            selected: this.stretch ? 'stretch' : 'range',
            text: (v) => (v === 'stretch' ? 'Stretched per image' : 'Input range'),
            onChange: (v) => (this.stretch = v === 'stretch'),
          })}
          <button part="run-button" class="primary" type="submit" ?disabled=${!explainer || this.running}>Visualize</button>
        </form>
        ${this.renderSourceState(false)}
        ${this.running
          ? progressRow({
              label: 'Optimization progress',
              max: p?.total,
              value: p?.done,
              text: p
                ? `${p.done} of ${p.total} steps · ${formatDuration(p.elapsed)} elapsed${p.remaining !== undefined ? ` · about ${formatDuration(p.remaining)} left` : ''}`
                : `Optimizing ${this.units.length} images…`,
              cancel: 'Stop',
              onCancel: () => this.stop(),
            })
          : nothing}
        ${this.stopped && !this.running ? html`<p part="status" role="status">Stopped after ${this.step} steps: the images are the last preview.</p>` : nothing}
        ${this.runError ? html`<p part="error" role="alert">${this.runError}</p>` : nothing}
        ${result ? html`<p part="summary">${result.channels.length} filters of <code>${result.node}</code>, ${result.steps} steps in ${formatDuration(result.milliseconds)}</p>` : nothing}
        <div part="grid" role="list" aria-label="Filter images">
          ${this.units.map((unit, i) => {
            const dead = result ? result.activations.start[i] === 0 : false;
            return html`<figure part="filter" role="listitem" class=${dead ? 'dead' : ''}>
              <canvas data-index=${i} role="img" aria-label=${`filter ${unit}${result ? `, activation ${formatValue(result.activations.final[i])}` : ''}`}></canvas>
              <figcaption>#${unit}${result ? html` · ${formatValue(result.activations.final[i])}${dead ? ' (dead at start)' : ''}` : nothing}</figcaption>
            </figure>`;
          })}
        </div>
        ${this.generator !== undefined
          ? generatorSection({
              explainer, running: this.generatorTask.status === TaskStatus.PENDING, progress: this.generatorProgress, result: this.generated, error: this.generatorError,
              run: () => void this.runGenerator().catch(() => {}), stop: () => this.stopGenerator(),
            })
          : nothing}
      </div>
    `;
  }
}
