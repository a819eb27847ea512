import { XaiHeatmap } from './heatmap.component.js';

export * from './heatmap.component.js';
export default XaiHeatmap;

if (!customElements.get('xai-heatmap')) customElements.define('xai-heatmap', XaiHeatmap);

declare global {
  interface HTMLElementTagNameMap {
    'xai-heatmap': XaiHeatmap;
  }
}
