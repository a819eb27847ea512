/**
 * The benchmark page: gets its device the way an application does (`requestBrowserDevice`) and
 * exposes `window.runBench`, which runs bench/run.ts here (the engine and its peers in this page,
 * on the browser's adapter) and returns the report. Model files are fetched from the driver's
 * server under /node_modules/.
 */
import { requestBrowserDevice } from '../../src/gpu/device.js';
import { filesFromUrl } from '../../src/model/loaders/files.js';
import type { ModelSource } from '../models.js';
import type { BenchOptions } from '../options.js';
import type { Report } from '../report.js';
import { runBench } from '../run.js';

declare global {
  interface Window {
    /** Set once the page's module has run. */
    benchLoaded: true;
    runBench(options: BenchOptions, git: { commit?: string; dirty?: boolean }): Promise<Report>;
  }
}

const source: ModelSource = {
  files: (path) => filesFromUrl(`/node_modules/${path}`),
  readText: async (path) => {
    const response = await fetch(`/node_modules/${path}`);
    if (!response.ok) throw new Error(`GET /node_modules/${path}: HTTP ${response.status}`);
    return response.text();
  },
};

window.runBench = async (options, git) => {
  const device = await requestBrowserDevice();
  try {
    return await runBench({
      info: { runtime: `browser ${navigator.userAgent}`, hardwareConcurrency: navigator.hardwareConcurrency },
      git,
      source,
      device,
      platform: { tfjsWasmFiles: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' },
      log: (line) => console.log(`[bench] ${line}`),
    }, options);
  } finally {
    device.destroy();
  }
};
window.benchLoaded = true;
