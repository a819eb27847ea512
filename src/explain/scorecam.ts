/**
 * Score-CAM (Wang et al. 2020): no gradients. A layer's K activation maps, upsampled bilinearly
 * to the input and normalized to [0, 1], each mask the image (X * H_k, their eq. 3); the target's
 * score on the K masked copies, softmaxed over the channels (their Algorithm 1), weights the maps:
 * L = ReLU(sum_k w_k H_k) (eq. 6). The masked copies of all images and targets are made on the
 * GPU and run as inference batches (planned chunks, see batch.ts); one read per group of images.
 */
import { OptionError } from '../errors.js';
import type { Tensor } from '../gpu/tensor.js';
import { resize } from '../ops/resize.js';
import type { Attribution } from './attribution.js';
import { copyScores, runBatch, type BatchMethod, type BatchOptions, type Explained, type ImageBatch } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { gradCamLayer } from './gradcam.js';
import type { RunOptions } from './progress.js';
import type { TargetOptions } from './saliency.js';

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

export async function scoreCam<I extends ImageInput | ImageBatch, O extends ScoreCamOptions = ScoreCamOptions>(ctx: ExplainContext, images: I, options: O = {} as O): Promise<Explained<I, ScoreCamAttribution, O>> {
  const { rt, model } = ctx;
  const layer = gradCamLayer(ctx, options.layer, 'Score-CAM');
  const halfPixel = options.halfPixelCenters ?? true;
  if (typeof halfPixel !== 'boolean') throw new OptionError(`halfPixelCenters must be true or false, got ${String(halfPixel)}`);
  const [h, w, maps] = model.shapes(1).get(layer)!.slice(1);
  const [height, width, channels] = model.inputShape;
  const pixels = height * width;
  // per job [map H*W | weights K | channel scores K]
  const row = pixels + 2 * maps;
  const params = (count: number) => ({ pixels, channels, maps, count });
  return runBatch<ScoreCamAttribution, Explained<I, ScoreCamAttribution, O>>(ctx, images, options as BatchOptions, (score): BatchMethod<ScoreCamAttribution> => {
    let upsampled: Tensor | undefined;
    let ranges: Tensor | undefined;
    let channelScores: Tensor | undefined;
    return {
      kind: `score-cam:${layer}`,
      copiesPerJob: maps,
      pass: { keep: [score.node] },
      // the upsampled maps and their ranges
      imageFloats: pixels * maps + 2 * maps,
      // channel scores, weights, the result row
      jobFloats: 2 * maps + row,
      copyFloats: 1,
      begin: (group) => {
        const pass = model.forward(group.images, { keep: [layer] });
        upsampled = resize(rt, pass.value(layer), { method: 'bilinear', size: [height, width], halfPixelCenters: halfPixel });
        pass.dispose();
        ranges = rt.empty([group.imageCount, 2 * maps], 'scorecam.ranges');
        rt.dispatch(kernel('channel_range'), { bindings: { upsampled, ranges }, uniforms: params(group.imageCount), workgroups: rt.grid(ranges.size / 2, WORKGROUP_SIZE) });
        channelScores = rt.empty([group.jobs, maps], 'scorecam.channel_scores');
      },
      chunk: (group, table, first, count) => {
        const copies = rt.empty([count, height, width, channels], 'scorecam.copies');
        rt.dispatch(kernel('mask_copies'), {
          bindings: { images: group.images, table, upsampled: upsampled!, ranges: ranges!, copies },
          uniforms: params(count),
          workgroups: rt.grid(copies.size, WORKGROUP_SIZE),
        });
        const scores = copyScores(ctx, score, copies, table, group.mask);
        // copy `first + n` is channel k of job j at j * K + k: the chunk's scores land in place
        rt.copy(scores, channelScores!, count, 0, first);
        scores.dispose();
      },
      finish: (group) => {
        const weights = rt.empty([group.jobs, maps], 'scorecam.weights');
        const map = rt.empty([group.jobs, pixels], 'scorecam.map');
        rt.dispatch(kernel('softmax_weights'), { bindings: { jobs: group.jobTable, ranges: ranges!, channel_scores: channelScores!, weights }, uniforms: params(group.jobs), workgroups: rt.grid(group.jobs, WORKGROUP_SIZE) });
        rt.dispatch(kernel('combine'), { bindings: { jobs: group.jobTable, upsampled: upsampled!, ranges: ranges!, weights, result: map }, uniforms: params(group.jobs), workgroups: rt.grid(map.size, WORKGROUP_SIZE) });
        const result = rt.empty([group.jobs, row], 'scorecam.result');
        for (let j = 0; j < group.jobs; j++) {
          rt.copy(map, result, pixels, j * pixels, j * row);
          rt.copy(weights, result, maps, j * maps, j * row + pixels);
          rt.copy(channelScores!, result, maps, j * maps, j * row + pixels + maps);
        }
        weights.dispose();
        map.dispose();
        return result;
      },
      results: (_, values, targets, milliseconds) => {
        const ms = milliseconds();
        return Array.from(targets, (target, j) => {
          const packed = values.subarray(j * row, (j + 1) * row);
          return {
            method: 'score-cam',
            values: packed.slice(0, pixels),
            shape: [height, width, 1],
            target,
            milliseconds: ms,
            layer,
            layerShape: [h, w],
            channelWeights: packed.slice(pixels, pixels + maps),
            channelScores: packed.slice(pixels + maps, row),
          };
        });
      },
      end: () => {
        for (const t of [upsampled, ranges, channelScores]) t?.dispose();
      },
    };
  });
}
