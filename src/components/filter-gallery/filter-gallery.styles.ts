import { css } from 'lit';
import { thumbnailStyles } from '../internal/shared.styles.js';

export default css`
  ${thumbnailStyles('filter', { size: 96, gap: 0.5, radius: 4 })}
  ${thumbnailStyles('class-image', { size: 96, gap: 0.5, radius: 4 })}
  [part~='generator'] {
    margin-top: var(--xai-gap, 1em);
  }
  [part~='filter'] canvas {
    background: var(--xai-surface, #f6f8fa);
  }
  [part~='filter'].dead canvas {
    opacity: 0.5;
  }
`;
