import { XaiExplainer } from './explainer.component.js';

export * from './explainer.component.js';
export default XaiExplainer;

if (!customElements.get('xai-explainer')) customElements.define('xai-explainer', XaiExplainer);

declare global {
  interface HTMLElementTagNameMap {
    'xai-explainer': XaiExplainer;
  }
}
