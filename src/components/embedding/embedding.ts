import { XaiEmbedding } from './embedding.component.js';

export * from './embedding.component.js';
export default XaiEmbedding;

if (!customElements.get('xai-embedding')) customElements.define('xai-embedding', XaiEmbedding);

declare global {
  interface HTMLElementTagNameMap {
    'xai-embedding': XaiEmbedding;
  }
}
