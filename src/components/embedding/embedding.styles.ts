import { css } from 'lit';

export default css`
  :host {
    display: inline-block;
    vertical-align: top;
  }
  figure {
    margin: 0;
    position: relative;
    width: var(--xai-embedding-size, 320px);
  }
  [part~='label'] {
    font-weight: 600;
    margin-bottom: 0.3em;
  }
  [part~='canvas'] {
    display: block;
    width: 100%;
    aspect-ratio: 1;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    background: var(--xai-surface, #fff);
  }
  [part~='tooltip'] {
    position: absolute;
    pointer-events: none;
    transform: translate(-50%, calc(-100% - 8px));
    padding: 0.3em;
    border: 1px solid var(--xai-border-color, #d1d9e0);
    border-radius: var(--xai-radius, 6px);
    background: var(--xai-surface, #fff);
    box-shadow: 0 2px 8px rgb(0 0 0 / 15%);
    text-align: center;
    white-space: nowrap;
  }
  [part~='thumbnail'] {
    display: block;
    width: var(--xai-thumb-size, 64px);
    image-rendering: pixelated;
    margin: 0 auto 0.2em;
  }
  [part~='legend'] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.2em 0.8em;
    margin-top: 0.4em;
    color: var(--xai-muted-color, #59636e);
  }
  [part~='legend'] i {
    display: inline-block;
    width: 0.7em;
    height: 0.7em;
    border-radius: 50%;
    margin-right: 0.3em;
  }
  [part~='caption'] {
    margin-top: 0.2em;
    font-size: 0.8em;
    color: var(--xai-muted-color, #59636e);
  }
`;
