/**
 * The benchmark as one self-contained file for a GPU host with no network and no node_modules
 * (see bench/README.md, "On a GPU host"): every dependency bundled except Dawn (`webgpu`), which
 * the host gets from the GPU bundle (../shared/gpu-bundle/pack.sh).
 */
import type { UserConfig } from 'vite';
import bench from './vite.config.js';

const base = bench as UserConfig;

export default {
  ...base,
  ssr: { noExternal: true, external: ['webgpu'] },
  build: {
    ...base.build,
    outDir: 'dist-bench-gpu',
    sourcemap: false,
    rollupOptions: {
      ...base.build?.rollupOptions,
      input: { bench: 'bench/node.ts' },
      output: { entryFileNames: '[name].js', codeSplitting: false },
    },
  },
} satisfies UserConfig;
