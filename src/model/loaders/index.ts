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

export async function loadModelSpec(files: ModelFiles): Promise<ModelSpec> {
  const cached = readOnce(files);
  const json = (await cached.readModelJson()) as { format?: string; modelTopology?: { node?: unknown; class_name?: unknown; model_config?: unknown } };
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new ModelLoadError(`${files.description} is not a TensorFlow.js model.json (no modelTopology)`);
  }
  if (json.format === 'graph-model' || Array.isArray(json.modelTopology.node)) return loadGraphModel(cached);
  return loadLayersModel(cached);
}

/** A URL (http:, https:, or relative in a browser) or, in Node, a file path. */
export function modelFiles(location: string | URL): ModelFiles {
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (location instanceof URL || /^[a-z]+:\/\//i.test(location) || !isNode) return filesFromUrl(location);
  return filesFromPath(location);
}
