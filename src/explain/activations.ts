/**
 * A layer's activations for one image: one inference forward that keeps that node, one read.
 * Also the layer checks Grad-CAM shares (which nodes exist, which have spatial [1, h, w, K] outputs).
 */
import { OptionError } from '../errors.js';
import type { Model } from '../model/model.js';
import { prepareImage, type ExplainContext, type ImageInput } from './context.js';

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

export async function activations(ctx: ExplainContext, image: ImageInput, options: ActivationsOptions): Promise<LayerActivations> {
  const started = performance.now();
  const layer = options?.layer;
  const shape = layerShape(ctx.model, layer);
  const input = prepareImage(ctx, image);
  const pass = ctx.model.forward(input.tensor, { keep: [layer] });
  try {
    const values = await ctx.rt.read(pass.value(layer));
    return { layer, values, shape, milliseconds: performance.now() - started };
  } finally {
    pass.dispose();
    if (input.owned) input.tensor.dispose();
  }
}
