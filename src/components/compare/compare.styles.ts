import { css } from 'lit';

export default css`
  [part~='grid'] {
    display: flex;
    flex-wrap: wrap;
    gap: var(--xai-gap, 0.75rem);
  }
  [part~='card'] {
    padding: 0.5em;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    background: var(--xai-card-background, transparent);
  }
  [part~='card'] xai-heatmap {
    --xai-heatmap-size: var(--xai-compare-size, 180px);
  }
  [part~='methods'] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.2em 0.8em;
    /* a fieldset is min-content wide by default: let its checkboxes wrap instead */
    min-inline-size: 0;
    max-width: 100%;
    margin: 0;
    padding: 0.3em 0.6em;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
  }
  [part~='methods'] legend {
    font-size: 0.85em;
    color: var(--xai-muted-color, #59636e);
  }
  [part~='methods'] label {
    display: inline-flex;
    align-items: center;
    gap: 0.25em;
  }
  [part~='time'],
  [part~='numbers'] {
    font-size: 0.85em;
    font-variant-numeric: tabular-nums;
    color: var(--xai-muted-color, #59636e);
  }
  [part~='numbers'] {
    margin-top: 0;
    max-width: var(--xai-compare-size, 180px);
  }
`;
