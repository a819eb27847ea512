import { css } from 'lit';

export default css`
  [part~='dropzone'] {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5em;
    padding: 1em;
    margin-bottom: var(--xai-gap, 0.75rem);
    border: 2px dashed var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    color: var(--xai-muted-color, #59636e);
  }
  .choose {
    cursor: pointer;
    color: var(--xai-accent, #0969da);
    text-decoration: underline;
  }
  .choose input {
    position: absolute;
    width: 1px;
    height: 1px;
    opacity: 0;
  }
  .choose:focus-within {
    outline: 2px solid var(--xai-accent, #0969da);
  }
  [part~='grid'] {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(var(--xai-batch-size, 180px), 1fr));
    gap: var(--xai-gap, 0.75rem);
    margin-top: var(--xai-gap, 0.75rem);
  }
  [part~='card'] {
    margin: 0;
    padding: 0.5em;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    background: var(--xai-card-background, transparent);
  }
  [part~='card'] xai-heatmap {
    --xai-heatmap-size: 100%;
  }
  [part~='name'] {
    display: block;
    font-weight: 600;
    overflow-wrap: anywhere;
  }
  [part~='classes'] {
    margin: 0.25em 0;
    padding-left: 1.4em;
    font-variant-numeric: tabular-nums;
  }
  [part~='state'] {
    font-size: 0.85em;
    color: var(--xai-muted-color, #59636e);
  }
`;
