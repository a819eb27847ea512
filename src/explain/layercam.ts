/**
 * LayerCAM (Jiang et al. 2021): every position of a layer's activations weighted by its own
 * positive gradient, M = ReLU(sum_k ReLU(dS/dA_k) * A_k) (their eqs. 5-6), so that shallow layers
 * give fine maps where Grad-CAM's channel-mean weights wash out. One forward, one backward to the
 * layer, the combination and the bilinear upsampling on the GPU, one read.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, type ExplainContext, type ImageInput } from './context.js';
import { gradCamLayer } from './gradcam.js';
import type { TargetOptions } from './saliency.js';
import { oneHotSeed } from './score.js';
import { prepareImage, singleTarget, targetTensor } from './single_image.js';

export interface LayerCamOptions extends TargetOptions {
  /** Node with a [1, h, w, K] output. Default: the last such node that feeds the logits. */
  layer?: string;
  /** Upsampling grid: half-pixel centres (default) or tfjs' / TF1's `source = dst * in / out`. */
  halfPixelCenters?: boolean;
}

export interface LayerCamAttribution extends Attribution {
  layer: string;
  /** The map at the layer's resolution, [h, w] row-major, before upsampling. */
  layerMap: Float32Array;
  layerShape: [number, number];
}

const WORKGROUP_SIZE = 64;

export async function layerCam(ctx: ExplainContext, image: ImageInput, options: LayerCamOptions = {}): Promise<LayerCamAttribution> {
  const started = performance.now();
  const { rt, model } = ctx;
  const layer = gradCamLayer(ctx, options.layer, 'LayerCAM');
  const { score, request } = singleTarget(ctx, options.score, options.target, 'LayerCAM');
  const node = score.node;
  const halfPixel = options.halfPixelCenters ?? true;
  if (typeof halfPixel !== 'boolean') throw new OptionError(`halfPixelCenters must be true or false, got ${String(halfPixel)}`);
  const [h, w, channels] = model.shapes(1).get(layer)!.slice(1);
  const [height, width] = model.inputShape;
  const positions = h * w;
  const pixels = height * width;

  const input = prepareImage(ctx, image, 'LayerCAM');
  const targets = targetTensor(ctx, input.tensor, score, request);
  const owned: Tensor[] = [targets];
  const pass = model.forward(input.tensor, { forBackward: true, keep: [layer, node] });
  try {
    // backward takes ownership of the seed
    const seed = oneHotSeed(rt, pass.value(node).shape, targets);
    const grads = model.backward(pass, new Map([[node, seed]]), { to: [layer] }).gradients.get(layer)!;
    owned.push(grads);
    const scores = pass.value(node);
    const cam = rt.empty([h, w], 'layercam.cam');
    const upsampled = rt.empty([height, width], 'layercam.upsampled');
    // [upsampled H*W | layer map h*w | target 1 | scores]: the scores only to check them, since
    // the ReLUs turn an overflow's NaN into 0
    const result = rt.empty([pixels + positions + 1 + scores.size], 'layercam.result');
    owned.push(cam, upsampled, result);
    rt.dispatch({ shader: 'gradcam', entry: 'combine_layercam', constants: { WORKGROUP_SIZE } }, {
      bindings: { activations: pass.value(layer), grads, cam },
      uniforms: { positions, channels },
      workgroups: rt.grid(positions, WORKGROUP_SIZE),
    });
    rt.dispatch({ shader: 'gradcam', entry: 'upsample_bilinear', constants: { WORKGROUP_SIZE, HALF_PIXEL: halfPixel ? 1 : 0 } }, {
      bindings: { cam, result: upsampled },
      uniforms: { in_height: h, in_width: w, out_height: height, out_width: width, scale_y: h / height, scale_x: w / width },
      workgroups: rt.grid(pixels, WORKGROUP_SIZE),
    });
    rt.copy(upsampled, result, pixels);
    rt.copy(cam, result, positions, 0, pixels);
    rt.copy(targets, result, 1, 0, pixels + positions);
    rt.copy(scores, result, scores.size, 0, pixels + positions + 1);
    pass.dispose();
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'LayerCAM map or the scores it explains');
    return {
      method: 'layercam',
      values: packed.slice(0, pixels),
      shape: [height, width, 1],
      target: packed[pixels + positions],
      milliseconds: performance.now() - started,
      layer,
      layerMap: packed.slice(pixels, pixels + positions),
      layerShape: [h, w],
    };
  } finally {
    pass.dispose();
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
