/**
 * The filter gallery's generator section: class images through a generator (Explainer.
 * visualizeClassWithGenerator), the counterpart of pixel-space class images that stays on the
 * generator's images. Loading the generator and the section's template; the gallery runs the task.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { Model, loadModelSpec, modelFiles, type Explainer, type GeneratorVisualization, type Progress } from '../../index.js';
import { formatDuration, formatValue } from '../internal/display.js';
import { progressRow } from '../internal/templates.js';

/** A generator on the explainer's runtime; `owned` when loaded here from a URL (the gallery disposes it). */
export interface LoadedGenerator {
  explainer: Explainer;
  source: string | Model;
  model: Model;
  owned: boolean;
}

/** `source` as a Model on `explainer`'s runtime: a given Model as is, a URL loaded once. */
export async function loadGenerator(source: string | Model, explainer: Explainer, previous: LoadedGenerator | undefined): Promise<LoadedGenerator> {
  if (previous && previous.explainer === explainer && previous.source === source) return previous;
  if (source instanceof Model) return { explainer, source, model: source, owned: false };
  const spec = await loadModelSpec(modelFiles(source));
  return { explainer, source, model: Model.create(explainer.runtime, spec), owned: true };
}

export interface GeneratorSectionView {
  explainer: Explainer | undefined;
  running: boolean;
  progress: (Progress & { remaining: number | undefined }) | undefined;
  result: GeneratorVisualization | undefined;
  error: string | undefined;
  run: () => void;
  stop: () => void;
}

/** The section: its button, progress, and one canvas per class captioned with the class and its probability. */
export function generatorSection(view: GeneratorSectionView): TemplateResult {
  const { explainer, progress: p, result } = view;
  const labels = explainer?.model.labels;
  const name = (c: number) => labels?.[c] ?? `class ${c}`;
  return html`<section part="generator" aria-label="Class images through the generator">
    <div class="controls">
      <button part="generator-button" class="primary" type="button" ?disabled=${!explainer || view.running} @click=${view.run}>Class images through the generator</button>
    </div>
    ${view.running
      ? progressRow({
          label: 'Generator ascent progress',
          max: p?.total,
          value: p?.done,
          text: p ? `${p.done} of ${p.total} steps · ${formatDuration(p.elapsed)} elapsed${p.remaining !== undefined ? ` · about ${formatDuration(p.remaining)} left` : ''}` : 'Ascending the class scores over the latent code…',
          cancel: 'Stop',
          onCancel: view.stop,
        })
      : nothing}
    ${view.error ? html`<p part="error" role="alert">${view.error}</p>` : nothing}
    ${result
      ? html`<p part="generator-summary">${result.classes.length} class images through the generator in ${formatDuration(result.milliseconds)}</p>
          <div part="grid generator-grid" role="list" aria-label="Class images through the generator">
            ${result.classes.map((c, i) => html`<figure part="class-image" role="listitem">
              <canvas data-class-index=${i} role="img" aria-label=${`${name(c)}, probability ${formatValue(result.probabilities[i])}`}></canvas>
              <figcaption>${name(c)} · ${formatValue(result.probabilities[i])}</figcaption>
            </figure>`)}
          </div>`
      : nothing}
  </section>`;
}
