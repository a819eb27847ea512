/**
 * Node builds of the command line, the model check and the benchmark: Vite inlines the WGSL
 * (import.meta.glob) exactly as in the browser build; npm dependencies stay external imports.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    ssr: true,
    outDir: 'dist-node',
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rollupOptions: {
      input: {
        cli: 'src/cli/bin.ts',
        'check-models': 'scripts/check-models.ts',
      },
      output: { entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});
