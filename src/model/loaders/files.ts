/**
 * Where a model's files come from: URLs through `fetch` (browser or Node) or local paths (Node),
 * or an in-memory map (files a user dropped on a page). Loaders name files relative to model.json.
 */
import { XaiError } from '../../errors.js';

export class ModelLoadError extends XaiError {
  override readonly code = 'MODEL_LOAD';
}

/**
 * The model is well formed but uses something this engine does not run (an op, an attribute
 * value, a pattern). The message names the node and its op and lists what is supported.
 */
export class UnsupportedModelError extends XaiError {
  override readonly code = 'MODEL_UNSUPPORTED';
  /** The graph node or layer at fault and its op or class, when known. */
  readonly node: string | undefined;
  readonly op: string | undefined;
  constructor(message: string, where: { node?: string; op?: string } = {}, options?: ErrorOptions) {
    super(message, options);
    this.node = where.node;
    this.op = where.op;
  }
}

export interface ModelFiles {
  /** For messages: the URL or path of model.json. */
  readonly description: string;
  /** model.json itself. */
  readModelJson(): Promise<unknown>;
  /** A file named relative to model.json (a weight shard path from the manifest). */
  readBinary(relativePath: string): Promise<ArrayBuffer>;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ModelLoadError(`${where} is not valid JSON: ${String(cause)}`, { cause });
  }
}

/** model.json at `url`; shards resolved against it. */
export function filesFromUrl(url: string | URL, fetchImpl: typeof fetch = globalThis.fetch): ModelFiles {
  const base = new URL(url, globalThis.location?.href);
  const get = async (target: URL) => {
    let response: Response;
    try {
      response = await fetchImpl(target);
    } catch (cause) {
      throw new ModelLoadError(`Could not fetch ${target.href}: ${String(cause)}`, { cause });
    }
    if (!response.ok) throw new ModelLoadError(`Fetching ${target.href} failed: HTTP ${response.status} ${response.statusText}`);
    return response;
  };
  return {
    description: base.href,
    readModelJson: async () => parseJson(await (await get(base)).text(), base.href),
    readBinary: async (path) => (await get(new URL(path, base))).arrayBuffer(),
  };
}

/** model.json at a local path (Node only; node:fs is imported lazily so browsers never load it). */
export function filesFromPath(modelJsonPath: string): ModelFiles {
  const read = async (path: string) => {
    const { readFile } = await import('node:fs/promises');
    try {
      return await readFile(path);
    } catch (cause) {
      throw new ModelLoadError(`Cannot read ${path}: ${(cause as Error).message}`, { cause });
    }
  };
  const directory = modelJsonPath.slice(0, modelJsonPath.lastIndexOf('/') + 1);
  return {
    description: modelJsonPath,
    readModelJson: async () => parseJson((await read(modelJsonPath)).toString('utf8'), modelJsonPath),
    readBinary: async (path) => {
      const bytes = await read(directory + path);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Files held in memory: model.json's parsed content and shards by manifest path (e.g. a file drop). */
export function filesFromMemory(description: string, modelJson: unknown, shards: Map<string, ArrayBuffer>): ModelFiles {
  return {
    description,
    readModelJson: async () => modelJson,
    readBinary: async (path) => {
      const shard = shards.get(path) ?? shards.get(path.slice(path.lastIndexOf('/') + 1));
      if (!shard) throw new ModelLoadError(`${description}: weight file '${path}' was not provided (have: ${[...shards.keys()].join(', ') || 'none'})`);
      return shard;
    },
  };
}
