/**
 * LayerCAM (Jiang et al. 2021): every position of a layer's activations weighted by its own
 * positive gradient, M = ReLU(sum_k ReLU(dS/dA_k) * A_k) (their eqs. 5-6), so that shallow layers
 * give fine maps where Grad-CAM's channel-mean weights wash out. One forward and one backward to
 * the layer per image and target, batched with Grad-CAM's path (batch.ts); the combination and the
 * bilinear upsampling on the GPU, one read per group of images.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Attribution } from './attribution.js';
import { runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { gradCamLayer } from './gradcam.js';
import { gatherRows, scoreGradient } from './gradients.js';
import type { RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';

export interface LayerCamOptions extends TargetOptions, RunOptions {
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

export async function layerCam<I extends ImageInput | ImageBatch, O extends LayerCamOptions = LayerCamOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, LayerCamAttribution, O>> {
  const { rt, model } = ctx;
  const layer = gradCamLayer(ctx, options.layer, 'LayerCAM');
  const halfPixel = options.halfPixelCenters ?? true;
  if (typeof halfPixel !== 'boolean') throw new OptionError(`halfPixelCenters must be true or false, got ${String(halfPixel)}`);
  const [h, w, channels] = model.shapes(1).get(layer)!.slice(1);
  const [height, width] = model.inputShape;
  const positions = h * w;
  const pixels = height * width;
  return runBatch<LayerCamAttribution, Explained<I, LayerCamAttribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<LayerCamAttribution> => {
    let result: Tensor | undefined;
    // per job [upsampled H*W | layer map h*w | scores]: the scores only to check them, since the
    // ReLUs turn an overflow's NaN into 0
    const scoreSize = score.positions * score.channels;
    const row = pixels + positions + scoreSize;
    return {
      kind: `layercam:${layer}`,
      copiesPerJob: 1,
      pass: { backward: { seedNode: score.node, to: layer }, keep: [layer, score.node] },
      imageFloats: 0,
      jobFloats: row,
      // cam and upsampled map of the chunk
      copyFloats: pixels + positions,
      begin: (group) => {
        result = rt.empty([group.jobs, row], 'layercam.result');
      },
      chunk: (group, table, first, count) => {
        const copies = gatherRows(model, group.images, table, first, 1);
        const { gradient, pass } = scoreGradient(model, score, copies, table, group.mask, layer, [layer]);
        copies.dispose();
        const cam = rt.empty([count, h, w], 'layercam.cam');
        const upsampled = rt.empty([count, height, width], 'layercam.upsampled');
        rt.dispatch({ shader: 'gradcam', entry: 'combine_layercam', constants: { WORKGROUP_SIZE } }, {
          bindings: { activations: pass.value(layer), grads: gradient, cam },
          uniforms: { positions, channels },
          workgroups: rt.grid(cam.size, WORKGROUP_SIZE),
        });
        gradient.dispose();
        rt.dispatch({ shader: 'gradcam', entry: 'upsample_bilinear', constants: { WORKGROUP_SIZE, HALF_PIXEL: halfPixel ? 1 : 0 } }, {
          bindings: { cam, result: upsampled },
          uniforms: { in_height: h, in_width: w, out_height: height, out_width: width, scale_y: h / height, scale_x: w / width },
          workgroups: rt.grid(upsampled.size, WORKGROUP_SIZE),
        });
        const scores = pass.value(score.node);
        for (let n = 0; n < count; n++) {
          const at = (first + n) * row;
          rt.copy(upsampled, result!, pixels, n * pixels, at);
          rt.copy(cam, result!, positions, n * positions, at + pixels);
          rt.copy(scores, result!, scoreSize, n * scoreSize, at + pixels + positions);
        }
        pass.dispose();
        cam.dispose();
        upsampled.dispose();
      },
      finish: () => result!,
      results: (_, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (target, j) => {
          const packed = values.subarray(j * row, (j + 1) * row);
          return {
            method: 'layercam',
            values: packed.slice(0, pixels),
            shape: [height, width, 1],
            target,
            milliseconds: ms,
            layer,
            layerMap: packed.slice(pixels, pixels + positions),
            layerShape: [h, w],
          };
        });
      },
      end: () => result?.dispose(),
    };
  });
}
