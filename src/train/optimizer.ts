/**
 * Optimizer state for a model's weights: a velocity (SGD) or two moments (Adam) per weight tensor,
 * zero at the start, kept on the GPU between steps.
 */
import { OptionError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { adamStep, sgdStep } from '../ops/optimizer.js';

export type OptimizerOptions =
  | { kind: 'sgd'; learningRate: number; momentum?: number }
  | { kind: 'adam'; learningRate?: number; beta1?: number; beta2?: number; epsilon?: number };

function unitInterval(value: number, name: string): number {
  if (!(value >= 0 && value < 1)) throw new OptionError(`${name} must be in [0, 1), got ${value}`);
  return value;
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new OptionError(`${name} must be a finite number > 0, got ${value}`);
  return value;
}

export interface ResolvedOptimizer {
  kind: OptimizerOptions['kind'];
  settings: Record<string, number>;
}

/** Checks the options (before any GPU work) and fills in the defaults. */
export function resolveOptimizer(options: OptimizerOptions | undefined, weightDecay: number): ResolvedOptimizer {
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new OptionError(`weightDecay must be a finite number >= 0, got ${weightDecay}`);
  const o = options ?? { kind: 'adam' };
  if (o.kind === 'sgd') {
    return { kind: 'sgd', settings: { learningRate: positive(o.learningRate, 'learningRate'), momentum: unitInterval(o.momentum ?? 0, 'momentum'), weightDecay } };
  }
  if (o.kind === 'adam') {
    return {
      kind: 'adam',
      settings: {
        learningRate: positive(o.learningRate ?? 1e-3, 'learningRate'), beta1: unitInterval(o.beta1 ?? 0.9, 'beta1'),
        beta2: unitInterval(o.beta2 ?? 0.999, 'beta2'), epsilon: positive(o.epsilon ?? 1e-7, 'epsilon'), weightDecay,
      },
    };
  }
  throw new OptionError(`Unknown optimizer '${String((o as { kind: unknown }).kind)}' (use 'sgd' or 'adam')`);
}

export class Optimizer {
  private readonly state = new Map<Tensor, Tensor[]>();
  private steps = 0;

  constructor(
    private readonly rt: Runtime,
    private readonly resolved: ResolvedOptimizer,
  ) {}

  /** Multiplies the learning rate (a schedule's factor for the coming steps). */
  learningRateScale = 1;

  /** Counts one step; call once per mini-batch, before `update` of its weights. */
  beginStep(): void {
    this.steps++;
  }

  /** Applies `grad` to `weights` in place. */
  update(weights: Tensor, grad: Tensor): void {
    const { kind, settings } = this.resolved;
    let buffers = this.state.get(weights);
    if (!buffers) {
      buffers = (kind === 'sgd' ? ['velocity'] : ['first_moment', 'second_moment']).map((label) => {
        const t = this.rt.empty(weights.shape, `optimizer.${label}`);
        this.rt.fill(t, 0);
        return t;
      });
      this.state.set(weights, buffers);
    }
    if (kind === 'sgd') {
      sgdStep(this.rt, weights, grad, buffers[0], { learningRate: settings.learningRate * this.learningRateScale, momentum: settings.momentum, weightDecay: settings.weightDecay });
    } else {
      adamStep(this.rt, weights, grad, buffers[0], buffers[1], {
        learningRate: settings.learningRate * this.learningRateScale, beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon, weightDecay: settings.weightDecay, step: this.steps,
      });
    }
  }

  dispose(): void {
    for (const buffers of this.state.values()) for (const t of buffers) t.dispose();
    this.state.clear();
  }
}
