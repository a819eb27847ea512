/**
 * Node builds, the WGSL inlined by import.meta.glob exactly as in the browser build, npm
 * dependencies left as imports:
 *
 * - the command line (`npm run build:node`, shipped as the package's bin): dist-node/cli.js. It
 *   reaches the engine only through the package's entry points (src/index.ts, src/node.ts), which
 *   stay imports of the library build by the package's own name ('webgpu-xai', 'webgpu-xai/node':
 *   Node resolves a package's self-reference through its "exports"), so the engine ships once.
 *   The file gets its run bit here, as npm would give it on install.
 * - the repository's scripts (`--mode scripts`, not shipped): dist-scripts/check-models.js, which
 *   imports TF.js, a development dependency.
 */
import { chmod } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const ROOT = import.meta.dirname;
const ENTRY_POINTS: Record<string, string> = {
  [resolve(ROOT, 'src/index.ts')]: 'webgpu-xai',
  [resolve(ROOT, 'src/node.ts')]: 'webgpu-xai/node',
};

/** Imports of src/index.ts and src/node.ts become imports of the built package. */
function importLibraryBuild(): Plugin {
  return {
    name: 'webgpu-xai:import-library-build',
    enforce: 'pre',
    resolveId(source, importer) {
      if (!importer || !source.startsWith('.')) return null;
      const target = ENTRY_POINTS[resolve(dirname(importer), source).replace(/\.js$/, '.ts')];
      return target ? { id: target, external: true } : null;
    },
  };
}

/** Makes the built bin executable (npm does so only when it installs a package). */
function executable(file: string): Plugin {
  return {
    name: 'webgpu-xai:executable',
    async writeBundle(options) {
      await chmod(resolve(options.dir!, file), 0o755);
    },
  };
}

export default defineConfig(({ mode }) => {
  const scripts = mode === 'scripts';
  const input: Record<string, string> = scripts ? { 'check-models': 'scripts/check-models.ts', 'check-directional': 'scripts/check-directional.ts' } : { cli: 'src/cli/bin.ts' };
  return {
    plugins: scripts ? [] : [importLibraryBuild(), executable('cli.js')],
    build: {
      ssr: true,
      outDir: scripts ? 'dist-scripts' : 'dist-node',
      emptyOutDir: true,
      target: 'node20',
      sourcemap: scripts,
      rollupOptions: {
        input,
        output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  };
});
