import { css } from 'lit';

export default css`
  :host {
    display: inline-block;
    vertical-align: top;
  }
  figure {
    margin: 0;
    width: var(--xai-heatmap-size, 224px);
  }
  [part~='label'] {
    font-weight: 600;
    margin-bottom: 0.3em;
  }
  [part~='canvas'],
  [part~='placeholder'] {
    display: block;
    width: 100%;
    border-radius: var(--xai-radius, 6px);
  }
  [part~='canvas'].pixelated {
    image-rendering: pixelated;
  }
  [part~='placeholder'] {
    aspect-ratio: 1;
    display: grid;
    place-items: center;
    border: 1px dashed var(--xai-border-color, #d1d9e0);
    color: var(--xai-muted-color, #59636e);
  }
  [part~='colorbar'] {
    margin-top: 0.4em;
  }
  [part~='colorbar-canvas'] {
    display: block;
    width: 100%;
    height: var(--xai-colorbar-height, 10px);
    border-radius: 2px;
  }
  [part~='ticks'] {
    display: flex;
    justify-content: space-between;
    font-size: 0.8em;
    font-variant-numeric: tabular-nums;
    color: var(--xai-muted-color, #59636e);
  }
  [part~='caption'] {
    font-size: 0.8em;
    color: var(--xai-muted-color, #59636e);
    margin: 0.2em 0;
  }
  [part~='downloads'] {
    display: flex;
    gap: 0.4em;
  }
  [part~='downloads'] button {
    font-size: 0.8em;
  }
  [hidden] {
    display: none !important;
  }
`;
