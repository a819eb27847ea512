/**
 * <xai-filter-gallery generator=...>: the class images through a generator, in Chromium on SwiftShader,
 * with the committed digit classifier and its VAE decoder (npm run train:digits) loaded from their URLs.
 * Checks what the section shows against Explainer.visualizeClassWithGenerator called directly.
 * Skipped where /usr/bin/chromium is missing (WEBGPU_XAI_REQUIRE_ADAPTER=1 fails instead).
 */
import { existsSync } from 'node:fs';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, PAGE_PATH, closeBrowser, launchBrowser, openPage, startServer, type Browser, type Page } from './harness.js';
import type { PageReady } from './protocol.js';

const required = Boolean(process.env.WEBGPU_XAI_REQUIRE_ADAPTER);
const hasChromium = existsSync(CHROMIUM);
const describeBrowser = hasChromium || required ? describe : describe.skip;

describeBrowser(`<xai-filter-gallery> generator (${CHROMIUM}, WebGPU on SwiftShader)`, () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let profile: string | undefined;
  let page: Page;
  let problems: string[] = [];
  let ready: PageReady;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but ${CHROMIUM} is missing (Debian: apt-get install chromium)`);
    const started = await startServer();
    server = started.server;
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

  it('digits (model-url) + generator URL, 40 steps: ten class images, drawn and captioned, equal to visualizeClassWithGenerator', async ({ skip }) => {
    if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
    const out = await page.evaluate(async () => {
      const t = window.xaiTest;
      t.clear();
      const element = document.createElement('xai-filter-gallery');
      const events = t.record(t.stage, ['xai-generated', 'xai-progress', 'xai-error']);
      element.modelUrl = '/models/digits/model.json';
      t.stage.append(element);
      await new Promise((resolve) => element.addEventListener('xai-model-ready', resolve, { once: true }));
      await element.updateComplete;
      const root = element.shadowRoot!;
      const sectionBefore = root.querySelector('[part~="generator"]') !== null;
      element.generator = '/models/digits-generator/model.json';
      element.generatorSteps = 40;
      await element.updateComplete;
      const generated = new Promise<void>((resolve) => element.addEventListener('xai-generated', () => resolve(), { once: true }));
      (root.querySelector('[part~="generator-button"]') as HTMLButtonElement).click();
      await generated;
      await element.updateComplete;
      const result = element.generatorVisualization!;
      const explainer = element.activeExplainer!;
      const generator = t.engine.Model.create(explainer.runtime, await t.engine.loadModelSpec(t.engine.modelFiles('/models/digits-generator/model.json')));
      const direct = await explainer.visualizeClassWithGenerator(generator, { classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], steps: 40 });
      generator.dispose();
      const canvases = Array.from(root.querySelectorAll<HTMLCanvasElement>('canvas[data-class-index]'));
      return {
        sectionBefore,
        classes: result.classes,
        shape: result.shape,
        probabilities: result.probabilities,
        directProbabilities: direct.probabilities,
        imageDifference: Math.max(...Array.from(result.images, (v, i) => Math.abs(v - direct.images[i]))),
        images: Array.from(result.images),
        shown: canvases.map((c) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data)),
        captions: Array.from(root.querySelectorAll('[part~="class-image"] figcaption'), (f) => f.textContent?.replace(/\s+/g, ' ').trim()),
        summary: root.querySelector('[part~="generator-summary"]')?.textContent,
        events: events.map((e) => e.type),
        progress: events.filter((e) => e.type === 'xai-progress').map((e) => (e.detail as { method: string }).method),
      };
    });
    console.log(`[filter-gallery-generator] probabilities ${out.probabilities.map((p) => p.toFixed(3)).join(', ')}`);
    expect(out.sectionBefore).toBe(false);
    expect(out.events.filter((e) => e === 'xai-error')).toEqual([]);
    expect(out.events.filter((e) => e === 'xai-generated')).toEqual(['xai-generated']);
    expect(new Set(out.progress)).toEqual(new Set(['generator-class']));
    expect(out.classes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(out.shape).toEqual([10, 28, 28, 1]);
    // the same seed and steps: the component's run is the engine's
    expect(out.imageDifference).toBeLessThan(1e-6);
    out.probabilities.forEach((p, i) => expect(p).toBeCloseTo(out.directProbabilities[i], 6));
    // most classes are reached already in 40 steps (the Node test asks every class > 0.9 in 120)
    expect(out.probabilities.reduce((a, b) => a + b, 0) / 10).toBeGreaterThan(0.8);
    // each canvas shows its image: gray in [0, 1] to 0..255
    out.shown.forEach((pixels, n) => {
      expect(pixels.length).toBe(28 * 28 * 4);
      for (let p = 0; p < 28 * 28; p += 7) expect(Math.abs(pixels[p * 4] - Math.round(out.images[n * 784 + p] * 255))).toBeLessThanOrEqual(1);
    });
    expect(out.captions).toHaveLength(10);
    // the class (the model's label when it has labels) and its probability, as formatValue writes it
    expect(out.captions[3]).toBe(`class 3 · ${Number(out.probabilities[3].toPrecision(3))}`);
    expect(out.summary).toMatch(/^10 class images through the generator in /);
    expect(problems).toEqual([]);
  });
});
