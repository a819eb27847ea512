/**
 * The explanation methods benchmarked, their parameters (full and --quick), what one explanation
 * costs in images and FLOPs, and how the engine runs each one.
 *
 * FLOP convention (also in bench/README.md): F(n) = Model.flops(n), the forward pass of a batch of
 * n counted from the graph (multiply-add = 2). A gradient evaluation (forward + backward) counts
 * 3 F(n): backward = 2x forward, the usual training-step convention (gradient to the input and to
 * the weights). The methods here only need the gradient to the input, so the arithmetic they
 * really do in backward is closer to 1x forward: effective GFLOP/s by this convention overstate
 * the arithmetic executed by up to 1.5x for gradient methods. Every pass a method runs is counted:
 *   saliency        F(1) [predicted class] + 3 F(1)
 *   smoothgrad n    F(1) + 3 F(n)
 *   ig s            F(1) + F(2) [completeness: F(x), F(baseline)] + 3 F(s)
 *   occlusion w     F(1) + F(w)                         (w windows, inference only)
 *   filters k x t   t * 3 F_L(k) + 2 F(k)               (F_L: forward up to the visualized layer L;
 *                                                        2 F(k): objective at start and end)
 */
import type { Attribution } from '../src/explain/attribution.js';
import type { ExplainContext } from '../src/explain/context.js';
import { integratedGradients, type IntegrationRule } from '../src/explain/integrated_gradients.js';
import { occlusion, occlusionGeometry } from '../src/explain/occlusion.js';
import { saliency } from '../src/explain/saliency.js';
import { smoothGrad } from '../src/explain/smoothgrad.js';
import { visualizeFilters } from '../src/explain/visualize.js';
import type { Model } from '../src/model/model.js';
import type { Workload } from './models.js';

import type { MethodId } from './options.js';

export type MethodPlan =
  | { id: 'saliency' }
  | { id: 'smoothgrad'; samples: number; noise: number; seed: number }
  | { id: 'ig'; steps: number; rule: IntegrationRule }
  | { id: 'filters'; layer: string; channels: number[]; steps: number }
  | { id: 'occlusion'; window: number; stride: number };

export interface PlannedMethod {
  plan: MethodPlan;
  /** Short label for the table ("SmoothGrad 50"). */
  label: string;
  /** Images through the model per explanation (forward+backward for gradient methods, forward for occlusion). */
  images: number;
  /** FLOPs of one explanation by the convention above. */
  flops: number;
}

/** FLOPs of a forward pass of batch n through `layer` and the nodes it depends on only. */
export function flopsUpTo(model: Model, layer: string, n: number): number {
  const shapes = model.shapes(n);
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const input of model.layer(name).spec.inputs) visit(input);
  };
  visit(layer);
  let total = 0;
  for (const name of model.order) {
    if (!needed.has(name)) continue;
    const l = model.layer(name);
    total += l.flops(l.spec.inputs.map((i) => shapes.get(i)!));
  }
  return total;
}

export interface MethodSizes {
  smoothgradSamples: number;
  igSteps: number;
  filterSteps: number;
  /** At most this many channels of the filter layer (all when undefined). */
  filterChannels?: number;
  /** Occlusion window and stride; default: 1/8 of the shorter side and half of that. */
  occlusionWindow?: number;
  occlusionStride?: number;
}

/** The sizes; --quick shrinks them (see cli.ts). */
export const FULL_SIZES: MethodSizes = { smoothgradSamples: 50, igSteps: 64, filterSteps: 256 };
export const QUICK_SIZES: MethodSizes = { smoothgradSamples: 50, igSteps: 64, filterSteps: 32, occlusionWindow: 8, occlusionStride: 4 };

export function planMethod(id: MethodId, model: Model, workload: Workload, sizes: MethodSizes): PlannedMethod {
  const F = (n: number) => model.flops(n);
  const [height, width] = model.inputShape;
  switch (id) {
    case 'saliency':
      return { plan: { id }, label: 'saliency b1', images: 1, flops: F(1) + 3 * F(1) };
    case 'smoothgrad': {
      const samples = sizes.smoothgradSamples;
      return { plan: { id, samples, noise: 0.15, seed: 0 }, label: `SmoothGrad ${samples}`, images: samples, flops: F(1) + 3 * F(samples) };
    }
    case 'ig': {
      const steps = sizes.igSteps;
      return { plan: { id, steps, rule: 'gauss-legendre' }, label: `IG ${steps}`, images: steps, flops: F(1) + F(2) + 3 * F(steps) };
    }
    case 'filters': {
      const layer = workload.filterLayer;
      const all = model.shapes(1).get(layer)![3];
      const count = Math.min(all, sizes.filterChannels ?? all);
      const channels = Array.from({ length: count }, (_, c) => c);
      const steps = sizes.filterSteps;
      const label = `filters ${count === all ? 'all ' : ''}${count}ch x ${steps}`;
      return { plan: { id, layer, channels, steps }, label, images: count * steps, flops: steps * 3 * flopsUpTo(model, layer, count) + 2 * F(count) };
    }
    case 'occlusion': {
      const window = sizes.occlusionWindow ?? Math.max(1, Math.ceil(Math.min(height, width) / 8));
      const stride = sizes.occlusionStride ?? Math.max(1, window >> 1);
      const { windows } = occlusionGeometry(height, width, { window, stride });
      return { plan: { id, window, stride }, label: `occlusion ${windows}w ${window}/${stride}`, images: windows, flops: F(1) + F(windows) };
    }
  }
}

/** The engine's result of one explanation, flattened (attribution map, or the visualized images). */
export async function runEngine(ctx: ExplainContext, image: Float32Array, plan: MethodPlan): Promise<Float32Array> {
  const input = { data: image, shape: ctx.model.inputShape };
  let result: Attribution;
  switch (plan.id) {
    case 'saliency':
      result = await saliency(ctx, input, { target: 'top' });
      break;
    case 'smoothgrad':
      result = await smoothGrad(ctx, input, { target: 'top', samples: plan.samples, noise: plan.noise, seed: plan.seed });
      break;
    case 'ig':
      result = await integratedGradients(ctx, input, { target: 'top', steps: plan.steps, rule: plan.rule, baseline: 'black' });
      break;
    case 'occlusion':
      result = await occlusion(ctx, input, { target: 'top', window: plan.window, stride: plan.stride, fill: 0 });
      break;
    case 'filters':
      return (await visualizeFilters(ctx, { layer: plan.layer, channels: plan.channels, steps: plan.steps })).images;
  }
  return result.values;
}
