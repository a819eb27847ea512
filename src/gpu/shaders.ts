/**
 * The WGSL sources in `shaders/`, by file name without extension. One loader for every context:
 * Vite's `import.meta.glob` inlines the files as strings in the dev server, in library builds and
 * in Vitest, so Node scripts run through Vite too (vite-node / SSR builds) and never read files at run time.
 */
const sources = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });

const byName = new Map<string, string>(
  Object.entries(sources).map(([path, code]) => [path.slice(path.lastIndexOf('/') + 1, -'.wgsl'.length), code]),
);

/** The source of `shaders/<name>.wgsl`. */
export function shaderSource(name: string): string {
  const code = byName.get(name);
  if (code === undefined) throw new Error(`No shader 'shaders/${name}.wgsl' (have: ${[...byName.keys()].join(', ')})`);
  return code;
}
