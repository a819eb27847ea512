import { XaiCompare } from './compare.component.js';

export * from './compare.component.js';
export default XaiCompare;

if (!customElements.get('xai-compare')) customElements.define('xai-compare', XaiCompare);

declare global {
  interface HTMLElementTagNameMap {
    'xai-compare': XaiCompare;
  }
}
