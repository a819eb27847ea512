import { XaiBatch } from './batch.component.js';

export * from './batch.component.js';
export default XaiBatch;

if (!customElements.get('xai-batch')) customElements.define('xai-batch', XaiBatch);

declare global {
  interface HTMLElementTagNameMap {
    'xai-batch': XaiBatch;
  }
}
