import { css } from 'lit';

export default css`
  [part~='grid'] {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(var(--xai-thumb-size, 72px), 1fr));
    gap: 0.4em;
  }
  [part~='map'] {
    margin: 0;
    font-size: 0.75em;
    color: var(--xai-muted-color, #59636e);
    font-variant-numeric: tabular-nums;
  }
  [part~='map'] canvas {
    display: block;
    width: 100%;
    aspect-ratio: var(--xai-aspect, 1);
    image-rendering: pixelated;
    border-radius: 3px;
  }
  [part~='legend'] {
    display: flex;
    align-items: center;
    gap: 0.5em;
    font-size: 0.8em;
    color: var(--xai-muted-color, #59636e);
    margin: 0.4em 0 0.6em;
  }
  [part~='legend'] .bar {
    width: 10em;
    height: 10px;
    border-radius: 2px;
  }
`;
