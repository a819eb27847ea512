import { css } from 'lit';

export default css`
  [part~='base'] {
    display: flex;
    flex-direction: column;
  }
  [part~='predictions'] {
    margin: 0 0 var(--xai-gap, 0.75rem);
  }
  [part~='summary'] {
    font-size: 0.9em;
  }
  input[type='range'] {
    width: 8em;
    accent-color: var(--xai-accent, #0969da);
  }
`;
