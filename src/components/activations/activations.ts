import { XaiActivations } from './activations.component.js';

export * from './activations.component.js';
export default XaiActivations;

if (!customElements.get('xai-activations')) customElements.define('xai-activations', XaiActivations);

declare global {
  interface HTMLElementTagNameMap {
    'xai-activations': XaiActivations;
  }
}
