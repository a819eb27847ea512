/**
 * What gets explained: a score per batch item, turned into the gradient seed of the backward
 * pass. A score is a node's output [N, S, C] (S positions, C channels) reduced to one number per
 * item: the channels of a target (a class, or a list of channels) summed, then reduced over the
 * positions by sum, mean or max (shaders/score.wgsl). 'logit' and 'probability' are the classifier
 * cases; a node spec explains regressions, a sigmoid's margin or a spatial head. Targets are
 * resolved on the GPU, so 'top' and top-k never need a readback.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';

const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE } });

/** One target: a class index, 'top' (the predicted class), or a class name from the model's labels. */
export type SingleTarget = 'top' | number | string;
/** A target, or the k highest-ranked classes (k results per image). */
export type Target = SingleTarget | { topK: number };
/** One target for every image, or one per image. */
export type Targets = Target | readonly Target[];

export type Reduction = 'sum' | 'mean' | 'max';
export const REDUCTIONS: readonly Reduction[] = ['sum', 'mean', 'max'];

export interface ScoreSpec {
  /** The node whose output is scored. */
  node: string;
  /** Channels summed into the score; default: the target's channel (ranked by the reduced score for 'top'). */
  channels?: number | readonly number[];
  /** Over the node's positions (h * w of a spatial output, 1 for [N, C]). Default 'sum'. */
  reduce?: Reduction;
}

export type Score = 'logit' | 'probability' | ScoreSpec;

/** A score checked against the model. */
export interface ResolvedScore {
  node: string;
  positions: number;
  channels: number;
  reduce: Reduction;
  /** The node 'top' ranks channels by (the logits for 'logit' and 'probability'), with its positions. */
  rankNode: string;
  rankPositions: number;
  /** Fixed channel set of a spec with `channels`: no target to resolve. */
  fixedChannels?: number[];
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Positions and channels of a node's output per item. */
function nodeGeometry(model: Model, node: string): { positions: number; channels: number } {
  const shape = model.shapes(1).get(node)!;
  const channels = shape[shape.length - 1];
  return { positions: product(shape) / channels, channels };
}

export function resolveScore(model: Model, score: Score = 'logit'): ResolvedScore {
  if (score === 'logit' || score === 'probability') {
    const node = score === 'logit' ? model.logitsName : model.outputName;
    return { node, ...nodeGeometry(model, node), reduce: 'sum', rankNode: model.logitsName, rankPositions: nodeGeometry(model, model.logitsName).positions };
  }
  if (typeof score !== 'object' || score === null || typeof score.node !== 'string') {
    throw new OptionError(`score must be 'logit' or 'probability' or a spec { node, channels?, reduce? }, got ${JSON.stringify(score)}`);
  }
  if (!model.layers.has(score.node)) throw new OptionError(`score node '${score.node}' is not in ${model.spec.source} (nodes: ${model.order.join(', ')})`);
  const reduce = score.reduce ?? 'sum';
  if (!REDUCTIONS.includes(reduce)) throw new OptionError(`score reduce must be ${REDUCTIONS.join(', ')}, got '${String(reduce)}'`);
  const geometry = nodeGeometry(model, score.node);
  const resolved: ResolvedScore = { node: score.node, ...geometry, reduce, rankNode: score.node, rankPositions: geometry.positions };
  if (score.channels !== undefined) {
    const list = typeof score.channels === 'number' ? [score.channels] : [...score.channels];
    if (!list.length || list.some((c) => !Number.isInteger(c) || c < 0 || c >= geometry.channels)) {
      throw new OptionError(`score channels must be channel indices of '${score.node}' in 0..${geometry.channels - 1}, got ${JSON.stringify(score.channels)}`);
    }
    resolved.fixedChannels = list;
  }
  return resolved;
}

/** Number of classes (or units) the score node has per item. */
export function classCount(model: Model, node: string): number {
  return nodeGeometry(model, node).channels;
}

/**
 * The requests of one image's jobs: a class index (>= 0), or -1 - r for the r-th highest-ranked
 * class ('top' is r = 0). Checked here, before any GPU work.
 */
export function targetRequests(model: Model, score: ResolvedScore, target: Target | undefined): number[] {
  if (score.fixedChannels) {
    if (target !== undefined) throw new OptionError(`The score names its channels (${score.fixedChannels.join(', ')}): leave target out`);
    return [0];
  }
  const value = target ?? 'top';
  if (value === 'top') return [-1];
  if (typeof value === 'object' && value !== null && 'topK' in value) {
    const k = value.topK;
    if (!Number.isInteger(k) || k < 1 || k > score.channels) throw new OptionError(`topK must be an integer in 1..${score.channels}, got ${String(k)}`);
    return Array.from({ length: k }, (_, r) => -1 - r);
  }
  if (typeof value === 'string') {
    const index = model.labels?.indexOf(value) ?? -1;
    if (index < 0) {
      const known = model.labels ? `labels: ${model.labels.slice(0, 10).join(', ')}${model.labels.length > 10 ? ', ...' : ''}` : 'the model has no labels';
      const hint = /^\d+$/.test(value) ? `: pass ${value} as a number for a class index` : ` (${known}); use a class index or 'top'`;
      throw new OptionError(`target '${value}' is not a class name of ${model.spec.source}${hint}`);
    }
    return [index];
  }
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) >= score.channels) {
    throw new OptionError(`target ${String(value)} is out of range: the model has ${score.channels} classes (0..${score.channels - 1}), or use 'top', a class name or { topK }`);
  }
  return [value as number];
}

/**
 * d score / d node for a node output of shape `shape` ([N, ..., C]): `scale` at channel
 * targets[n] of every position (a [1] targets array applies to every item). Class visualisation's
 * seed (a channel's mean activation: scale 1 / positions).
 */
export function oneHotSeed(rt: Runtime, shape: readonly number[], targets: Tensor, scale = 1): Tensor {
  const channels = shape[shape.length - 1];
  const seed = rt.empty(shape, 'seed');
  rt.dispatch(spec('one_hot_seed'), {
    bindings: { targets, seed },
    uniforms: { spatial: seed.size / (shape[0] * channels), channels, count: shape[0], scale },
    workgroups: rt.grid(seed.size, WORKGROUP_SIZE),
  });
  return seed;
}

const REDUCE_CODE: Record<Reduction, number> = { sum: 0, mean: 1, max: 2 };
const scoreKernel = (entry: string, score: ResolvedScore, rowFromTable = false) => ({
  shader: 'score',
  entry,
  constants: { WORKGROUP_SIZE, REDUCE: REDUCE_CODE[score.reduce], ROW_FROM_TABLE: rowFromTable ? 1 : 0 },
});

/** ranking[n, c]: the rank node's channels reduced over its positions, for 'top' and top-k. */
export function channelScores(rt: Runtime, score: ResolvedScore, values: Tensor): Tensor {
  const channels = score.channels;
  const ranking = rt.empty([values.shape[0], channels], 'score.ranking');
  rt.dispatch(scoreKernel('channel_scores', score), {
    bindings: { values, ranking },
    uniforms: { positions: score.rankPositions, channels },
    workgroups: rt.grid(ranking.size, WORKGROUP_SIZE),
  });
  return ranking;
}

/** targets [J] and masks [J, C] of the jobs [J, 2] = (image row of `ranking`, request). */
export function resolveTargets(rt: Runtime, score: ResolvedScore, jobs: Tensor, ranking: Tensor): { targets: Tensor; mask: Tensor } {
  const count = jobs.shape[0];
  const targets = rt.empty([count], 'score.targets');
  const mask = rt.empty([count, score.channels], 'score.mask');
  rt.dispatch(scoreKernel('resolve_targets', score), {
    bindings: { jobs, ranked: ranking, targets, mask },
    uniforms: { positions: score.rankPositions, channels: score.channels },
    workgroups: rt.grid(count, WORKGROUP_SIZE),
  });
  return { targets, mask };
}

/**
 * scores[n] of the score node's `values` for the rows of `table` ([n, 3] = image, copy, job):
 * of values row n, or with `rowFromTable` of values row table[n].image (one row serves all).
 */
export function itemScores(rt: Runtime, score: ResolvedScore, values: Tensor, table: Tensor, mask: Tensor, rowFromTable: boolean): Tensor {
  const scores = rt.empty([table.shape[0]], 'score.items');
  rt.dispatch(scoreKernel('item_scores', score, rowFromTable), {
    bindings: { values, table, job_mask: mask, scores },
    uniforms: { positions: score.positions, channels: score.channels },
    workgroups: rt.grid(scores.size, WORKGROUP_SIZE),
  });
  return scores;
}

/** d score_n / d values for a batch whose rows the `table` describes. */
export function scoreSeed(rt: Runtime, score: ResolvedScore, values: Tensor, table: Tensor, mask: Tensor): Tensor {
  const seed = rt.empty(values.shape, 'score.seed');
  rt.dispatch(scoreKernel('score_seed', score), {
    bindings: { values, table, job_mask: mask, seed },
    uniforms: { positions: score.positions, channels: score.channels },
    workgroups: rt.grid(seed.size, WORKGROUP_SIZE),
  });
  return seed;
}
