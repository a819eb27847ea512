/**
 * Two builds from one config:
 *
 * - the library (`vite build`, `npm run build`): ES modules in dist/ for the package's four
 *   entry points ('.', './components', './node', './ops'), the WGSL inlined by import.meta.glob, every
 *   npm package (lit, @lit/task, wgsl_reflect, webgpu, pngjs, jpeg-js) and every node: builtin
 *   left as an import; type declarations come from `tsc -p tsconfig.build.json`;
 * - the demo (`vite`, `npm start`; `vite build --mode demo`, `npm run build:demo`): the static
 *   site in demo/, built to dist-demo/, with the bundled models copied into demo/public/models/
 *   first (scripts/copy-models.mjs).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { copyModels } from './scripts/copy-models.mjs';

const ROOT = import.meta.dirname;

/**
 * The package's dependencies, peer and optional dependencies (and their subpaths), and node:
 * builtins stay imports of the built library; compiler helpers (decorators) are bundled.
 */
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
const externalPackages = [...new Set(['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((k) => Object.keys(pkg[k] ?? {})))];
const isExternal = (id: string) => id.startsWith('node:') || externalPackages.some((name) => id === name || id.startsWith(`${name}/`));

/** Copies the demo's models and face photo before the dev server or the demo build starts. */
function demoModels(): Plugin {
  return {
    name: 'webgpu-xai:copy-models',
    async buildStart() {
      await copyModels();
    },
    async configureServer() {
      await copyModels();
    },
  };
}

export default defineConfig(({ command, mode }) => {
  if (command === 'build' && mode !== 'demo') {
    return {
      publicDir: false,
      build: {
        outDir: 'dist',
        emptyOutDir: true,
        target: 'es2022',
        // not shipped: the readable, unminified build is its own map
        sourcemap: false,
        minify: false,
        lib: {
          entry: {
            index: resolve(ROOT, 'src/index.ts'),
            components: resolve(ROOT, 'src/components/index.ts'),
            node: resolve(ROOT, 'src/node.ts'),
            ops: resolve(ROOT, 'src/ops/index.ts'),
          },
          formats: ['es'],
        },
        rolldownOptions: {
          external: isExternal,
          output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
        },
      },
    };
  }
  return {
    root: resolve(ROOT, 'demo'),
    base: './',
    plugins: [demoModels()],
    // lit and wgsl_reflect are plain ES modules: served as they are, no pre-bundling pass that
    // would reload the page on first visit.
    optimizeDeps: { noDiscovery: true, include: [] },
    server: { host: '127.0.0.1', fs: { allow: [ROOT] } },
    preview: { host: '127.0.0.1' },
    build: {
      outDir: resolve(ROOT, 'dist-demo'),
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: true,
      // every page of the demo: the explanations and the shortcut study
      rolldownOptions: { input: { index: resolve(ROOT, 'demo/index.html'), shortcut: resolve(ROOT, 'demo/shortcut.html') } },
    },
  };
});
