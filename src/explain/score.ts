/**
 * What gets explained: a score per batch item (a class logit or probability, or a channel's mean
 * activation), turned into the gradient seed of the backward pass. Targets live on the GPU so that
 * 'top' (the predicted class) never needs a readback.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Model } from '../model/model.js';

const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'attribution', entry, constants: { WORKGROUP_SIZE } });

export type Target = 'top' | number;
export type Score = 'logit' | 'probability';

/** The node whose output is the score: the logits, or the model output (probabilities). */
export function scoreNode(model: Model, score: Score = 'logit'): string {
  if (score === 'logit') return model.logitsName;
  if (score === 'probability') return model.outputName;
  throw new OptionError(`score must be 'logit' or 'probability', got '${String(score)}'`);
}

/** Number of classes (or units) the score node has per item. */
export function classCount(model: Model, node: string): number {
  const shape = model.shapes(1).get(node)!;
  return shape[shape.length - 1];
}

export function checkTarget(model: Model, node: string, target: Target): void {
  if (target === 'top') return;
  if (typeof target === 'string') {
    const hint = /^\d+$/.test(target) ? `: pass ${target} as a number` : ' (map a class name to its index with the model\'s labels)';
    throw new OptionError(`target must be 'top' or a class index (a number), got the string '${target}'${hint}`);
  }
  const classes = classCount(model, node);
  if (!Number.isInteger(target) || target < 0 || target >= classes) {
    throw new OptionError(`target ${String(target)} is out of range: the model has ${classes} classes (0..${classes - 1}), or use 'top'`);
  }
}

/** targets[n] = argmax of `values` [N, C] per row. */
export function argmaxTargets(rt: Runtime, values: Tensor): Tensor {
  const n = values.shape[0];
  const targets = rt.empty([n], 'targets');
  rt.dispatch(spec('argmax_rows'), {
    bindings: { values, target_out: targets },
    uniforms: { spatial: 1, channels: values.size / n, count: n, scale: 1 },
    workgroups: rt.grid(n, WORKGROUP_SIZE),
  });
  return targets;
}

/** A [N] tensor holding the same class index for every item. */
export function constantTargets(rt: Runtime, n: number, index: number): Tensor {
  const targets = rt.empty([n], 'targets');
  rt.fill(targets, index);
  return targets;
}

/**
 * d score / d node for a node output of shape `shape` ([N, ..., C]): `scale` at channel
 * targets[n] of every position. Logits: scale 1; a channel's mean activation: 1 / positions.
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
