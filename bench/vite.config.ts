/**
 * Node build of the benchmark (`npm run bench`, `npm run bench:browser`, `bench:batch`,
 * `bench:training`, `bench:perturbation`): an SSR build like vite.node.config.ts (WGSL inlined by import.meta.glob, npm
 * dependencies external) with the benchmark's entries and its own output folder, so that building
 * it never empties or depends on the command line's dist-node/. It imports the engine from the
 * sources (not the package build, as the CLI does): the benchmark times this checkout.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    ssr: true,
    outDir: 'dist-bench',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rollupOptions: {
      input: { bench: 'bench/node.ts', 'bench-browser': 'bench/browser/driver.ts', training: 'bench/training.ts', 'bench-batch': 'bench/batch.ts', perturbation: 'bench/perturbation.ts', 'emotion-forward': 'bench/emotion-forward.ts' },
      output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
