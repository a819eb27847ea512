/**
 * Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018) on any node with a
 * spatial output [1, h, w, K]: one forward that keeps the layer, one backward from the class
 * score to that layer, channel weights and their ReLU'd combination on the GPU, then bilinear
 * upsampling to the input's [H, W]; the jobs (images x targets) of a call run as GPU batches,
 * and each group is one read (maps, layer maps, weights and targets packed in one buffer).
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';
import type { Attribution } from './attribution.js';
import { layerShape, spatialLayers } from './activations.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { gatherRows, scoreGradient } from './gradients.js';
import type { TargetOptions } from './saliency.js';

export interface GradCamOptions extends TargetOptions {
  /**
   * Node with a [1, h, w, K] output. Default: the last such node with more than one position
   * (h * w > 1; the usual "last conv layer").
   */
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
export function gradCamLayer(ctx: ExplainContext, layer: string | undefined, method = 'Grad-CAM'): string {
  const upstream = upstreamOfLogits(ctx.model);
  const candidates = spatialLayers(ctx.model).filter((name) => upstream.has(name));
  if (layer === undefined) {
    // a 1x1 map upsamples to a constant (MobileNetV2's last conv block after a 7x7 average pool,
    // a keepdims global pool): the default is the last layer with more than one position
    const shapes = ctx.model.shapes(1);
    const maps = candidates.filter((name) => shapes.get(name)![1] * shapes.get(name)![2] > 1);
    if (!maps.length) {
      throw new OptionError(`${method} needs a layer with a spatial [1, h, w, K] output of more than one position; ${ctx.model.spec.source} has ${candidates.length ? `only 1x1 ones (${candidates.join(', ')}), whose map is constant` : 'none'}`);
    }
    return maps[maps.length - 1];
  }
  const shape = layerShape(ctx.model, layer);
  if (shape.length !== 3 || !candidates.includes(layer)) {
    const why = shape.length !== 3 ? `outputs [1, ${shape.join(', ')}]` : layer === ctx.model.inputName ? 'is the input' : 'does not feed the logits';
    throw new OptionError(`${method} needs a layer with a spatial [1, h, w, K] output that feeds the logits; '${layer}' ${why} (layers that qualify: ${candidates.join(', ') || 'none'})`);
  }
  return layer;
}

export async function gradCam<I extends ImageInput | ImageBatch, O extends GradCamOptions = GradCamOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, GradCamAttribution, O>> {
  const { rt, model } = ctx;
  const layer = gradCamLayer(ctx, options.layer);
  const plusPlus = options.plusPlus ?? false;
  if (typeof plusPlus !== 'boolean') throw new OptionError(`plusPlus must be true or false, got ${String(plusPlus)}`);
  const halfPixel = options.halfPixelCenters ?? true;
  if (typeof halfPixel !== 'boolean') throw new OptionError(`halfPixelCenters must be true or false, got ${String(halfPixel)}`);
  const [h, w, channels] = model.shapes(1).get(layer)!.slice(1);
  const [height, width] = model.inputShape;
  const positions = h * w;
  const pixels = height * width;
  const maps = pixels + positions + channels;
  const kernel = (entry: string) => ({ shader: 'gradcam', entry, constants: { WORKGROUP_SIZE } });
  return runBatch<GradCamAttribution, Explained<I, GradCamAttribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<GradCamAttribution> => {
    let result: Tensor | undefined;
    // per job [upsampled H*W | layer map h*w | weights K | scores]: the scores only to check them,
    // since the ReLU'd combination turns an overflow's NaN into 0
    const scoreSize = score.positions * score.channels;
    const row = maps + scoreSize;
    return {
      kind: `grad-cam:${layer}`,
      copiesPerJob: 1,
      pass: { backward: { seedNode: score.node, to: layer }, keep: [layer, score.node] },
      imageFloats: 0,
      jobFloats: row,
      // weights, cam, upsampled map of the chunk
      copyFloats: row,
      begin: (group) => {
        result = rt.empty([group.jobs, row], 'gradcam.result');
      },
      chunk: (group, table, first, count) => {
        const copies = gatherRows(model, group.images, table, first, 1);
        const { gradient, pass } = scoreGradient(model, score, copies, table, group.mask, layer, [layer]);
        const activationsOut = pass.value(layer);
        const weights = rt.empty([count, channels], 'gradcam.weights');
        const cam = rt.empty([count, h, w], 'gradcam.cam');
        const upsampled = rt.empty([count, height, width], 'gradcam.maps');
        rt.dispatch(kernel(plusPlus ? 'weights_plusplus' : 'weights_gradcam'), {
          // Grad-CAM's mean gradient does not read the activations
          bindings: plusPlus ? { activations: activationsOut, grads: gradient, weights } : { grads: gradient, weights },
          uniforms: { positions, channels },
          workgroups: rt.grid(weights.size, WORKGROUP_SIZE),
        });
        rt.dispatch(kernel('combine'), {
          bindings: { activations: activationsOut, weights, cam },
          uniforms: { positions, channels },
          workgroups: rt.grid(cam.size, WORKGROUP_SIZE),
        });
        rt.dispatch({ shader: 'gradcam', entry: 'upsample_bilinear', constants: { WORKGROUP_SIZE, HALF_PIXEL: halfPixel ? 1 : 0 } }, {
          bindings: { cam, result: upsampled },
          uniforms: { in_height: h, in_width: w, out_height: height, out_width: width, scale_y: h / height, scale_x: w / width },
          workgroups: rt.grid(upsampled.size, WORKGROUP_SIZE),
        });
        const scores = pass.value(score.node);
        copies.dispose();
        gradient.dispose();
        for (let n = 0; n < count; n++) {
          const at = (first + n) * row;
          rt.copy(upsampled, result!, pixels, n * pixels, at);
          rt.copy(cam, result!, positions, n * positions, at + pixels);
          rt.copy(weights, result!, channels, n * channels, at + pixels + positions);
          rt.copy(scores, result!, scoreSize, n * scoreSize, at + maps);
        }
        pass.dispose();
        for (const t of [weights, cam, upsampled]) t.dispose();
      },
      finish: () => result!,
      results: (_, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (target, j) => {
          const packed = values.subarray(j * row, (j + 1) * row);
          return {
            method: plusPlus ? 'grad-cam++' : 'grad-cam',
            values: packed.slice(0, pixels),
            shape: [height, width, 1],
            target,
            milliseconds: ms,
            layer,
            layerMap: packed.slice(pixels, pixels + positions),
            layerShape: [h, w],
            channelWeights: packed.slice(pixels + positions, maps),
          };
        });
      },
      end: () => result?.dispose(),
    };
  });
}
