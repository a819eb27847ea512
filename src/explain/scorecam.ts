/**
 * Score-CAM (Wang et al. 2020): no gradients. A layer's K activation maps, upsampled bilinearly
 * to the input and normalized to [0, 1], each mask the image (X * H_k, their eq. 3); the target's
 * score on the K masked copies, softmaxed over the channels (their Algorithm 1), weights the maps:
 * L = ReLU(sum_k w_k H_k) (eq. 6). The masked copies are made on the GPU and run as inference
 * batches, split only at the device's limits; one read at the end.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { resize } from '../ops/resize.js';
import type { Attribution } from './attribution.js';
import { checkFiniteResult, type ExplainContext, type ImageInput } from './context.js';
import { gradCamLayer } from './gradcam.js';
import { chunks, throwIfAborted, type RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';
import { chunkSize, prepareImage, singleTarget, targetTensor } from './single_image.js';

export interface ScoreCamOptions extends TargetOptions, RunOptions {
  /** Node with a [1, h, w, K] output. Default: the last such node that feeds the logits. */
  layer?: string;
  /** Upsampling grid: half-pixel centres (default; TF2 `tf.image.resize`) or tfjs' / TF1's `source = dst * in / out`. */
  halfPixelCenters?: boolean;
}

export interface ScoreCamAttribution extends Attribution {
  layer: string;
  layerShape: [number, number];
  /** The target's score on each channel's masked copy (a flat map masks everything: its copy is all zeros). */
  channelScores: Float32Array;
  /** Their softmax over the channels whose map is not flat (flat ones get 0): the w_k of the map. */
  channelWeights: Float32Array;
}

const WORKGROUP_SIZE = 64;
const kernel = (entry: string) => ({ shader: 'scorecam', entry, constants: { WORKGROUP_SIZE } });

export async function scoreCam(ctx: ExplainContext, image: ImageInput, options: ScoreCamOptions = {}): Promise<ScoreCamAttribution> {
  const started = performance.now();
  const { rt, model } = ctx;
  const layer = gradCamLayer(ctx, options.layer, 'Score-CAM');
  const { score, request } = singleTarget(ctx, options.score, options.target, 'Score-CAM');
  const node = score.node;
  const halfPixel = options.halfPixelCenters ?? true;
  if (typeof halfPixel !== 'boolean') throw new OptionError(`halfPixelCenters must be true or false, got ${String(halfPixel)}`);
  throwIfAborted(options.signal);
  const [h, w, maps] = model.shapes(1).get(layer)!.slice(1);
  const [height, width, channels] = model.inputShape;
  const pixels = height * width;
  const classes = score.channels;
  const scorePositions = score.positions;
  const params = (start: number, count: number) => ({ pixels, channels, maps, score_positions: scorePositions, classes, start, count });

  const input = prepareImage(ctx, image, 'Score-CAM');
  const owned: Tensor[] = [];
  try {
    const targets = targetTensor(ctx, input.tensor, score, request);
    owned.push(targets);
    const pass = model.forward(input.tensor, { keep: [layer] });
    const upsampled = resize(rt, pass.value(layer), { method: 'bilinear', size: [height, width], halfPixelCenters: halfPixel });
    pass.dispose();
    const ranges = rt.empty([2 * maps], 'scorecam.ranges');
    const channelScores = rt.empty([maps], 'scorecam.channel_scores');
    owned.push(upsampled, ranges, channelScores);
    rt.dispatch(kernel('channel_range'), { bindings: { upsampled, ranges }, uniforms: params(0, maps), workgroups: rt.grid(maps, WORKGROUP_SIZE) });

    for (const { start, count } of chunks(maps, chunkSize(ctx, maps))) {
      throwIfAborted(options.signal);
      const copies = rt.empty([count, height, width, channels], 'scorecam.copies');
      rt.dispatch(kernel('mask_copies'), {
        bindings: { image: input.tensor, upsampled, ranges, copies },
        uniforms: params(start, count),
        workgroups: rt.grid(copies.size, WORKGROUP_SIZE),
      });
      const batch = model.forward(copies, { keep: [node] });
      rt.dispatch(kernel('gather_scores'), {
        bindings: { scores: batch.value(node), targets, channel_scores: channelScores },
        uniforms: params(start, count),
        workgroups: rt.grid(count, WORKGROUP_SIZE),
      });
      batch.dispose();
      copies.dispose();
      if (start + count < maps) {
        // chunked runs submit per chunk so progress is real; still no readback inside the loop
        await rt.flush();
        options.onProgress?.({ done: start + count, total: maps, elapsed: performance.now() - started });
      }
    }
    // [map H*W | weights K | channel scores K | target 1]: one read
    const result = rt.empty([pixels + 2 * maps + 1], 'scorecam.result');
    const weights = rt.empty([maps], 'scorecam.weights');
    owned.push(result, weights);
    rt.dispatch(kernel('softmax_weights'), { bindings: { ranges, channel_scores: channelScores, weights }, uniforms: params(0, maps), workgroups: [1, 1, 1] });
    rt.dispatch(kernel('combine'), { bindings: { upsampled, ranges, weights, result }, uniforms: params(0, maps), workgroups: rt.grid(pixels, WORKGROUP_SIZE) });
    rt.copy(weights, result, maps, 0, pixels);
    rt.copy(channelScores, result, maps, 0, pixels + maps);
    rt.copy(targets, result, 1, 0, pixels + 2 * maps);
    const packed = await rt.read(result);
    checkFiniteResult(packed, 'Score-CAM map or its channel scores');
    options.onProgress?.({ done: maps, total: maps, elapsed: performance.now() - started });
    return {
      method: 'score-cam',
      values: packed.slice(0, pixels),
      shape: [height, width, 1],
      target: packed[pixels + 2 * maps],
      milliseconds: performance.now() - started,
      layer,
      layerShape: [h, w],
      channelWeights: packed.slice(pixels, pixels + maps),
      channelScores: packed.slice(pixels + maps, pixels + 2 * maps),
    };
  } finally {
    for (const t of owned) t.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
