/** Types the components share, derived from the public engine API. */
import type { BrowserImageSource, Explainer, RgbaImage } from '../../index.js';

/** Anything the components take as a picture: browser images, ImageData, or plain RGBA pixels. */
export type ImageSource = BrowserImageSource | RgbaImage;

/** A layer's activations for one image, as Explainer.activations returns them. */
export type LayerMaps = Awaited<ReturnType<Explainer['activations']>>;

/** The explanation methods the components run: the keys of the method table (methods.ts). */
export type { MethodName } from './methods.js';
