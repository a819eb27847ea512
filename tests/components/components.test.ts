/**
 * The Lit components in a real browser: Chromium (puppeteer) loads tests/components/index.html
 * from a Vite dev server; each test builds elements on that page around an Explainer of a tiny
 * fixture model (tests/model/fixtures.ts) and checks what they render, the events they fire, and
 * the heatmap's pixels against the CPU colormap (src/explain/colormap.ts) of the same values.
 * Skipped where /usr/bin/chromium is missing; with WEBGPU_XAI_REQUIRE_ADAPTER=1 a missing
 * Chromium or WebGPU adapter fails instead. WEBGPU_XAI_SCREENSHOT=<file.png> saves a picture of
 * <xai-explainer> and <xai-compare> with their results.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as tf from '@tensorflow/tfjs';
import { PNG } from 'pngjs';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absPercentile, normalizeByPercentile, reduceChannels } from '../../src/explain/attribution.js';
import { divergingColor, sequentialColor } from '../../src/explain/colormap.js';
import { freshSeed } from '../check.js';
import { seededRandom } from '../reference/tensor.js';
import { CHROMIUM, PAGE_PATH, closeBrowser, launchBrowser, openPage, startServer, type Browser, type Page } from './harness.js';
import type { PageReady } from './protocol.js';

const required = Boolean(process.env.WEBGPU_XAI_REQUIRE_ADAPTER);
const hasChromium = existsSync(CHROMIUM);
const describeBrowser = hasChromium || required ? describe : describe.skip;

/** Files the dev server serves under /__xai-fixtures/ (a TF.js model and a PNG made by the tests). */
const FIXTURE_ROUTE = '/__xai-fixtures';
const fixtureFiles = new Map<string, { type: string; body: Uint8Array }>();

function serveFixtures(server: ViteDevServer): void {
  const handle = (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const file = fixtureFiles.get((req.url ?? '').split('?')[0]);
    if (!file) return next();
    res.setHeader('Content-Type', file.type);
    res.end(file.body);
  };
  // ahead of Vite's own middlewares (its last one answers 404 for anything unknown)
  (server.middlewares.stack as Array<{ route: string; handle: unknown }>).unshift({ route: FIXTURE_ROUTE, handle });
}

/** A TF.js Layers model (conv, pool, dense softmax) on a 12 x 10 x 3 input, as model.json + one weight shard. */
async function layersModelFiles(random: () => number): Promise<void> {
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [12, 10, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }),
      tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'probabilities' }),
    ],
  });
  model.setWeights(model.weights.map((w) => tf.tensor(Float32Array.from({ length: w.shape.reduce((a, b) => a! * b!, 1)! }, () => random() * 2 - 1), w.shape as number[])));
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    const data = artifacts.weightData!;
    const weights = new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
    const json = { format: 'layers-model', generatedBy: 'components test', modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }] };
    fixtureFiles.set('/model/model.json', { type: 'application/json', body: new TextEncoder().encode(JSON.stringify(json)) });
    fixtureFiles.set('/model/weights.bin', { type: 'application/octet-stream', body: weights });
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  model.dispose();
}

/** A 40 x 48 PNG: a bright disc on a gradient. */
function picturePng(): void {
  const png = new PNG({ width: 40, height: 48 });
  for (let y = 0; y < 48; y++) {
    for (let x = 0; x < 40; x++) {
      const disc = (x - 25) ** 2 + (y - 20) ** 2 < 9 ** 2;
      png.data.set(disc ? [240, 200, 60, 255] : [40 + x * 3, 90, 200 - y * 3, 255], (y * 40 + x) * 4);
    }
  }
  fixtureFiles.set('/picture.png', { type: 'image/png', body: PNG.sync.write(png) });
}

/** Largest difference per colour channel allowed between the GPU heatmap and the CPU colormap (8-bit rounding). */
const COLOUR_TOLERANCE = 2;

interface Expected {
  /** The [mapH, mapW] values, already divided by the scale (t: [0, 1] or [-1, 1]). */
  normalized: ArrayLike<number>;
  mapWidth: number;
  mapHeight: number;
  diverging: boolean;
  /** RGBA picture under the map (the output takes its size), or none (the map's size). */
  image?: { width: number; height: number; data: ArrayLike<number> };
  opacity: number;
}

/**
 * The heatmap the CPU draws: nearest map pixel floor((x + 0.5) * mapW / outW), colormap, then
 * mix(picture, colour, opacity), as shaders/heatmap.wgsl says it does.
 */
function cpuHeatmap(e: Expected): { width: number; height: number; data: Uint8ClampedArray } {
  const width = e.image?.width ?? e.mapWidth;
  const height = e.image?.height ?? e.mapHeight;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const mx = Math.floor(((x + 0.5) * e.mapWidth) / width);
      const my = Math.floor(((y + 0.5) * e.mapHeight) / height);
      const t = e.normalized[my * e.mapWidth + mx];
      const colour = e.diverging ? divergingColor(t) : sequentialColor(t);
      const at = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) {
        data[at + c] = e.image ? Math.round(e.image.data[at + c] * (1 - e.opacity) + colour[c] * e.opacity) : colour[c];
      }
      data[at + 3] = 255;
    }
  }
  return { width, height, data };
}

function maxColourDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length, 'pixel count').toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

/** The page's problems less the bad model URL's 404 (its console error and failed request), which one test causes on purpose. */
const BAD_MODEL_URL = '/tests/components/no-such-model/model.json';
const unexpected = (problems: string[]) => problems.filter((p) => !p.includes(BAD_MODEL_URL) && !/Failed to load resource: .*404/.test(p));

/** Every method of the components' method table (src/components/internal/methods.ts), in its order. */
const METHOD_NAMES = ['saliency', 'smoothgrad', 'integrated-gradients', 'gradcam', 'occlusion', 'guided-backprop', 'layercam', 'scorecam', 'rise', 'lime', 'kernelshap', 'gradientshap', 'deeplift'];

/** Values divided by a fixed scale and clipped, as the heatmap does with `scale` set. */
const byScale = (values: ArrayLike<number>, scale: number) => Float32Array.from(values, (v) => Math.max(-1, Math.min(1, v / scale)));

describeBrowser(`components (${CHROMIUM}, WebGPU on SwiftShader)`, () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let profile: string | undefined;
  let page: Page;
  let problems: string[] = [];
  let ready: PageReady;
  const seed = freshSeed();

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but ${CHROMIUM} is missing (Debian: apt-get install chromium)`);
    console.log(`[components] seed=${seed} (replay with WEBGPU_XAI_SEED=${seed})`);
    const started = await startServer();
    server = started.server;
    serveFixtures(server);
    await layersModelFiles(seededRandom(seed));
    picturePng();
    ({ browser, profile } = await launchBrowser());
    ({ page, problems } = await openPage(browser, started.origin + PAGE_PATH));
    await page.waitForFunction(() => 'xaiTest' in window, { timeout: 30_000 });
    ready = await page.evaluate(() => window.xaiTest.ready);
    if (ready.ok) console.log(`[browser-adapter] ${ready.adapter}`);
    else if (required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${ready.error}`);
    else console.warn(`components tests skipped: ${ready.error}`);
  });

  afterAll(async () => {
    try {
      await closeBrowser(browser, profile);
    } finally {
      await server?.close();
    }
  });

  const needsAdapter = (skip: (note?: string) => void) => {
    if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
  };

  it('<xai-heatmap> auto palette: IG and occlusion diverging even without a negative value; Grad-CAM and saliency (magnitudes) sequential; a signed reduction with a negative value diverging', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async () => {
      const t = window.xaiTest;
      t.clear();
      const palette = async (method: string, values: number[], reduction: 'auto' | 'sum' = 'auto') => {
        const heatmap = document.createElement('xai-heatmap');
        heatmap.device = t.device;
        heatmap.reduction = reduction;
        heatmap.attribution = { method, values: Float32Array.from(values), shape: [2, 2, 1], target: 0, milliseconds: 1 };
        t.stage.append(heatmap);
        await heatmap.drawComplete;
        return heatmap.colormapInUse;
      };
      const positive = [0, 0.5, 1, 2];
      const mixed = [0, -0.5, 1, 2];
      return {
        ig: await palette('integrated-gradients', positive),
        occlusion: await palette('occlusion', positive),
        gradCam: await palette('grad-cam', positive),
        saliency: await palette('saliency', positive),
        saliencyMixed: await palette('saliency', mixed),
        saliencySummed: await palette('saliency', mixed, 'sum'),
      };
    });
    expect(out).toEqual({ ig: 'diverging', occlusion: 'diverging', gradCam: 'sequential', saliency: 'sequential', saliencyMixed: 'sequential', saliencySummed: 'diverging' });
  });

  it('<xai-heatmap> map [3,4,1] alone: percentile scale, sequential palette, pixels equal the CPU colormap; .npy and PNG', async ({ skip }) => {
    needsAdapter(skip);
    // 12 magnitudes, the largest far above the rest so that the 99th percentile clips nothing but itself
    const values = [0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 4];
    const out = await page.evaluate(async (values) => {
      const t = window.xaiTest;
      t.clear();
      const heatmap = document.createElement('xai-heatmap');
      heatmap.device = t.device;
      heatmap.attribution = { method: 'test', values: Float32Array.from(values), shape: [3, 4, 1], target: 2, milliseconds: 1 };
      heatmap.label = 'Test map';
      t.stage.append(heatmap);
      await heatmap.drawComplete;
      const root = heatmap.shadowRoot!;
      const pixels = await heatmap.toImageData();
      const png = await heatmap.toPng();
      const npy = heatmap.toNpy();
      const canvas = root.querySelector<HTMLCanvasElement>('[part~="canvas"]')!;
      return {
        pixels: Array.from(pixels.data),
        size: [pixels.width, pixels.height],
        scale: heatmap.scaleInUse,
        colormap: heatmap.colormapInUse,
        map: Array.from(heatmap.map ?? []),
        ticks: Array.from(root.querySelectorAll('[part~="ticks"] span'), (s) => s.textContent),
        caption: root.querySelector('[part~="caption"]')?.textContent,
        label: root.querySelector('[part~="label"]')?.textContent,
        ariaLabel: canvas.getAttribute('aria-label'),
        downloads: Array.from(root.querySelectorAll('[part~="downloads"] button'), (b) => b.getAttribute('aria-label')),
        pngType: png.type,
        pngBytes: Array.from(new Uint8Array(await png.arrayBuffer()).slice(0, 8)),
        npyHeader: new TextDecoder().decode(npy.slice(10, 80)),
        npyValues: Array.from(new Float32Array(npy.buffer, npy.byteLength - values.length * 4, values.length)),
      };
    }, values);
    expect(out.size).toEqual([4, 3]);
    expect(out.colormap).toBe('sequential');
    expect(out.scale).toBeCloseTo(absPercentile(values, 99), 6);
    expect(out.map).toEqual(Array.from(Float32Array.from(values)));
    const expected = cpuHeatmap({ normalized: normalizeByPercentile(values, 99), mapWidth: 4, mapHeight: 3, diverging: false, opacity: 1 });
    const difference = maxColourDifference(out.pixels, expected.data);
    console.log(`[heatmap-colour] sequential 4x3 max channel difference ${difference}`);
    expect(difference).toBeLessThanOrEqual(COLOUR_TOLERANCE);
    expect(out.ticks).toEqual(['0', '2', '4']);
    expect(out.caption).toContain('99th percentile of |value| = 4');
    expect(out.label).toBe('Test map');
    expect(out.ariaLabel).toContain('class 2');
    expect(out.downloads).toEqual(['Download the raw values as .npy', 'Download the picture as PNG']);
    expect(out.pngType).toBe('image/png');
    expect(out.pngBytes).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(out.npyHeader).toContain("'shape': (3, 4, 1)");
    expect(out.npyValues).toEqual(Array.from(Float32Array.from(values)));
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-heatmap> signed map [3,4,2] over an 8x6 picture: fixed scale, diverging palette, opacity 0.5, nearest upsampling', async ({ skip }) => {
    needsAdapter(skip);
    const values = Array.from({ length: 24 }, (_, i) => ((i * 7) % 13) / 6 - 1); // signed, in [-1, 1]
    const out = await page.evaluate(async (values) => {
      const t = window.xaiTest;
      t.clear();
      const heatmap = document.createElement('xai-heatmap');
      heatmap.device = t.device;
      const picture = t.picture(8, 6, 11);
      heatmap.image = picture;
      heatmap.attribution = { method: 'test', values: Float32Array.from(values), shape: [3, 4, 2], target: 0, milliseconds: 1 };
      heatmap.reduction = 'sum';
      heatmap.scale = 0.75;
      heatmap.scaleNote = 'set by the test';
      heatmap.opacity = 0.5;
      t.stage.append(heatmap);
      await heatmap.drawComplete;
      const pixels = await heatmap.toImageData();
      const root = heatmap.shadowRoot!;
      return {
        pixels: Array.from(pixels.data),
        picture: Array.from(picture.data),
        size: [pixels.width, pixels.height],
        colormap: heatmap.colormapInUse,
        scale: heatmap.scaleInUse,
        ticks: Array.from(root.querySelectorAll('[part~="ticks"] span'), (s) => s.textContent),
        caption: root.querySelector('[part~="caption"]')?.textContent,
      };
    }, values);
    expect(out.size).toEqual([8, 6]);
    expect(out.colormap).toBe('diverging');
    expect(out.scale).toBe(0.75);
    const map = reduceChannels({ values: Float32Array.from(values), shape: [3, 4, 2] }, 'sum');
    const expected = cpuHeatmap({ normalized: byScale(map, 0.75), mapWidth: 4, mapHeight: 3, diverging: true, image: { width: 8, height: 6, data: out.picture }, opacity: 0.5 });
    const difference = maxColourDifference(out.pixels, expected.data);
    console.log(`[heatmap-colour] diverging 4x3 over 8x6 picture max channel difference ${difference}`);
    expect(difference).toBeLessThanOrEqual(COLOUR_TOLERANCE);
    expect(out.ticks).toEqual(['≤ -0.75', '0', '≥ 0.75']);
    expect(out.caption).toContain('scale 0.75 (set by the test)');
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer> tinyCnn saliency: labels and probabilities render, xai-explained carries the engine map, the canvas shows it', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-explainer');
      const events = t.record(t.stage, ['xai-explained', 'xai-model-ready', 'xai-error']);
      // what a listener of xai-explained finds: the map already handed to the heatmap and drawn
      let atEvent: { shown: boolean; drawnPixels: number } | undefined;
      element.addEventListener('xai-explained', (e) => {
        const heatmap = element.shadowRoot!.querySelector('xai-heatmap');
        const canvas = heatmap?.shadowRoot?.querySelector<HTMLCanvasElement>('canvas[part~="canvas"]');
        atEvent = { shown: heatmap?.attribution === e.detail.attribution, drawnPixels: canvas ? canvas.width * canvas.height : 0 };
      });
      const picture = t.picture(7, 9, seed);
      element.explainer = explainer;
      element.image = picture;
      element.labels = ['cat', 'dog', 'owl', 'fox', 'elk'];
      element.opacity = 1;
      t.stage.append(element);
      const attribution = await element.run();
      const root = element.shadowRoot!;
      const heatmap = root.querySelector('xai-heatmap')!;
      await heatmap.drawComplete;
      const pixels = await heatmap.toImageData();
      // the engine itself, on the same input
      const input = t.engine.imageToInput(picture, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
      const direct = await explainer.saliency(input, { target: 'top' });
      const probabilities = await explainer.activations(input, { layer: explainer.model.outputName });
      const controls = Array.from(root.querySelectorAll('select, input'));
      return {
        events: events.map((e) => ({ type: e.type, target: (e.detail as { target?: number }).target, method: (e.detail as { method?: string }).method, same: (e.detail as { attribution?: unknown }).attribution === attribution })),
        values: Array.from(attribution.values),
        direct: Array.from(direct.values),
        target: attribution.target,
        directTarget: direct.target,
        probabilities: Array.from(probabilities.values),
        shownAttribution: heatmap.attribution === attribution,
        pixels: Array.from(pixels.data),
        size: [pixels.width, pixels.height],
        options: Array.from(root.querySelectorAll('#target option'), (o) => o.textContent?.trim()),
        methods: Array.from(root.querySelectorAll('#method option'), (o) => (o as HTMLOptionElement).value),
        prediction: root.querySelector('[part~="predictions"]')?.textContent?.replace(/\s+/g, ' ').trim(),
        summary: root.querySelector('[part~="summary"]')?.textContent?.replace(/\s+/g, ' ').trim(),
        unlabelled: controls.filter((c) => !c.id || !root.querySelector(`label[for="${c.id}"]`)).map((c) => c.outerHTML),
        button: root.querySelector('[part~="run-button"]')?.textContent?.trim(),
        atEvent,
      };
    }, seed);
    expect(out.atEvent, 'xai-explained fires once the heatmap has the map and has drawn it').toEqual({ shown: true, drawnPixels: 7 * 9 });
    expect(out.values, 'the map equals the engine called directly').toEqual(out.direct);
    expect(out.target).toBe(out.directTarget);
    const top = out.probabilities.indexOf(Math.max(...out.probabilities));
    expect(out.target).toBe(top);
    expect(out.events.filter((e) => e.type === 'xai-model-ready')).toHaveLength(1);
    expect(out.events.filter((e) => e.type === 'xai-explained')).toEqual([{ type: 'xai-explained', target: top, method: 'saliency', same: true }]);
    expect(out.events.filter((e) => e.type === 'xai-error')).toEqual([]);
    expect(out.shownAttribution).toBe(true);
    const names = ['cat', 'dog', 'owl', 'fox', 'elk'];
    expect(out.options[0]).toBe(`Predicted (${names[top]})`);
    expect(out.options.slice(1)).toEqual(names.map((n, i) => `${n} — ${(out.probabilities[i] * 100).toFixed(out.probabilities[i] >= 0.1 ? 0 : 1)}%`));
    expect(out.methods).toEqual(METHOD_NAMES);
    expect(out.prediction).toContain(`Predicted: ${names[top]}`);
    expect(out.summary).toMatch(new RegExp(`^Saliency of ${names[top]} in (\\d+ ms|[\\d.]+ s)$`)); // seconds on a loaded machine
    expect(out.unlabelled, 'every control has a <label for>').toEqual([]);
    expect(out.button).toBe('Explain');
    // the canvas: abs-max over channels, 99th percentile, inferno, at opacity 1 (the picture is 7x9 like the map)
    const map = reduceChannels({ values: Float32Array.from(out.values), shape: [9, 7, 3] }, 'abs-max');
    expect(out.size).toEqual([7, 9]);
    const expected = cpuHeatmap({ normalized: normalizeByPercentile(map, 99), mapWidth: 7, mapHeight: 9, diverging: false, opacity: 1 });
    const difference = maxColourDifference(out.pixels, expected.data);
    console.log(`[heatmap-colour] explainer saliency tinyCnn seed=${seed} max channel difference ${difference}`);
    expect(difference).toBeLessThanOrEqual(COLOUR_TOLERANCE);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer model-url src>: a TF.js Layers model and a PNG over HTTP load, predict and explain (occlusion)', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (route) => {
      const t = window.xaiTest;
      t.clear();
      const events = t.record(t.stage, ['xai-model-ready', 'xai-explained', 'xai-error']);
      const element = document.createElement('xai-explainer');
      element.setAttribute('model-url', `${route}/model/model.json`);
      element.setAttribute('src', `${route}/picture.png`);
      element.setAttribute('method', 'occlusion');
      element.setAttribute('window', '4');
      element.setAttribute('target', '1');
      t.stage.append(element);
      const attribution = await element.run();
      await element.updateComplete;
      const root = element.shadowRoot!;
      const heatmap = root.querySelector('xai-heatmap')!;
      await heatmap.drawComplete;
      const explainer = element.activeExplainer!;
      return {
        events: events.map((e) => e.type),
        method: attribution.method,
        target: attribution.target,
        shape: attribution.shape,
        inputShape: explainer.model.inputShape,
        source: explainer.model.spec.source,
        canvas: [heatmap.shadowRoot!.querySelector('canvas')!.width, heatmap.shadowRoot!.querySelector('canvas')!.height],
        options: root.querySelectorAll('#target option').length,
        window: (root.querySelector('#window') as HTMLInputElement).value,
      };
    }, FIXTURE_ROUTE);
    expect(out.events).toEqual(['xai-model-ready', 'xai-explained']);
    expect(out.method).toBe('occlusion');
    expect(out.target).toBe(1);
    expect(out.shape).toEqual([12, 10, 1]);
    expect(out.inputShape).toEqual([12, 10, 3]);
    expect(out.source).toContain('/__xai-fixtures/model/model.json');
    expect(out.canvas, 'the canvas takes the picture\'s resolution').toEqual([40, 48]);
    expect(out.options).toBe(4); // predicted + 3 classes
    expect(out.window).toBe('4');
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer> a bad model URL shows an error inside the component and fires xai-error', async ({ skip }) => {
    needsAdapter(skip);
    const url = BAD_MODEL_URL;
    const out = await page.evaluate(async (url) => {
      const t = window.xaiTest;
      t.clear();
      const events = t.record(t.stage, ['xai-error', 'xai-model-ready']);
      const element = document.createElement('xai-explainer');
      element.setAttribute('model-url', url);
      element.image = t.picture(7, 9, 1);
      const failed = new Promise((resolve) => element.addEventListener('xai-error', resolve, { once: true }));
      t.stage.append(element);
      await failed;
      await element.updateComplete;
      const run = await element.run().then(() => 'resolved', (e: Error) => e.name);
      const alert = element.shadowRoot!.querySelector('[part~="error"][role="alert"]');
      return {
        events: events.map((e) => ({ type: e.type, phase: (e.detail as { phase?: string }).phase, message: (e.detail as { message?: string }).message })),
        alert: alert?.textContent?.replace(/\s+/g, ' ').trim(),
        run,
        button: (element.shadowRoot!.querySelector('[part~="run-button"]') as HTMLButtonElement).disabled,
      };
    }, url);
    expect(out.events).toHaveLength(1);
    expect(out.events[0]).toMatchObject({ type: 'xai-error', phase: 'model' });
    expect(out.events[0].message).toContain('404');
    expect(out.alert).toContain(`Could not load the model from ${url}`);
    expect(out.alert).toContain('HTTP 404');
    expect(out.run).toBe('ModelLoadError');
    expect(out.button).toBe(true);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer> cancel stops a running SmoothGrad (4000 samples in chunks of 4): AbortedError, no map, xai-cancelled', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed, { maxChunk: 4 });
      const element = document.createElement('xai-explainer');
      const events = t.record(t.stage, ['xai-explained', 'xai-cancelled', 'xai-progress', 'xai-error']);
      element.explainer = explainer;
      element.image = t.picture(7, 9, seed);
      element.method = 'smoothgrad';
      element.samples = 4000;
      t.stage.append(element);
      const root = element.shadowRoot!;
      const firstProgress = new Promise((resolve) => element.addEventListener('xai-progress', resolve, { once: true }));
      const running = element.run().then(() => 'resolved', (e: Error) => e.name);
      await firstProgress;
      await element.updateComplete;
      const progressText = root.querySelector('[part~="progress-text"]')?.textContent;
      const progressBar = root.querySelector('progress');
      const during = { text: progressText, max: progressBar?.max, value: progressBar?.value, running: element.running };
      const started = performance.now();
      (root.querySelector('[part~="cancel-button"]') as HTMLButtonElement).click();
      const outcome = await running;
      const stopMs = performance.now() - started;
      await element.updateComplete;
      const heatmap = root.querySelector('xai-heatmap')!;
      return {
        outcome,
        stopMs,
        during,
        attribution: element.attribution === undefined,
        heatmapEmpty: heatmap.attribution === undefined && heatmap.map === undefined,
        placeholder: heatmap.shadowRoot!.querySelector('[part~="placeholder"]')?.textContent,
        status: root.querySelector('[part~="status"]')?.textContent,
        progressGone: root.querySelector('[part~="progress"]') === null,
        events: events.map((e) => e.type).filter((type, i, all) => type !== 'xai-progress' || all[i - 1] !== 'xai-progress'),
        lastProgress: (events.filter((e) => e.type === 'xai-progress').at(-1)?.detail as { done: number; total: number } | undefined),
      };
    }, seed);
    expect(out.outcome).toBe('AbortedError');
    expect(out.during.running).toBe(true);
    expect(out.during.max).toBe(4000);
    expect(out.during.value).toBeGreaterThan(0);
    expect(out.during.text).toMatch(/^\d+ of 4000 samples · .* elapsed · about .* left$/);
    expect(out.lastProgress!.done).toBeLessThan(4000);
    expect(out.attribution).toBe(true);
    expect(out.heatmapEmpty).toBe(true);
    expect(out.placeholder).toBe('No map yet');
    expect(out.status).toContain('Cancelled');
    expect(out.progressGone).toBe(true);
    expect(out.events).toEqual(['xai-progress', 'xai-cancelled']);
    console.log(`[cancel] SmoothGrad stopped ${out.stopMs.toFixed(0)} ms after the click, at ${out.lastProgress!.done} of 4000 samples`);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer> by keyboard: arrow keys pick Grad-CAM in the method select, Enter on Explain runs it', async ({ skip }) => {
    needsAdapter(skip);
    await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const element = document.createElement('xai-explainer');
      element.explainer = await t.explainer('residualCnn', seed);
      element.image = t.picture(16, 16, seed);
      element.id = 'keyboard';
      t.stage.append(element);
      await element.updateComplete;
      (window as unknown as { keyboardEvents: unknown[] }).keyboardEvents = t.record(element, ['xai-explained', 'xai-error']);
    }, seed);
    const select = await page.evaluateHandle(() => document.querySelector('#keyboard')!.shadowRoot!.querySelector<HTMLSelectElement>('#method')!);
    await select.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown'); // saliency -> smoothgrad -> integrated-gradients -> gradcam
    const method = await page.evaluate(() => document.querySelector<HTMLElementTagNameMap['xai-explainer']>('#keyboard')!.method);
    expect(method).toBe('gradcam');
    await page.waitForFunction(() => !(document.querySelector('#keyboard')!.shadowRoot!.querySelector('[part~="run-button"]') as HTMLButtonElement).disabled);
    const button = await page.evaluateHandle(() => document.querySelector('#keyboard')!.shadowRoot!.querySelector<HTMLButtonElement>('[part~="run-button"]')!);
    await button.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => ((window as unknown as { keyboardEvents: unknown[] }).keyboardEvents).length > 0, { timeout: 30_000 });
    const out = await page.evaluate(() => {
      const element = document.querySelector('#keyboard')!;
      const events = (window as unknown as { keyboardEvents: Array<{ type: string; detail: { method?: string } }> }).keyboardEvents;
      return { events: events.map((e) => `${e.type}:${e.detail.method}`), layers: Array.from(element.shadowRoot!.querySelectorAll('#layer option'), (o) => o.textContent?.trim()) };
    });
    expect(out.events).toEqual(['xai-explained:grad-cam']);
    // Grad-CAM shows its layer choice: the last spatial layer by default
    expect(out.layers[0]).toBe('last (relu2)');
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-compare> five methods on tinyCnn share one scale (the 99th percentile over every map), each with its time', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-compare');
      const events = t.record(t.stage, ['xai-explained', 'xai-compared', 'xai-error']);
      element.explainer = explainer;
      element.image = t.picture(7, 9, seed);
      element.samples = 8;
      element.steps = 8;
      t.stage.append(element);
      const results = await element.run();
      await element.updateComplete;
      const root = element.shadowRoot!;
      const heatmaps = Array.from(root.querySelectorAll('xai-heatmap'));
      await Promise.all(heatmaps.map((h) => h.drawComplete));
      const compared = events.find((e) => e.type === 'xai-compared')?.detail as { results: unknown[]; scale: number };
      return {
        methods: results.map((r) => r.method),
        maps: heatmaps.map((h) => Array.from(h.map ?? [])),
        scales: heatmaps.map((h) => h.scaleInUse),
        notes: heatmaps.map((h) => h.shadowRoot!.querySelector('[part~="caption"]')?.textContent),
        labels: heatmaps.map((h) => h.label),
        times: Array.from(root.querySelectorAll('[part~="time"]'), (p) => p.textContent?.trim()),
        milliseconds: results.map((r) => r.milliseconds),
        shared: element.sharedScale,
        comparedScale: compared?.scale,
        comparedCount: compared?.results.length,
        explained: events.filter((e) => e.type === 'xai-explained').length,
        errors: events.filter((e) => e.type === 'xai-error').map((e) => (e.detail as { message: string }).message),
      };
    }, seed);
    expect(out.errors).toEqual([]);
    // the engine's names for them
    expect(out.methods).toEqual(['saliency', 'smoothgrad-mean', 'integrated-gradients', 'grad-cam', 'occlusion']);
    expect(out.explained).toBe(5);
    expect(out.comparedCount).toBe(5);
    // one scale: the 99th percentile of |value| over all five displayed maps together
    const all = out.maps.flat();
    expect(all.length).toBe(5 * 9 * 7);
    const expectedScale = absPercentile(all, 99);
    for (const scale of out.scales) expect(scale).toBeCloseTo(expectedScale, 6);
    expect(out.shared).toBeCloseTo(expectedScale, 6);
    expect(out.comparedScale).toBeCloseTo(expectedScale, 6);
    for (const note of out.notes) expect(note).toContain('(shared by 5 maps)');
    expect(out.labels).toEqual(['Saliency', 'SmoothGrad', 'Integrated Gradients', 'Grad-CAM', 'Occlusion']);
    out.times.forEach((time, i) => expect(time).toMatch(new RegExp(`^${out.milliseconds[i] < 1000 ? `${Math.round(out.milliseconds[i])} ms` : `${(out.milliseconds[i] / 1000).toFixed(1)} s`} · `)));
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer> every method of the table on tinyCnn [9,7,3] (small settings): the map equals the Explainer called with the same settings, is drawn, and its numbers are shown', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const picture = t.picture(7, 9, seed);
      const input = t.engine.imageToInput(picture, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
      const element = document.createElement('xai-explainer');
      Object.assign(element, { explainer, image: picture, samples: 4, steps: 4, window: 3, segments: 4, perturbations: 24, segmentFill: 'blur', masks: 16 });
      const events = t.record(t.stage, ['xai-error']);
      t.stage.append(element);
      await element.updateComplete;
      // the Explainer called directly with what the element's settings mean (a target of 'top': the same class)
      const target = 'top' as const;
      const direct: Record<string, () => Promise<{ method: string; values: Float32Array }>> = {
        saliency: () => explainer.saliency(input, { target }),
        smoothgrad: () => explainer.smoothGrad(input, { target, samples: 4, noise: 0.15 }),
        'integrated-gradients': () => explainer.integratedGradients(input, { target, steps: 4, baseline: 'black', rule: 'gauss-legendre' }),
        gradcam: () => explainer.gradCam(input, { target }),
        occlusion: () => explainer.occlusion(input, { target, window: 3 }),
        'guided-backprop': () => explainer.guidedBackprop(input, { target }),
        layercam: () => explainer.layerCam(input, { target }),
        scorecam: () => explainer.scoreCam(input, { target }),
        rise: () => explainer.rise(input, { target, masks: 16 }),
        lime: () => explainer.lime(input, { target, segments: 4, samples: 24, baseline: 'blur' }),
        kernelshap: () => explainer.kernelShap(input, { target, segments: 4, samples: 24, baseline: 'blur' }),
        gradientshap: () => explainer.gradientShap(input, { target, samples: 4 }),
        deeplift: () => explainer.deepLift(input, { target }),
      };
      const root = element.shadowRoot!;
      const options = Array.from(root.querySelectorAll<HTMLOptionElement>('#method option'), (o) => o.value);
      const runs = [];
      for (const method of options) {
        element.method = method as typeof element.method;
        await element.updateComplete;
        const controls = Array.from(root.querySelectorAll('form [id]'), (c) => c.id).filter((id) => !['method', 'target', 'opacity'].includes(id));
        const attribution = await element.run();
        const heatmap = root.querySelector('xai-heatmap')!;
        await heatmap.drawComplete;
        const expected = direct[method] ? await direct[method]() : undefined;
        const pixels = await heatmap.toImageData();
        runs.push({
          method,
          result: attribution.method,
          shape: attribution.shape,
          equal: expected !== undefined && expected.method === attribution.method && expected.values.every((v, i) => v === attribution.values[i]),
          finite: attribution.values.every(Number.isFinite),
          nonzero: attribution.values.some((v) => v !== 0),
          shown: heatmap.attribution === attribution,
          canvas: [pixels.width, pixels.height],
          colours: new Set(Array.from({ length: pixels.width * pixels.height }, (_, p) => pixels.data.slice(p * 4, p * 4 + 3).join())).size,
          controls,
          summary: root.querySelector('[part~="summary"]')?.textContent?.replace(/\s+/g, ' ').trim(),
          numbers: { r2: (attribution as { r2?: number }).r2, additivity: (attribution as { additivityError?: number }).additivityError, completeness: attribution.completenessError },
        });
      }
      // Integrated Gradients with a tolerance runs the adaptive variant and says how many steps it used
      element.method = 'integrated-gradients';
      element.tolerance = 0.5;
      element.steps = 2;
      const adaptive = (await element.run()) as { method: string; steps?: number; converged?: boolean; values: Float32Array };
      const adaptiveDirect = await explainer.adaptiveIntegratedGradients(input, { target, steps: 2, baseline: 'black', rule: 'gauss-legendre', tolerance: 0.5 });
      await element.updateComplete;
      return {
        options,
        runs,
        adaptive: {
          method: adaptive.method,
          steps: adaptive.steps,
          converged: adaptive.converged,
          equal: adaptive.values.every((v, i) => v === adaptiveDirect.values[i]) && adaptive.steps === adaptiveDirect.steps,
          summary: root.querySelector('[part~="summary"]')?.textContent?.replace(/\s+/g, ' ').trim(),
          tolerance: (root.querySelector('#tolerance') as HTMLInputElement | null)?.value,
        },
        errors: events.map((e) => (e.detail as { message: string }).message),
      };
    }, seed);
    expect(out.errors).toEqual([]);
    expect(out.options).toEqual(METHOD_NAMES);
    const controls: Record<string, string[]> = {
      smoothgrad: ['samples', 'noise'],
      'integrated-gradients': ['steps', 'baseline', 'rule', 'tolerance'],
      gradcam: ['layer'],
      occlusion: ['window'],
      layercam: ['layer'],
      scorecam: ['layer'],
      rise: ['masks'],
      lime: ['segments', 'perturbations', 'segmentFill'],
      kernelshap: ['segments', 'perturbations', 'segmentFill'],
      gradientshap: ['samples', 'references'],
      deeplift: ['references'],
    };
    for (const run of out.runs) {
      console.log(`[components-methods] ${run.method} -> ${run.result} ${JSON.stringify(run.shape)}: ${run.summary}`);
      expect(run.equal, `${run.method}: the element's map equals the Explainer's for the same settings`).toBe(true);
      expect(run.finite && run.nonzero, `${run.method}: a finite, non-zero map`).toBe(true);
      expect(run.shape.slice(0, 2), run.method).toEqual([9, 7]);
      expect(run.shown, `${run.method}: the heatmap shows the map`).toBe(true);
      expect(run.canvas, run.method).toEqual([7, 9]);
      expect(run.colours, `${run.method}: the canvas is not one flat colour`).toBeGreaterThan(1);
      expect(run.controls, `${run.method}: its settings controls`).toEqual(controls[run.method] ?? []);
    }
    const byMethod = Object.fromEntries(out.runs.map((r) => [r.method, r]));
    const percent = (p: number) => `${(p * 100).toFixed(p >= 0.1 ? 0 : 1)}%`;
    const value = (v: number) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3))));
    expect(byMethod['integrated-gradients'].summary).toContain(`completeness error ${percent(byMethod['integrated-gradients'].numbers.completeness!)}`);
    expect(byMethod.lime.summary).toContain(`R² ${value(byMethod.lime.numbers.r2!)} · samples 24 · segments`);
    expect(byMethod.kernelshap.summary).toContain(`additivity error ${value(byMethod.kernelshap.numbers.additivity!)} · coalitions`);
    expect(byMethod.rise.summary).toContain('masks 16');
    expect(byMethod.gradientshap.summary).toContain(`completeness error (expected) ${percent(byMethod.gradientshap.numbers.completeness!)}`);
    expect(byMethod.deeplift.summary).toContain(`summation-to-delta error ${percent(byMethod.deeplift.numbers.completeness!)}`);
    expect(byMethod.scorecam.summary).toMatch(/layer conv2 · channels 6/);
    expect(out.adaptive.method).toBe('integrated-gradients-adaptive');
    expect(out.adaptive.equal, 'adaptive IG equals the Explainer\'s').toBe(true);
    expect(out.adaptive.tolerance).toBe('0.5');
    expect(out.adaptive.summary).toContain(`steps used ${out.adaptive.steps}`);
    if (!out.adaptive.converged) expect(out.adaptive.summary).toContain('tolerance 0.5 not met');
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-compare> every method of the table can be chosen; saliency, LIME, KernelSHAP and RISE chosen by their checkboxes each show their own numbers', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-compare');
      const events = t.record(t.stage, ['xai-compared', 'xai-error']);
      Object.assign(element, { explainer, image: t.picture(7, 9, seed), segments: 4, perturbations: 24, masks: 16 });
      t.stage.append(element);
      await element.updateComplete;
      const root = element.shadowRoot!;
      const boxes = Array.from(root.querySelectorAll<HTMLInputElement>('[part~="methods"] input[type="checkbox"]'));
      const before = { ids: boxes.map((b) => b.id), checked: boxes.filter((b) => b.checked).map((b) => b.id), labelled: boxes.every((b) => root.querySelector(`label[for="${b.id}"]`)) };
      for (const id of ['use-smoothgrad', 'use-integrated-gradients', 'use-gradcam', 'use-occlusion', 'use-rise', 'use-lime', 'use-kernelshap']) root.querySelector<HTMLInputElement>(`#${id}`)!.click();
      await element.updateComplete;
      const chosen = [...element.methods];
      const controls = Array.from(root.querySelectorAll('form [id]'), (c) => c.id).filter((id) => !id.startsWith('use-'));
      const results = await element.run();
      await element.updateComplete;
      const heatmaps = Array.from(root.querySelectorAll('xai-heatmap'));
      await Promise.all(heatmaps.map((h) => h.drawComplete));
      return {
        before,
        chosen,
        controls,
        methods: results.map((r) => r.method),
        r2: (results[2] as { r2?: number }).r2,
        additivity: (results[3] as { additivityError?: number }).additivityError,
        segments: results.slice(2).map((r) => (r as { segmentation?: { segments: number } }).segmentation?.segments),
        numbers: Array.from(root.querySelectorAll('[part~="card"]'), (card) => card.querySelector('[part~="numbers"]')?.textContent?.trim() ?? ''),
        palettes: heatmaps.map((h) => h.colormapInUse),
        compared: events.filter((e) => e.type === 'xai-compared').length,
        errors: events.filter((e) => e.type === 'xai-error').map((e) => (e.detail as { message: string }).message),
      };
    }, seed);
    expect(out.errors).toEqual([]);
    expect(out.before.ids).toEqual(METHOD_NAMES.map((m) => `use-${m}`));
    expect(out.before.checked).toEqual(['use-saliency', 'use-smoothgrad', 'use-integrated-gradients', 'use-gradcam', 'use-occlusion']);
    expect(out.before.labelled).toBe(true);
    // table order, whatever the order of the clicks
    expect(out.chosen).toEqual(['saliency', 'rise', 'lime', 'kernelshap']);
    expect(out.controls).toEqual(['target', 'masks', 'segments', 'perturbations', 'segmentFill', 'scale-mode']);
    expect(out.methods).toEqual(['saliency', 'rise', 'lime', 'kernelshap']);
    expect(out.compared).toBe(1);
    const value = (v: number) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(3))));
    expect(out.numbers[0]).toBe('');
    expect(out.numbers[1]).toBe(`masks 16`);
    expect(out.numbers[2]).toBe(`R² ${value(out.r2!)} · samples 24 · segments ${out.segments[0]}`);
    expect(out.numbers[3]).toMatch(new RegExp(`^additivity error \\S+ · coalitions .+ · segments ${out.segments[1]}$`));
    expect(out.numbers[3]).toContain(`additivity error ${value(out.additivity!)} `);
    // LIME's and KernelSHAP's weights are signed: a diverging palette; RISE's are non-negative evidence
    expect(out.palettes).toEqual(['sequential', 'sequential', 'diverging', 'diverging']);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-filter-gallery> tinyCnn conv1 (4 filters, 24 steps): previews update the canvases live, then the final images are shown', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-filter-gallery');
      const events = t.record(t.stage, ['xai-visualized', 'xai-progress', 'xai-error']);
      element.explainer = explainer;
      element.layer = 'conv1';
      element.steps = 24;
      element.previewEvery = 4;
      t.stage.append(element);
      await element.updateComplete;
      const root = element.shadowRoot!;
      // sample the first filter's canvas while the optimization runs
      const seen = new Set<string>();
      let running = true;
      const sample = () => {
        const canvas = root.querySelector<HTMLCanvasElement>('canvas[data-index="0"]');
        if (canvas && canvas.width > 0) seen.add(Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data).join(','));
        if (running) setTimeout(sample, 0);
      };
      const result = element.run();
      sample();
      const visualization = await result;
      running = false;
      await element.updateComplete;
      const canvases = Array.from(root.querySelectorAll<HTMLCanvasElement>('canvas[data-index]'));
      const shown = canvases.map((c) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));
      return {
        channels: visualization.channels,
        shape: visualization.shape,
        images: Array.from(visualization.images),
        shown,
        distinctStates: seen.size,
        captions: Array.from(root.querySelectorAll('[part~="filter"] figcaption'), (f) => f.textContent?.replace(/\s+/g, ' ').trim()),
        final: visualization.activations.final,
        visualized: events.filter((e) => e.type === 'xai-visualized').length,
        progress: events.filter((e) => e.type === 'xai-progress').length,
        errors: events.filter((e) => e.type === 'xai-error').map((e) => (e.detail as { message: string }).message),
        inputRange: explainer.inputRange,
      };
    }, seed);
    expect(out.errors).toEqual([]);
    expect(out.channels).toEqual([0, 1, 2, 3]);
    expect(out.shape).toEqual([4, 9, 7, 3]);
    expect(out.visualized).toBe(1);
    expect(out.progress).toBeGreaterThan(0);
    console.log(`[filter-gallery] ${out.distinctStates} distinct states of filter 0 seen while running`);
    // mid-gray, at least one preview, and the final image
    expect(out.distinctStates).toBeGreaterThanOrEqual(3);
    // the canvases hold the final images: input range [0, 1] to 0..255, RGB
    const elements = 9 * 7 * 3;
    out.shown.forEach((pixels, n) => {
      expect(pixels.length).toBe(9 * 7 * 4);
      for (let p = 0; p < 9 * 7; p++) {
        for (let c = 0; c < 3; c++) expect(Math.abs(pixels[p * 4 + c] - Math.round(Math.min(1, Math.max(0, out.images[n * elements + p * 3 + c])) * 255))).toBeLessThanOrEqual(1);
      }
    });
    expect(out.captions[0]).toMatch(/^#0 · /);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-filter-gallery> tinyCnn conv1 (8 steps): the Parametrization select runs the Fourier parametrization', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const element = document.createElement('xai-filter-gallery');
      element.explainer = await t.explainer('tinyCnn', seed);
      element.layer = 'conv1';
      element.steps = 8;
      t.stage.append(element);
      await element.updateComplete;
      const select = element.shadowRoot!.querySelector<HTMLSelectElement>('select#parametrization')!;
      const options = Array.from(select.options, (o) => o.value);
      select.value = 'fourier';
      select.dispatchEvent(new Event('change'));
      await element.updateComplete;
      const visualization = await element.run();
      return { options, property: element.parametrization, parametrization: visualization.parametrization, images: Array.from(visualization.images), range: element.explainer.inputRange };
    }, seed);
    expect(out.options).toEqual(['pixel', 'fourier']);
    expect(out.property).toBe('fourier');
    expect(out.parametrization).toBe('fourier');
    // the sigmoid keeps Fourier images strictly inside the input range
    expect(out.images.every((v) => v > out.range[0] && v < out.range[1])).toBe(true);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-filter-gallery> Stop ends a 5000-step optimization: AbortedError, the last preview stays, xai-cancelled', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const element = document.createElement('xai-filter-gallery');
      const events = t.record(t.stage, ['xai-visualized', 'xai-cancelled', 'xai-error']);
      element.explainer = await t.explainer('tinyCnn', seed);
      element.layer = 'conv2';
      element.steps = 5000;
      element.previewEvery = 8;
      t.stage.append(element);
      const root = element.shadowRoot!;
      const progressed = new Promise((resolve) => element.addEventListener('xai-progress', resolve, { once: true }));
      const outcome = element.run().then(() => 'resolved', (e: Error) => e.name);
      await progressed;
      await element.updateComplete;
      const during = root.querySelector('[part~="progress-text"]')?.textContent;
      (root.querySelector('[part~="cancel-button"]') as HTMLButtonElement).click();
      const name = await outcome;
      await element.updateComplete;
      return {
        name,
        during,
        status: root.querySelector('[part~="status"]')?.textContent,
        canvases: root.querySelectorAll('canvas[data-index]').length,
        visualization: element.visualization === undefined,
        events: events.map((e) => e.type),
      };
    }, seed);
    expect(out.name).toBe('AbortedError');
    expect(out.during).toMatch(/^\d+ of 5000 steps · .* elapsed · about .* left$/);
    expect(out.status).toMatch(/^Stopped after \d+ steps/);
    expect(out.canvases).toBe(6);
    expect(out.visualization).toBe(true);
    expect(out.events).toEqual(['xai-cancelled']);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-activations> tinyCnn conv1 [9,7,4]: one canvas per channel, coloured on one shared scale', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-activations');
      const events = t.record(t.stage, ['xai-activations', 'xai-error']);
      const picture = t.picture(7, 9, seed);
      element.explainer = explainer;
      element.image = picture;
      element.layer = 'conv1';
      t.stage.append(element);
      const result = await element.whenComputed();
      await element.updateComplete;
      const root = element.shadowRoot!;
      const input = t.engine.imageToInput(picture, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
      const direct = await explainer.activations(input, { layer: 'conv1' });
      const canvases = Array.from(root.querySelectorAll<HTMLCanvasElement>('canvas[data-channel]'));
      return {
        values: Array.from(result!.values),
        direct: Array.from(direct.values),
        shape: result!.shape,
        shown: canvases.map((c) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data)),
        layers: Array.from(root.querySelectorAll('#layer option'), (o) => (o as HTMLOptionElement).value),
        events: events.map((e) => e.type),
      };
    }, seed);
    expect(out.values).toEqual(out.direct);
    expect(out.shape).toEqual([9, 7, 4]);
    expect(out.layers).toEqual(['conv1', 'pool1', 'conv2']);
    expect(out.events).toEqual(['xai-activations']);
    expect(out.shown).toHaveLength(4);
    const scale = absPercentile(out.values, 99) || 1;
    out.shown.forEach((pixels, channel) => {
      for (let p = 0; p < 9 * 7; p++) {
        const colour = sequentialColor(out.values[p * 4 + channel] / scale); // ReLU: no negative values
        expect(pixels.slice(p * 4, p * 4 + 3)).toEqual(colour);
      }
    });
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-embedding> 30 points [30, 2] in 3 classes: one dot per point in its class colour, a legend; hovering a dot shows its thumbnail and label', async () => {
    const PALETTE_RGB = [[0x4e, 0x79, 0xa7], [0xf2, 0x8e, 0x2b], [0xe1, 0x57, 0x59]];
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const element = document.createElement('xai-embedding');
      const count = 30;
      // a 6 x 5 grid, so that no two dots overlap
      const points = Float32Array.from({ length: count * 2 }, (_, k) => (k % 2 === 0 ? (k / 2) % 6 : Math.floor(k / 2 / 6)));
      element.embedding = { points, count, dimensions: 2, layer: 'pool2', method: 'tsne' };
      element.labels = Array.from({ length: count }, (_, i) => i % 3);
      element.labelNames = ['cat', 'dog', 'bird'];
      element.thumbnails = Array.from({ length: count }, (_, i) => t.picture(6, 5, seed + i));
      t.stage.append(element);
      await element.updateComplete;
      const root = element.shadowRoot!;
      const canvas = root.querySelector<HTMLCanvasElement>('canvas[part~="canvas"]')!;
      const rect = canvas.getBoundingClientRect();
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const at = (x: number, y: number) => {
        const i = (Math.round(y) * canvas.width + Math.round(x)) * 4;
        return Array.from(data.slice(i, i + 4));
      };
      const centres = Array.from({ length: count }, (_, i) => {
        const p = element.pointPosition(i);
        return { client: p, pixel: at(((p.x - rect.left) * canvas.width) / rect.width, ((p.y - rect.top) * canvas.height) / rect.height) };
      });
      // between two horizontal neighbours: background
      const gap = at((((centres[0].client.x + centres[1].client.x) / 2 - rect.left) * canvas.width) / rect.width, ((centres[0].client.y - rect.top) * canvas.height) / rect.height);
      let coloured = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) coloured++;
      return {
        centres, gap, coloured, legend: Array.from(root.querySelectorAll('[part~="legend"] span'), (span) => span.textContent!.trim()),
        tooltipBefore: root.querySelector('[part~="tooltip"]') !== null, target: element.pointPosition(17),
      };
    }, seed);
    out.centres.forEach(({ pixel }, i) => {
      expect(pixel[3], `point ${i} alpha`).toBeGreaterThan(200);
      pixel.slice(0, 3).forEach((v, c) => expect(Math.abs(v - PALETTE_RGB[i % 3][c]), `point ${i} colour`).toBeLessThanOrEqual(2));
    });
    expect(out.gap[3]).toBe(0);
    // 30 dots of radius 4: about 30 * pi * 16 = 1508 pixels (antialiased edges included), none elsewhere
    expect(out.coloured).toBeGreaterThan(30 * 40);
    expect(out.coloured).toBeLessThan(30 * 90);
    expect(out.legend).toEqual(['cat', 'dog', 'bird']);
    expect(out.tooltipBefore).toBe(false);
    await page.mouse.move(out.target.x + 1, out.target.y - 1);
    const hover = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      const element = t.stage.querySelector('xai-embedding')!;
      await element.updateComplete;
      const root = element.shadowRoot!;
      const thumbnail = root.querySelector<HTMLCanvasElement>('[part~="thumbnail"]')!;
      return {
        hovered: element.hovered,
        text: root.querySelector('[part~="tooltip"]')!.textContent!.trim(),
        size: [thumbnail.width, thumbnail.height],
        pixels: Array.from(thumbnail.getContext('2d')!.getImageData(0, 0, thumbnail.width, thumbnail.height).data),
        expected: Array.from(t.picture(6, 5, seed + 17).data),
      };
    }, seed);
    expect(hover.hovered).toBe(17);
    expect(hover.text).toBe('#17: bird');
    expect(hover.size).toEqual([6, 5]);
    expect(hover.pixels).toEqual(hover.expected);
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });

  it('<xai-explainer> and <xai-compare> together on reluCnn with a 60x72 picture (screenshot with WEBGPU_XAI_SCREENSHOT)', async ({ skip }) => {
    needsAdapter(skip);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('reluCnn', seed);
      // a smooth picture: a bright disc on a gradient
      const picture = new ImageData(60, 72);
      for (let y = 0; y < 72; y++) {
        for (let x = 0; x < 60; x++) {
          const at = (y * 60 + x) * 4;
          const disc = (x - 38) ** 2 + (y - 30) ** 2 < 14 ** 2;
          picture.data.set(disc ? [240, 200, 60, 255] : [40 + x * 2, 90, 200 - y * 2, 255], at);
        }
      }
      const single = document.createElement('xai-explainer');
      single.explainer = explainer;
      single.image = picture;
      single.labels = ['sun', 'sky', 'sea'];
      single.method = 'integrated-gradients';
      single.steps = 16;
      single.style.setProperty('--xai-heatmap-size', '240px');
      const compare = document.createElement('xai-compare');
      compare.explainer = explainer;
      compare.image = picture;
      compare.labels = ['sun', 'sky', 'sea'];
      compare.samples = 16;
      compare.steps = 16;
      t.stage.append(single, compare);
      const a = await single.run();
      const results = await compare.run();
      await Promise.all([single, compare].flatMap((el) => Array.from(el.shadowRoot!.querySelectorAll('xai-heatmap'), (h) => h.drawComplete)));
      const heatmap = single.shadowRoot!.querySelector('xai-heatmap')!;
      return { method: a.method, completeness: a.completenessError, colormap: heatmap.colormapInUse, count: results.length };
    }, seed);
    expect(out.method).toBe('integrated-gradients');
    expect(out.colormap).toBe('diverging'); // IG is shown as a signed sum over channels
    expect(out.count).toBe(5);
    const file = process.env.WEBGPU_XAI_SCREENSHOT;
    if (file) {
      await page.screenshot({ path: file as `${string}.png`, fullPage: true });
      console.log(`[components] screenshot saved to ${file}`);
    }
    expect(unexpected(problems), 'console errors, page errors or failed requests').toEqual([]);
  });
});
