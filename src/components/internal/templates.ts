/** Pieces of the components' templates: labelled selects, the progress row of a long run, a form that runs. */
import { html, nothing, type TemplateResult } from 'lit';

/** A labelled <select> in a .field (id `id`): one option per value, `selected` marked; `onChange` gets the chosen value. */
export function selectField<T extends string>(field: {
  id: string;
  label: string;
  values: readonly T[];
  selected: T | undefined;
  /** An option's text (default: the value). */
  text?: (value: T) => string;
  disabled?: boolean;
  onChange: (value: T) => void;
}): TemplateResult {
  const text = field.text ?? String;
  return html`<div class="field">
    <label for=${field.id}>${field.label}</label>
    <select id=${field.id} ?disabled=${field.disabled ?? false} @change=${(e: Event) => field.onChange((e.target as HTMLSelectElement).value as T)}>
      ${field.values.map((v) => html`<option value=${v} ?selected=${v === field.selected}>${text(v)}</option>`)}
    </select>
  </div>`;
}

/** The progress row of a long run: its <progress> (no max or value: indeterminate), what it says, and the button that cancels it. */
export function progressRow(row: { label: string; max: number | undefined; value: number | undefined; text: string; cancel: string; onCancel: () => void }): TemplateResult {
  return html`<div part="progress" class="progress" role="status" aria-live="polite">
    <progress part="progress-bar" aria-label=${row.label} max=${row.max ?? nothing} value=${row.value ?? nothing}></progress>
    <span part="progress-text">${row.text}</span>
    <button part="cancel-button" type="button" @click=${row.onCancel}>${row.cancel}</button>
  </div>`;
}

/** A form's submit handler that calls `run` instead of sending the form (a failure is shown inside and reported as an event already). */
export function submitTo(run: () => Promise<unknown>): (event: Event) => void {
  return (event) => {
    event.preventDefault();
    run().catch(() => {});
  };
}
