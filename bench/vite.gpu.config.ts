/**
 * The benchmark as one self-contained file for a GPU host with no network and no node_modules
 * (see bench/README.md, "On a GPU host"): every dependency bundled except Dawn (`webgpu`), which
 * the host gets from the GPU bundle (../shared/gpu-bundle/pack.sh), and the TF.js wasm backend's
 * binaries, copied next to it (bench/cli.ts looks there first).
 */
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Plugin, UserConfig } from 'vite';
import bench from './vite.config.js';

const TFJS_WASM = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';

const copyTfjsWasm: Plugin = {
  name: 'copy-tfjs-wasm',
  async writeBundle(options) {
    for (const file of await readdir(TFJS_WASM)) {
      if (file.endsWith('.wasm')) await copyFile(join(TFJS_WASM, file), join(options.dir!, file));
    }
  },
};

const base = bench as UserConfig;

export default {
  ...base,
  ssr: { noExternal: true, external: ['webgpu'] },
  plugins: [...(base.plugins ?? []), copyTfjsWasm],
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
