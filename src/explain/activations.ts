/**
 * A layer's activations for one image or many: inference forwards (planned chunks) that keep that
 * node, one read per group of images.
 * Also the layer checks Grad-CAM shares (which nodes exist, which have spatial [1, h, w, K] outputs).
 */
import { OptionError } from '../errors.js';
import type { Model } from '../model/model.js';
import { imageList, type ImageBatch, type ManyImages } from './batch.js';
import type { ExplainContext, ImageInput } from './context.js';
import { planWork } from './planner.js';
import type { RunOptions } from './progress.js';
import { Schedule } from './schedule.js';

export interface ActivationsOptions {
  /** Node name (a layer, or the input node). */
  layer: string;
}

export interface LayerActivations {
  layer: string;
  /** The node's output for the image, row-major (NHWC without the batch). */
  values: Float32Array;
  /** The node's output shape without the batch: [h, w, K] for spatial layers, [K] for dense ones. */
  shape: number[];
  milliseconds: number;
}

/** The output shape of `layer` without the batch; throws (listing the nodes) for an unknown name. */
export function layerShape(model: Model, layer: unknown): number[] {
  if (typeof layer !== 'string' || !model.layers.has(layer)) {
    throw new OptionError(`No layer '${String(layer)}' in ${model.spec.source} (layers: ${model.order.join(', ')})`);
  }
  return model.shapes(1).get(layer)!.slice(1);
}

/** Nodes with a spatial output [1, h, w, K] (the input excluded): the layers Grad-CAM can explain. */
export function spatialLayers(model: Model): string[] {
  const shapes = model.shapes(1);
  return model.order.filter((name) => name !== model.inputName && shapes.get(name)!.length === 4);
}

export async function activations<I extends ImageInput | ImageBatch>(ctx: ExplainContext, images: I, options: ActivationsOptions & RunOptions): Promise<ManyImages<I> extends true ? LayerActivations[] : LayerActivations> {
  const started = performance.now();
  const { rt, model } = ctx;
  const layer = options?.layer;
  const shape = layerShape(ctx.model, layer);
  const size = shape.reduce((a, b) => a * b, 1);
  const list = imageList(ctx, images);
  const plan = planWork(ctx, { images: list.count, jobsPerImage: 1, copiesPerJob: 1, pass: { keep: [layer] }, imageFloats: size, jobFloats: 0, copyFloats: 0 });
  const schedule = new Schedule(rt, options, list.count, ctx.pace ?? (ctx.pace = new Map()), `activations:${model.spec.source}`, model.flops(1));
  const results: LayerActivations[] = [];
  for (let first = 0; first < list.count; first += plan.imagesPerGroup) {
    schedule.checkAborted();
    const n = Math.min(plan.imagesPerGroup, list.count - first);
    const taken = list.take(rt, first, n);
    const values = rt.empty([n, size], 'activations');
    try {
      await schedule.run(n, plan.copiesPerChunk, (start, count) => {
        const part = count === n ? taken.tensor : rt.empty([count, ...model.inputShape], 'activations.images');
        if (part !== taken.tensor) rt.copy(taken.tensor, part, part.size, start * (part.size / count), 0);
        const pass = model.forward(part, { keep: [layer] });
        rt.copy(pass.value(layer), values, count * size, 0, start * size);
        pass.dispose();
        if (part !== taken.tensor) part.dispose();
      });
      const read = await rt.read(values);
      const ms = performance.now() - started;
      for (let i = 0; i < n; i++) results.push({ layer, values: read.slice(i * size, (i + 1) * size), shape, milliseconds: ms });
    } finally {
      values.dispose();
      if (taken.owned) taken.tensor.dispose();
    }
  }
  return (list.single ? results[0] : results) as ManyImages<I> extends true ? LayerActivations[] : LayerActivations;
}
