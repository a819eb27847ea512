import { css } from 'lit';
import { thumbnailStyles } from '../internal/shared.styles.js';

export default css`
  ${thumbnailStyles('map', { size: 72, gap: 0.4, radius: 3 })}
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
