import { XaiFilterGallery } from './filter-gallery.component.js';

export * from './filter-gallery.component.js';
export default XaiFilterGallery;

if (!customElements.get('xai-filter-gallery')) customElements.define('xai-filter-gallery', XaiFilterGallery);

declare global {
  interface HTMLElementTagNameMap {
    'xai-filter-gallery': XaiFilterGallery;
  }
}
