/**
 * Node builds of the training scripts (`npm run train:*`): an SSR build like vite.node.config.ts,
 * so the WGSL is inlined by import.meta.glob; npm dependencies stay external imports.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    ssr: true,
    outDir: 'dist-train',
    emptyOutDir: true,
    target: 'node20',
    rollupOptions: {
      input: { 'train-digits': 'scripts/train-digits.ts', 'train-shortcut': 'scripts/train-shortcut.ts' },
      output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
