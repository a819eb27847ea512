/** Types the components share, derived from the public engine API. */
import type { BrowserImageSource, Explainer, RgbaImage } from '../../index.js';

/** Anything the components take as a picture: browser images, ImageData, or plain RGBA pixels. */
export type ImageSource = BrowserImageSource | RgbaImage;

/** A layer's activations for one image, as Explainer.activations returns them. */
export type LayerMaps = Awaited<ReturnType<Explainer['activations']>>;

/** The explanation methods the components run, by the names the engine gives its results. */
export type MethodName = 'saliency' | 'smoothgrad' | 'integrated-gradients' | 'gradcam' | 'occlusion';
export const METHODS: readonly MethodName[] = ['saliency', 'smoothgrad', 'integrated-gradients', 'gradcam', 'occlusion'];
export const METHOD_TITLES: Record<MethodName, string> = {
  saliency: 'Saliency',
  smoothgrad: 'SmoothGrad',
  'integrated-gradients': 'Integrated Gradients',
  gradcam: 'Grad-CAM',
  occlusion: 'Occlusion',
};
