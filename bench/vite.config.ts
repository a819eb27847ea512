/**
 * Node build of the benchmark (`npm run bench`, `npm run bench:browser`): the settings of
 * vite.node.config.ts (SSR build, WGSL inlined by import.meta.glob, npm dependencies external)
 * with the benchmark's entries and its own output folder, so that building it never empties or
 * depends on the command line's dist-node/.
 */
import type { UserConfig } from 'vite';
import node from '../vite.node.config.js';

const base = node as UserConfig;

export default {
  ...base,
  build: {
    ...base.build,
    outDir: 'dist-bench',
    rollupOptions: {
      ...base.build?.rollupOptions,
      input: { bench: 'bench/node.ts', 'bench-browser': 'bench/browser/driver.ts', training: 'bench/training.ts', 'bench-batch': 'bench/batch.ts' },
      output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
} satisfies UserConfig;
