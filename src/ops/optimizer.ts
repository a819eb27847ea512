/**
 * One optimizer step on one weight tensor, in place on the GPU (formulas in shaders/optimizer.wgsl):
 * SGD with momentum and coupled L2 weight decay, and Adam with decoupled weight decay (AdamW).
 * The caller owns the state tensors (velocity, moments), zero-filled before the first step.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

const WORKGROUP_SIZE = 64;

function sameSize(what: string, weights: Tensor, others: Tensor[]): void {
  for (const t of others) {
    if (t.size !== weights.size) throw new ShapeError(`${what}: a state or gradient tensor has ${t.size} elements, the weights ${weights.size}`);
  }
}

export interface SgdStep {
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

export function sgdStep(rt: Runtime, weights: Tensor, grad: Tensor, velocity: Tensor, step: SgdStep): void {
  sameSize('sgdStep', weights, [grad, velocity]);
  rt.dispatch({ shader: 'optimizer', entry: 'sgd', constants: { WORKGROUP_SIZE } }, {
    bindings: { weights, grad, velocity },
    uniforms: { size: weights.size, learning_rate: step.learningRate, weight_decay: step.weightDecay, momentum: step.momentum },
    workgroups: rt.grid(weights.size, WORKGROUP_SIZE),
  });
}

export interface AdamStep {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
  /** 1 at the first step (the bias corrections depend on it). */
  step: number;
}

export function adamStep(rt: Runtime, weights: Tensor, grad: Tensor, firstMoment: Tensor, secondMoment: Tensor, s: AdamStep): void {
  sameSize('adamStep', weights, [grad, firstMoment, secondMoment]);
  const correction2 = Math.sqrt(1 - s.beta2 ** s.step);
  rt.dispatch({ shader: 'optimizer', entry: 'adam', constants: { WORKGROUP_SIZE } }, {
    bindings: { weights, grad, first_moment: firstMoment, second_moment: secondMoment },
    uniforms: {
      size: weights.size, learning_rate: s.learningRate, weight_decay: s.weightDecay, beta1: s.beta1, beta2: s.beta2, one_minus_beta1: 1 - s.beta1, one_minus_beta2: 1 - s.beta2,
      step_size: (s.learningRate * correction2) / (1 - s.beta1 ** s.step), epsilon_hat: s.epsilon * correction2,
    },
    workgroups: rt.grid(weights.size, WORKGROUP_SIZE),
  });
}
