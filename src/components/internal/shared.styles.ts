/**
 * Styles every component shares. Theme through the --xai-* custom properties (they inherit
 * through shadow roots), or style the named parts with ::part().
 */
import { css, unsafeCSS, type CSSResult } from 'lit';

export const sharedStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
    font-family: var(--xai-font-family, system-ui, -apple-system, 'Segoe UI', sans-serif);
    font-size: var(--xai-font-size, 0.875rem);
    line-height: 1.4;
    color: var(--xai-color, #1f2328);
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  button,
  input,
  select {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    padding: 0.25em 0.8em;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    background: var(--xai-surface, #f6f8fa);
  }
  button.primary {
    background: var(--xai-accent, #0969da);
    border-color: var(--xai-accent, #0969da);
    color: var(--xai-accent-contrast, #fff);
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.55;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible {
    outline: 2px solid var(--xai-accent, #0969da);
    outline-offset: 1px;
  }
  select,
  input[type='number'] {
    padding: 0.2em 0.4em;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    background: var(--xai-background, #fff);
  }
  input[type='number'] {
    width: 6em;
  }
  [part~='error'] {
    margin: 0.5em 0;
    padding: 0.5em 0.75em;
    border-left: 3px solid var(--xai-error-color, #d1242f);
    background: color-mix(in srgb, var(--xai-error-color, #d1242f) 8%, transparent);
    color: var(--xai-error-color, #d1242f);
    overflow-wrap: anywhere;
  }
  [part~='hint'],
  [part~='loading'],
  .muted {
    color: var(--xai-muted-color, #59636e);
  }
  p {
    margin: 0.4em 0;
  }
  code {
    font-size: 0.95em;
  }
  .controls {
    display: flex;
    flex-wrap: wrap;
    align-items: end;
    gap: var(--xai-gap, 0.75rem);
    margin-bottom: var(--xai-gap, 0.75rem);
  }
  .field {
    display: flex;
    flex-direction: column;
    gap: 0.2em;
  }
  .field > label {
    font-size: 0.85em;
    color: var(--xai-muted-color, #59636e);
  }
  .progress {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em;
    margin: 0.5em 0;
  }
  progress {
    width: 12em;
    accent-color: var(--xai-accent, #0969da);
  }
`;

/**
 * A grid of small pixelated canvases with captions (feature maps, filter images): `cell` is the
 * part of one figure; --xai-thumb-size sets the smallest width of a cell (default `size` px), the
 * cells are `gap` em apart and their canvases' corners `radius` px round.
 */
export function thumbnailStyles(cell: string, { size, gap, radius }: { size: number; gap: number; radius: number }): CSSResult {
  const figure = unsafeCSS(`[part~='${cell}']`);
  return css`
    [part~='grid'] {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(var(--xai-thumb-size, ${size}px), 1fr));
      gap: ${gap}em;
    }
    ${figure} {
      margin: 0;
      font-size: 0.75em;
      color: var(--xai-muted-color, #59636e);
      font-variant-numeric: tabular-nums;
    }
    ${figure} canvas {
      display: block;
      width: 100%;
      aspect-ratio: var(--xai-aspect, 1);
      image-rendering: pixelated;
      border-radius: ${radius}px;
    }
  `;
}
