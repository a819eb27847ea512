/**
 * The browser test page's module: gets a device the way an application does
 * (`requestBrowserDevice`), builds a poisoning Runtime, and exposes `window.runCase` so that the
 * Node side can run any case of cases.ts and check the results against the float64 reference.
 */
import { requestBrowserDevice } from '../../src/gpu/device.js';
import { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { CASES } from './cases.js';
import type { CaseTensor, PageReady } from './protocol.js';

let runtime: Runtime | undefined;

function describeAdapter(info: GPUAdapterInfo): string {
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || '(adapter reports no info)';
}

async function start(): Promise<PageReady> {
  try {
    const device = await requestBrowserDevice();
    // Unwritten elements read back as NaN, as in the Node tests.
    runtime = new Runtime(device, { poison: true });
    return { ok: true, adapter: describeAdapter(device.adapterInfo), cases: Object.keys(CASES) };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

window.xaiReady = start();

window.runCase = async (name, inputs, params = {}) => {
  const rt = runtime;
  if (!rt) throw new Error(`runCase('${name}'): the page has no GPU runtime (${JSON.stringify(await window.xaiReady)})`);
  const run = CASES[name];
  if (!run) throw new Error(`runCase: no case '${name}' (have: ${Object.keys(CASES).join(', ')})`);
  const uploaded: Record<string, Tensor> = {};
  for (const [key, t] of Object.entries(inputs)) uploaded[key] = rt.upload(t.shape, t.data, key);
  const outputs = run(rt, uploaded, params);
  const results: Record<string, CaseTensor> = {};
  try {
    // The first read submits the whole case; later reads only copy.
    for (const [key, t] of Object.entries(outputs)) results[key] = { shape: [...t.shape], data: Array.from(await rt.read(t)) };
  } finally {
    for (const t of [...Object.values(uploaded), ...Object.values(outputs)]) t.dispose();
  }
  return results;
};
