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
  [part~='time'] {
    font-size: 0.85em;
    font-variant-numeric: tabular-nums;
    color: var(--xai-muted-color, #59636e);
  }
`;
