/**
 * The base of the components that run the engine: where the Explainer comes from (the
 * `explainer` property, or a TF.js model at `model-url` loaded on a shared device) and where the
 * picture comes from (the `image` property, or a URL in `src`). Both load through @lit/task, so a
 * newer value aborts an older load, and failures show inside the component.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { property } from 'lit/decorators.js';
import { Task, TaskStatus } from '@lit/task';
import { AbortedError, OptionError, type Explainer, type RgbaImage } from '../../index.js';
import { rangeConverter } from './converters.js';
import { errorMessage, XaiElement } from './xai-element.js';
import { explainerFromUrl, loadImage, modelInput, pixelsOf } from './sources.js';
import type { ImageSource } from './types.js';

export class XaiEngineElement extends XaiElement {
  /** The engine to run. When set, `model-url` and `input-range` are ignored. */
  @property({ attribute: false }) explainer?: Explainer;

  /** URL of a TF.js model.json (Layers or graph model), loaded on a device shared by the page's components. */
  @property({ attribute: 'model-url' }) modelUrl?: string;

  /** Input range of the model loaded from `model-url`, e.g. "0 255" or "-1 1". Default [0, 1]. */
  @property({ attribute: 'input-range', converter: rangeConverter }) inputRange?: [number, number];

  /** Class names; default: the model's own labels, else "class i". */
  @property({ attribute: false }) labels?: string[];

  /** The picture: ImageData, ImageBitmap, <img>, <canvas>, OffscreenCanvas or { width, height, data } RGBA. */
  @property({ attribute: false }) image?: ImageSource;

  /** URL of the picture, used when `image` is not set. */
  @property() src?: string;

  /** The Explainer this element loaded from `model-url`: its model is released when another replaces it. */
  private loaded?: Explainer;

  protected readonly modelTask = new Task(this, {
    task: async ([explainer, url, range]: readonly [Explainer | undefined, string | undefined, [number, number] | undefined], { signal }) => {
      if (explainer) return explainer;
      if (!url) return undefined;
      const next = await explainerFromUrl(url, range, signal);
      if (signal.aborted) {
        next.model.dispose();
        throw new AbortedError('Superseded by a newer model');
      }
      if (this.loaded && this.loaded !== next) this.loaded.model.dispose();
      this.loaded = next;
      return next;
    },
    args: () => [this.explainer, this.modelUrl, this.inputRange] as const,
    onComplete: (explainer) => {
      if (explainer) this.emit('xai-model-ready', { explainer });
    },
    onError: (error) => {
      if (!(error instanceof AbortedError)) this.reportError(error, 'model');
    },
  });

  protected readonly imageTask = new Task(this, {
    task: async ([image, src]: readonly [ImageSource | undefined, string | undefined], { signal }) => {
      if (image) return pixelsOf(image);
      if (src) return pixelsOf(await loadImage(src, signal));
      return undefined;
    },
    args: () => [this.image, this.src] as const,
    onError: (error) => {
      if (!(error instanceof AbortedError)) this.reportError(error, 'image');
    },
  });

  /** The Explainer in use once loaded (the `explainer` property, or the model from `model-url`). */
  get activeExplainer(): Explainer | undefined {
    return this.modelTask.status === TaskStatus.COMPLETE ? this.modelTask.value : undefined;
  }

  /** The picture's RGBA pixels once read. */
  get pixels(): RgbaImage | undefined {
    return this.imageTask.status === TaskStatus.COMPLETE ? this.imageTask.value : undefined;
  }

  /** Waits for the model (and the picture, when `needsImage`); throws what went wrong. */
  protected async sources(needsImage: boolean): Promise<{ explainer: Explainer; pixels: RgbaImage | undefined }> {
    await this.updateComplete; // the tasks start in the update
    const [explainer, pixels] = await Promise.all([this.modelTask.taskComplete, this.imageTask.taskComplete]);
    if (!explainer) throw new OptionError('No model: set the explainer property or the model-url attribute');
    if (needsImage && !pixels) throw new OptionError('No image: set the image property or the src attribute');
    return { explainer, pixels };
  }

  private inputCache?: { explainer: Explainer; pixels: RgbaImage; input: { data: Float32Array; shape: number[] } };

  /** The model input [H, W, C] of a picture (the last one is kept, so repeated calls return the same array). */
  protected inputOf(explainer: Explainer, pixels: RgbaImage): { data: Float32Array; shape: number[] } {
    const cached = this.inputCache;
    if (cached && cached.explainer === explainer && cached.pixels === pixels) return cached.input;
    const input = modelInput(explainer, pixels);
    this.inputCache = { explainer, pixels, input };
    return input;
  }

  /** Loading messages, and load errors shown inside the component (role="alert"). */
  protected renderSourceState(needsImage: boolean): TemplateResult | typeof nothing {
    const lines: TemplateResult[] = [];
    const model = this.modelTask;
    if (model.status === TaskStatus.PENDING) lines.push(html`<p part="loading" role="status">Loading the model…</p>`);
    else if (model.status === TaskStatus.ERROR && !(model.error instanceof AbortedError)) {
      lines.push(html`<p part="error" role="alert">Could not load the model${this.modelUrl ? html` from <code>${this.modelUrl}</code>` : nothing}: ${errorMessage(model.error)}</p>`);
    } else if (model.status === TaskStatus.COMPLETE && !model.value) {
      lines.push(html`<p part="hint">No model yet: set the <code>explainer</code> property or the <code>model-url</code> attribute.</p>`);
    }
    if (needsImage) {
      const image = this.imageTask;
      if (image.status === TaskStatus.ERROR && !(image.error instanceof AbortedError)) {
        lines.push(html`<p part="error" role="alert">Could not read the image: ${errorMessage(image.error)}</p>`);
      } else if (image.status === TaskStatus.COMPLETE && !image.value) {
        lines.push(html`<p part="hint">No image yet: set the <code>image</code> property or the <code>src</code> attribute.</p>`);
      }
    }
    return lines.length ? html`${lines}` : nothing;
  }
}
