/** Loads a TF.js model of either format from files, picking the loader from model.json. */
import type { ModelSpec } from '../spec.js';
import { ModelLoadError, filesFromPath, filesFromUrl, type ModelFiles } from './files.js';
import { loadGraphModel } from './graph_model.js';
import { loadLayersModel } from './layers_model.js';

/** model.json is read once and handed to whichever loader the format calls for. */
function readOnce(files: ModelFiles): ModelFiles {
  let json: Promise<unknown> | undefined;
  return { ...files, description: files.description, readModelJson: () => (json ??= files.readModelJson()) };
}

export interface LoadOptions {
  /**
   * The node to explain, for models with several outputs (or to cut a model at an inner node): a
   * graph node ("name" or "name:0") or signature output key of a graph model, a layer name of a
   * Layers model. Default: the model's single output; a model with several is refused with their names.
   */
  output?: string;
}

export async function loadModelSpec(files: ModelFiles, options: LoadOptions = {}): Promise<ModelSpec> {
  const cached = readOnce(files);
  const json = (await cached.readModelJson()) as { format?: string; modelTopology?: { node?: unknown; class_name?: unknown; model_config?: unknown } };
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ModelLoadError(`${files.description} is not a TensorFlow.js model.json (no modelTopology)`);
  }
  if (json.format === 'graph-model' || Array.isArray(json.modelTopology.node)) return loadGraphModel(cached, options);
  return loadLayersModel(cached, options);
}

/** A URL (http:, https:, or relative in a browser) or, in Node, a file path. */
export function modelFiles(location: string | URL): ModelFiles {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (location instanceof URL || /^[a-z]+:\/\//i.test(location) || !isNode) return filesFromUrl(location);
  return filesFromPath(location);
}
