/**
 * Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018) on any node with a
 * spatial output [1, h, w, K]: one forward that keeps the layer, one backward from the class
 * score to that layer, channel weights and their ReLU'd combination on the GPU, then bilinear
 * upsampling to the input's [H, W]. One submission and one read (map, layer map, weights and
 * target packed in one buffer).
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';
import type { Attribution } from './attribution.js';
import { layerShape, spatialLayers } from './activations.js';
import { checkFiniteResult, prepareImage, type ExplainContext, type ImageInput } from './context.js';
import type { TargetOptions } from './saliency.js';
import { argmaxTargets, checkTarget, constantTargets, oneHotSeed, scoreNode } from './score.js';

export interface GradCamOptions extends TargetOptions {
  /** Node with a [1, h, w, K] output. Default: the last such node (the usual "last conv layer"). */
  layer?: string;
  /** Grad-CAM++ weights instead of Grad-CAM's mean gradient. Default false. */
  plusPlus?: boolean;
  /**
   * Upsampling grid: half-pixel centres (default; TF2 `tf.image.resize`, cv2.resize, tfjs
   * `resizeBilinear(.., false, true)`) or false for tfjs' / TF1's default `source = dst * in / out`.
   * Corners are never aligned.
   */
  halfPixelCenters?: boolean;
}

export interface GradCamAttribution extends Attribution {
  /** The node explained. */
  layer: string;
  /** The map at the layer's resolution, [h, w] row-major, before upsampling. */
  layerMap: Float32Array;
  layerShape: [number, number];
  /** The K channel weights (alpha_k, or Grad-CAM++'s w_k). */
  channelWeights: Float32Array;
}

const WORKGROUP_SIZE = 64;

/** Nodes the logits depend on (walking the topological order backwards). */
function upstreamOfLogits(model: Model): Set<string> {
  const upstream = new Set([model.logitsName]);
  for (let i = model.order.length - 1; i >= 0; i--) {
    if (upstream.has(model.order[i])) for (const input of model.layer(model.order[i]).spec.inputs) upstream.add(input);
  }
  upstream.delete(model.logitsName);
  return upstream;
}

/** The layer to explain, checked: it must exist, have a [1, h, w, K] output and feed the logits. */
export function gradCamLayer(ctx: ExplainContext, layer: string | undefined): string {
  const upstream = upstreamOfLogits(ctx.model);
  const candidates = spatialLayers(ctx.model).filter((name) => upstream.has(name));
  if (layer === undefined) {
    if (!candidates.length) throw new OptionError(`Grad-CAM needs a layer with a spatial [1, h, w, K] output; ${ctx.model.spec.source} has none`);
    return candidates[candidates.length - 1];
  }
  const shape = layerShape(ctx.model, layer);
  if (shape.length !== 3 || !candidates.includes(layer)) {
    const why = shape.length !== 3 ? `outputs [1, ${shape.join(', ')}]` : layer === ctx.model.inputName ? 'is the input' : 'does not feed the logits';
    throw new OptionError(`Grad-CAM needs a layer with a spatial [1, h, w, K] output that feeds the logits; '${layer}' ${why} (layers that qualify: ${candidates.join(', ') || 'none'})`);
  }
  return layer;
}

export async function gradCam(ctx: ExplainContext, image: ImageInput, options: GradCamOptions = {}): Promise<GradCamAttribution> {
  const started = performance.now();
  const { rt, model } = ctx;
  const layer = gradCamLayer(ctx, options.layer);
  const node = scoreNode(model, options.score);
  const target = options.target ?? 'top';
  checkTarget(model, node, target);
  const plusPlus = options.plusPlus ?? false;
  if (typeof plusPlus !== 'boolean') throw new OptionError(`plusPlus must be true or false, got ${String(plusPlus)}`);
  const halfPixel = options.halfPixelCenters ?? true;
  if (typeof halfPixel !== 'boolean') throw new OptionError(`halfPixelCenters must be true or false, got ${String(halfPixel)}`);
  const [h, w, channels] = model.shapes(1).get(layer)!.slice(1);
  const [height, width] = model.inputShape;
  const positions = h * w;
  const pixels = height * width;

  const input = prepareImage(ctx, image);
  const owned: Tensor[] = [];
  const pass = model.forward(input.tensor, { forBackward: true, keep: [layer, node, model.logitsName] });
  try {
    // 'top' is the argmax of this very pass's logits: no separate forward
    const targets = target === 'top' ? argmaxTargets(rt, pass.value(model.logitsName)) : constantTargets(rt, 1, target);
    owned.push(targets);
    const seed = oneHotSeed(rt, pass.value(node).shape, targets);
    const { gradients } = model.backward(pass, new Map([[node, seed]]), { to: [layer] });
    const grads = gradients.get(layer)!;
    owned.push(grads);
    const activationsOut = pass.value(layer);

    const weights = rt.empty([channels], 'gradcam.weights');
    const cam = rt.empty([h, w], 'gradcam.cam');
    // [upsampled H*W | layer map h*w | weights K | target 1 | scores]: one read for everything; the
    // scores only to check them, since the ReLU'd combination turns an overflow's NaN into 0
    const scores = pass.value(node);
    const result = rt.empty([pixels + positions + channels + 1 + scores.size], 'gradcam.result');
    owned.push(weights, cam, result);
    const kernel = (entry: string) => ({ shader: 'gradcam', entry, constants: { WORKGROUP_SIZE } });
    rt.dispatch(kernel(plusPlus ? 'weights_plusplus' : 'weights_gradcam'), {
      // Grad-CAM's mean gradient does not read the activations
      bindings: plusPlus ? { activations: activationsOut, grads, weights } : { grads, weights },
      uniforms: { positions, channels },
      workgroups: rt.grid(channels, WORKGROUP_SIZE),
    });
    rt.dispatch(kernel('combine'), {
      bindings: { activations: activationsOut, weights, cam },
      uniforms: { positions, channels },
      workgroups: rt.grid(positions, WORKGROUP_SIZE),
    });
    rt.dispatch({ shader: 'gradcam', entry: 'upsample_bilinear', constants: { WORKGROUP_SIZE, HALF_PIXEL: halfPixel ? 1 : 0 } }, {
      bindings: { cam, result },
      uniforms: { in_height: h, in_width: w, out_height: height, out_width: width, scale_y: h / height, scale_x: w / width },
      workgroups: rt.grid(pixels, WORKGROUP_SIZE),
    });
    rt.copy(cam, result, positions, 0, pixels);
    rt.copy(weights, result, channels, 0, pixels + positions);
    rt.copy(targets, result, 1, 0, pixels + positions + channels);
    rt.copy(scores, result, scores.size, 0, pixels + positions + channels + 1);
    pass.dispose();
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'Grad-CAM map or the scores it explains');
    return {
      method: plusPlus ? 'grad-cam++' : 'grad-cam',
      values: packed.slice(0, pixels),
      shape: [height, width, 1],
      target: packed[pixels + positions + channels],
      milliseconds: performance.now() - started,
      layer,
      layerMap: packed.slice(pixels, pixels + positions),
      layerShape: [h, w],
      channelWeights: packed.slice(pixels + positions, pixels + positions + channels),
    };
  } finally {
    pass.dispose();
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
