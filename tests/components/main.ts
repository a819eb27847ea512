/**
 * The components test page's module: defines every element, gets a device the way an
 * application does (`requestBrowserDevice`), and exposes `window.xaiTest` (see protocol.ts).
 */
import '../../src/components/index.js';
import * as engine from '../../src/index.js';
import { reluCnn, residualCnn, tinyCnn } from '../model/fixtures.js';
import { seededRandom } from '../reference/tensor.js';
import type { ComponentsTestPage, PageReady } from './protocol.js';

const FIXTURES = { tinyCnn, reluCnn, residualCnn };

let device: GPUDevice | undefined;

async function start(): Promise<PageReady> {
  try {
    device = await engine.requestBrowserDevice();
    const info = device.adapterInfo;
    return { ok: true, adapter: [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') || '(no adapter info)' };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}

const stage = document.getElementById('stage')!;

const page: ComponentsTestPage = {
  ready: start(),
  get device() {
    return device;
  },
  engine,
  async explainer(fixture, seed, options = {}) {
    if (!device) throw new Error(`no device: ${JSON.stringify(await page.ready)}`);
    return engine.Explainer.create(device, FIXTURES[fixture](seededRandom(seed)), options);
  },
  picture(width, height, seed) {
    const random = seededRandom(seed);
    const image = new ImageData(width, height);
    for (let i = 0; i < image.data.length; i++) image.data[i] = i % 4 === 3 ? 255 : Math.floor(random() * 256);
    return image;
  },
  stage,
  clear() {
    stage.replaceChildren();
  },
  canvasPixels(canvas) {
    const copy = new OffscreenCanvas(canvas.width, canvas.height);
    const context = copy.getContext('2d')!;
    context.drawImage(canvas, 0, 0);
    return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
  },
  record(target, names) {
    const events: Array<{ type: string; detail: unknown }> = [];
    for (const name of names) target.addEventListener(name, (e) => events.push({ type: e.type, detail: (e as CustomEvent).detail }));
    return events;
  },
};

window.xaiTest = page;
