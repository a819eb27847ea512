import { css } from 'lit';

export default css`
  [part~='grid'] {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(var(--xai-thumb-size, 96px), 1fr));
    gap: 0.5em;
  }
  [part~='filter'] {
    margin: 0;
    font-size: 0.75em;
    color: var(--xai-muted-color, #59636e);
    font-variant-numeric: tabular-nums;
  }
  [part~='filter'] canvas {
    display: block;
    width: 100%;
    aspect-ratio: var(--xai-aspect, 1);
    image-rendering: pixelated;
    border-radius: 4px;
    background: var(--xai-surface, #f6f8fa);
  }
  [part~='filter'].dead canvas {
    opacity: 0.5;
  }
`;
