/**
 * End to end, in Debian's Chromium on its SwiftShader adapter (tests/browser/harness.ts):
 *
 * - the demo (demo/, served by Vite with the repository's vite.config.ts) opens on the emotion
 *   model and the astronaut's face and runs every method of its story; then the antispoof model;
 *   then the same page in a browser without WebGPU shows its message; its "which map is faithful"
 *   view measures the comparison's maps by deletion and insertion, with the Explainer's own AUCs;
 *   with the digit model, its embedding view lays out 100 held-out digits by PCA of a layer and its
 *   class view draws one picture per digit;
 * - the static site of `npm run build:demo` (built into a temporary folder) loads its bundled
 *   model and photo from relative paths and explains on request;
 * - the example page (examples/index.html) runs one <xai-explainer> from the BUILT package, served
 *   as plain static files with an import map (no bundler): the library is built into a temporary
 *   folder first and served at /dist/.
 *
 * Every page must log no console error, page error or failed request. Small settings come in
 * through the URL so that the whole file stays near a minute on SwiftShader; screenshots go to
 * test-results/demo/. WEBGPU_XAI_DOCS=1 instead runs the demo with the settings a first visitor
 * gets and writes the screenshots to docs/ (demo-emotion.png, demo-antispoof.png, example.png):
 * several minutes on SwiftShader.
 * Skipped where /usr/bin/chromium is missing; with WEBGPU_XAI_REQUIRE_ADAPTER=1 that, or a browser
 * without a WebGPU adapter, fails instead.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'puppeteer';
import { build, createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../examples/serve.mjs';
import { ASTRONAUT, copyModels } from '../../scripts/copy-models.mjs';
import { CHROMIUM, REPO_ROOT, closeBrowser, launchBrowser, openPage } from '../browser/harness.js';

const required = Boolean(process.env.WEBGPU_XAI_REQUIRE_ADAPTER);
const hasChromium = existsSync(CHROMIUM);
const hasPhoto = existsSync(ASTRONAUT);
const forDocs = Boolean(process.env.WEBGPU_XAI_DOCS);
const SCREENSHOTS = resolve(REPO_ROOT, forDocs ? 'docs' : 'test-results/demo');
const CONFIG = resolve(REPO_ROOT, 'vite.config.ts');
/** SmoothGrad samples, IG steps, filters and ascent steps small enough for SwiftShader. */
const SMALL = forDocs ? '' : 'samples=4&steps=4&filters=3&vizSteps=8';
/** How long one model's story may take. */
const STORY_TIMEOUT = forDocs ? 600_000 : 120_000;
/** The story's last section: the demo screenshots end there. */
const STORY_END = 'section[data-method="filters"]';
const METHODS = ['saliency', 'smoothgrad', 'integrated-gradients', 'filters'];

const describeBrowser = hasChromium || required ? describe : describe.skip;

/** Between-class over within-class sum of squares of 2-D points [count * 2] with a class per point. */
function classSeparation(points: number[], labels: number[]): number {
  const classes = [...new Set(labels)];
  const centre = (idx: number[]) => [0, 1].map((d) => idx.reduce((a, i) => a + points[i * 2 + d], 0) / idx.length);
  const all = labels.map((_, i) => i);
  const [cx, cy] = centre(all);
  let between = 0;
  let within = 0;
  for (const c of classes) {
    const idx = all.filter((i) => labels[i] === c);
    const [mx, my] = centre(idx);
    between += idx.length * ((mx - cx) ** 2 + (my - cy) ** 2);
    for (const i of idx) within += (points[i * 2] - mx) ** 2 + (points[i * 2 + 1] - my) ** 2;
  }
  return between / within;
}

/** The demo's dev server: the repository's config (demo/ root, models copied), on 127.0.0.1, no watcher. */
async function startDemoServer(): Promise<{ server: ViteDevServer; origin: string }> {
  const server = await createServer({
    configFile: CONFIG,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, watch: null },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

interface StoryState {
  page: string | undefined;
  sections: Record<string, { status: string | undefined; text: string }>;
  times: Record<string, { settings: string; time: string }>;
  adapter: string;
  prediction: string;
  completeness: string;
}

function readStory(page: Page): Promise<StoryState> {
  return page.evaluate(() => {
    const sections: StoryState['sections'] = {};
    for (const el of document.querySelectorAll<HTMLElement>('section[data-method]')) {
      sections[el.dataset.method!] = { status: el.dataset.status, text: el.querySelector('.status')?.textContent ?? '' };
    }
    const times: StoryState['times'] = {};
    for (const row of document.querySelectorAll<HTMLTableRowElement>('#times tbody tr')) {
      times[row.dataset.method!] = { settings: row.cells[1].textContent ?? '', time: row.cells[2].textContent ?? '' };
    }
    return {
      page: document.body.dataset.demo,
      sections,
      times,
      adapter: document.querySelector('#adapter')?.textContent ?? '',
      prediction: document.querySelector('#prediction')?.textContent ?? '',
      completeness: document.querySelector('.completeness')?.textContent ?? '',
    };
  });
}

/** Waits until the page is idle with every section finished (done, or failed: the test then says which). */
async function waitForStory(page: Page, timeout: number): Promise<StoryState> {
  await page.waitForFunction(
    (methods: string[]) =>
      document.body.dataset.demo === 'idle' &&
      methods.every((m) => ['done', 'error', 'cancelled'].includes(document.querySelector<HTMLElement>(`section[data-method="${m}"]`)?.dataset.status ?? '')),
    { timeout, polling: 250 },
    METHODS,
  );
  return readStory(page);
}

function expectStoryDone(state: StoryState, label: string): void {
  for (const m of METHODS) expect(state.sections[m], `${label}: section ${m}: ${state.sections[m]?.text}`).toMatchObject({ status: 'done' });
  for (const m of METHODS) expect(state.times[m]?.time, `${label}: time of ${m}`).toMatch(/^\d+(\.\d+)? m?s$/);
  console.log(`[demo-times] ${label}: ${METHODS.map((m) => `${m} ${state.times[m].time} (${state.times[m].settings})`).join('; ')}`);
}

/** Resolves once every <xai-heatmap> on the page (outside shadow roots) has drawn its map. */
function drawn(page: Page): Promise<unknown> {
  return page.evaluate(() => Promise.all([...document.querySelectorAll('xai-heatmap')].map((h) => (h as unknown as { drawComplete: Promise<void> }).drawComplete)));
}

/** Saves the page from its top down to the bottom of `until` (default: the whole page). */
async function screenshot(page: Page, name: string, until?: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name) as `${string}.png`;
  const bottom = until ? await page.$eval(until, (el) => el.getBoundingClientRect().bottom + window.scrollY + 16) : undefined;
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  await page.screenshot(bottom ? { path, clip: { x: 0, y: 0, width, height: bottom }, captureBeyondViewport: true } : { path, fullPage: true });
}

describeBrowser(`demo and example in ${CHROMIUM} (WebGPU on SwiftShader)`, () => {
  let browser: Browser | undefined;
  let profile: string | undefined;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but ${CHROMIUM} is missing (Debian: apt-get install chromium)`);
    await copyModels(undefined, { warn: () => {} });
    ({ browser, profile } = await launchBrowser());
  });

  afterAll(async () => {
    await closeBrowser(browser, profile);
  });

  describe('demo', () => {
    let server: ViteDevServer | undefined;
    let origin = '';

    beforeAll(async () => {
      ({ server, origin } = await startDemoServer());
    });

    afterAll(async () => {
      await server?.close();
    });

    it('emotion on the astronaut: every method of the story, then antispoof; no console errors', async ({ skip }) => {
      if (!hasPhoto) skip(`${ASTRONAUT} is missing (Debian: apt-get install python3-skimage): the demo opens without a picture`);
      const { page, problems } = await openPage(browser!, `${origin}/?${SMALL}`);
      try {
        await page.setViewport({ width: 1100, height: 900 });
        await page.waitForFunction(() => document.body.dataset.demo && document.body.dataset.demo !== 'loading', { timeout: 60_000 });
        const first = await readStory(page);
        if (first.page === 'no-webgpu') {
          if (required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${first.adapter}`);
          skip('no WebGPU adapter in the browser');
        }
        console.log(`[browser-adapter] ${first.adapter}`);

        const emotion = await waitForStory(page, STORY_TIMEOUT);
        expectStoryDone(emotion, 'emotion');
        expect(emotion.prediction, 'the astronaut smiles').toMatch(/says happy/);
        expect(emotion.completeness).toMatch(/Completeness error\s*\d+(\.\d+)?%/);
        // <xai-activations> computes its feature maps by itself once it has the model and the picture
        const activations = await page.$eval('#activations', (el) => (el as unknown as { whenComputed(): Promise<{ shape: number[] } | undefined> }).whenComputed().then((a) => a?.shape));
        expect(activations, 'feature maps of a spatial layer').toHaveLength(3);
        await drawn(page);
        await screenshot(page, 'demo-emotion.png', STORY_END);

        if (!forDocs) {
          // antispoof is ~10x the work of emotion per pass: smaller settings through the page's own inputs
          for (const [name, value] of Object.entries({ samples: '2', steps: '2', filters: '2' })) {
            await page.$eval(`input[name="${name}"]`, (el, v) => ((el as HTMLInputElement).value = v), value);
          }
          await page.$eval('#gallery', (gallery) => ((gallery as unknown as { steps: number }).steps = 4));
        }
        await page.click('input[name="model"][value="antispoof"]');
        await page.waitForFunction(() => /antispoof\) says/.test(document.querySelector('#prediction')?.textContent ?? ''), { timeout: 60_000 });
        const antispoof = await waitForStory(page, STORY_TIMEOUT);
        expectStoryDone(antispoof, 'antispoof');
        expect(antispoof.prediction).toMatch(/says (real|spoof)/);
        await drawn(page);
        await screenshot(page, 'demo-antispoof.png', STORY_END);

        expect(problems, 'console errors, page errors or failed requests').toEqual([]);
      } finally {
        await page.close();
      }
    }, forDocs ? 1_500_000 : 240_000);

    it('which map is faithful: Measure runs the comparison (saliency, Grad-CAM, RISE) and shows each map\'s deletion and insertion curves; their AUCs equal the Explainer\'s for the same map', async ({ skip }) => {
      if (!hasPhoto) skip(`${ASTRONAUT} is missing (Debian: apt-get install python3-skimage): the demo opens without a picture`);
      const { page, problems } = await openPage(browser!, `${origin}/?auto=0&${SMALL}&curveSteps=4`);
      try {
        await page.waitForFunction(() => document.body.dataset.demo && !['loading', 'running'].includes(document.body.dataset.demo), { timeout: 60_000 });
        const first = await readStory(page);
        if (first.page === 'no-webgpu') {
          if (required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${first.adapter}`);
          skip('no WebGPU adapter in the browser');
        }
        expect(first.sections.faithful?.status, 'auto=0: nothing runs by itself').toBe('idle');
        await page.$eval('#compare', (el) => Object.assign(el, { methods: ['saliency', 'gradcam', 'rise'], masks: 32 }));
        await page.click('section[data-method="faithful"] button.run');
        await page.waitForFunction(
          () => ['done', 'error', 'cancelled'].includes(document.querySelector<HTMLElement>('section[data-method="faithful"]')?.dataset.status ?? ''),
          { timeout: STORY_TIMEOUT, polling: 250 },
        );
        const state = await readStory(page);
        expect(state.sections.faithful, state.sections.faithful.text).toMatchObject({ status: 'done' });
        expect(state.sections.faithful.text).toMatch(/^Lowest deletion AUC: .+; highest insertion AUC: .+\.$/);
        expect(state.times.faithful?.settings).toBe('3 maps × 2 curves × 4 steps');
        const out = await page.evaluate(async () => {
          type Curve = { auc: number };
          type Compare = HTMLElement & {
            results: { method: string; attribution?: { values: Float32Array; shape: number[] } }[];
            pixels: unknown;
            activeExplainer: { model: { inputShape: number[] }; inputRange: [number, number]; deletion(i: unknown, m: unknown, o: unknown): Promise<Curve>; insertion(i: unknown, m: unknown, o: unknown): Promise<Curve> };
          };
          const compare = document.querySelector('#compare') as Compare;
          const explainer = compare.activeExplainer;
          // the engine module the page itself loaded (same URL: the same module instance)
          const url = performance.getEntriesByType('resource').map((e) => e.name).find((name) => new URL(name).pathname.endsWith('/src/index.ts'));
          // a Function body, so that the test file's transform leaves this import() to the page
          const load = new Function('url', 'return import(url)') as (url: string) => Promise<{ imageToInput(p: unknown, o: unknown): unknown }>;
          const engine = await load(url!);
          const input = engine.imageToInput(compare.pixels, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
          const expected = [];
          for (const entry of compare.results) {
            if (!entry.attribution) continue;
            const deletion = await explainer.deletion(input, entry.attribution, { steps: 4 });
            const insertion = await explainer.insertion(input, entry.attribution, { steps: 4 });
            expected.push({ method: entry.method, deletion: deletion.auc, insertion: insertion.auc });
          }
          const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('#faithfulness tbody tr'), (row) => ({
            method: row.dataset.method,
            deletion: Number(row.dataset.deletion),
            insertion: Number(row.dataset.insertion),
            shown: [row.cells[2].textContent, row.cells[3].textContent],
            curves: Array.from(row.querySelectorAll('svg polyline'), (line) => `${line.getAttribute('class')}:${line.getAttribute('points')!.split(' ').length}`),
          }));
          return { expected, rows };
        });
        expect(out.expected.map((e) => e.method)).toEqual(['saliency', 'gradcam', 'rise']);
        expect(out.rows.map((r) => r.method)).toEqual(['saliency', 'gradcam', 'rise']);
        out.rows.forEach((row, i) => {
          const { deletion, insertion } = out.expected[i];
          console.log(`[demo-faithful] ${row.method}: deletion AUC ${deletion.toFixed(4)}, insertion AUC ${insertion.toFixed(4)}`);
          expect(row.deletion, `${row.method}: deletion AUC`).toBe(deletion);
          expect(row.insertion, `${row.method}: insertion AUC`).toBe(insertion);
          expect(row.shown).toEqual([deletion.toFixed(3), insertion.toFixed(3)]);
          expect(row.curves, 'both curves, 4 steps + 1 points each').toEqual(['deletion:5', 'insertion:5']);
        });
        await mkdir(SCREENSHOTS, { recursive: true });
        await (await page.$('section[data-method="faithful"]'))!.screenshot({ path: join(SCREENSHOTS, 'demo-faithful.png') as `${string}.png` });
        expect(problems, 'console errors, page errors or failed requests').toEqual([]);
      } finally {
        await page.close();
      }
    }, 240_000);

    it('Part 2 on the digit model: 100 held-out digits laid out by PCA of its hidden layer, one dot per digit, coloured by class; one class picture per digit; class images through the VAE decoder in the gallery', async ({ skip }) => {
      const { page, problems } = await openPage(browser!, `${origin}/?model=digits&auto=0&vizSteps=8`);
      try {
        await page.waitForFunction(() => /digits?\) says/.test(document.querySelector('#prediction')?.textContent ?? '') || document.body.dataset.demo === 'no-webgpu', { timeout: 60_000 });
        const first = await readStory(page);
        if (first.page === 'no-webgpu') {
          if (required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${first.adapter}`);
          skip('no WebGPU adapter in the browser');
        }
        expect(await page.$eval('select[name="embedding-layer"]', (el) => (el as HTMLSelectElement).value), 'the layer that feeds the logits').toBe('hidden');
        await page.click('section[data-method="embedding"] button.run');
        await page.waitForFunction(
          () => ['done', 'error', 'cancelled'].includes(document.querySelector<HTMLElement>('section[data-method="embedding"]')?.dataset.status ?? ''),
          { timeout: STORY_TIMEOUT, polling: 250 },
        );
        const state = await readStory(page);
        expect(state.sections.embedding, state.sections.embedding.text).toMatchObject({ status: 'done' });
        expect(state.sections.embedding.text).toMatch(/^100 pictures, hidden \(128 features\): /);
        const out = await page.$eval('#embedding', (el) => {
          const view = el as unknown as { embedding: { count: number; dimensions: number; layer: string; points: Float32Array }; labels: number[]; thumbnails: { width: number }[]; labelNames: string[] };
          return { count: view.embedding.count, dimensions: view.embedding.dimensions, layer: view.embedding.layer, points: Array.from(view.embedding.points), labels: Array.from(view.labels), thumbnails: view.thumbnails.length, width: view.thumbnails[0].width, names: view.labelNames };
        });
        expect(out).toMatchObject({ count: 100, dimensions: 2, layer: 'hidden', thumbnails: 100, width: 28, names: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
        expect(out.labels).toEqual(Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)));
        // what the section says: the layer before the output separates the classes, an early one mixes them
        const hidden = classSeparation(out.points, out.labels);
        await page.select('select[name="embedding-layer"]', 'conv1');
        await page.click('section[data-method="embedding"] button.run');
        await page.waitForFunction(
          () => document.querySelector<HTMLElement>('section[data-method="embedding"]')?.dataset.status === 'done' && /conv1/.test(document.querySelector('section[data-method="embedding"] .status')?.textContent ?? ''),
          { timeout: STORY_TIMEOUT, polling: 250 },
        );
        const [points, labels] = await page.$eval('#embedding', (el) => {
          const view = el as unknown as { embedding: { points: Float32Array }; labels: number[] };
          return [Array.from(view.embedding.points), Array.from(view.labels)] as [number[], number[]];
        });
        const conv1 = classSeparation(points, labels);
        console.log(`[demo-embedding] PCA between-class / within-class spread: hidden ${hidden.toFixed(2)}, conv1 ${conv1.toFixed(2)}`);
        expect(hidden).toBeGreaterThan(2 * conv1);
        await mkdir(SCREENSHOTS, { recursive: true });
        await (await page.$('section[data-method="embedding"]'))!.screenshot({ path: join(SCREENSHOTS, 'demo-embedding.png') as `${string}.png` });

        // and what each class looks like: one picture per digit, each raising its class's logit
        await page.click('section[data-method="classes"] button.run');
        await page.waitForFunction(
          () => ['done', 'error', 'cancelled'].includes(document.querySelector<HTMLElement>('section[data-method="classes"]')?.dataset.status ?? ''),
          { timeout: STORY_TIMEOUT, polling: 250 },
        );
        const classes = await readStory(page);
        expect(classes.sections.classes, classes.sections.classes.text).toMatchObject({ status: 'done' });
        expect(classes.times.classes?.settings).toBe('10 classes × 8 steps');
        const figures = await page.$$eval('#class-images figure', (all) => all.map((f) => ({ index: Number((f as HTMLElement).dataset.class), caption: f.querySelector('figcaption')!.textContent! })));
        expect(figures.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        for (const f of figures) {
          const [start, final] = /logit (\S+) → (\S+)$/.exec(f.caption)!.slice(1).map(Number);
          expect(final, `class ${f.index}: ${f.caption}`).toBeGreaterThan(start);
        }
        await (await page.$('section[data-method="classes"]'))!.screenshot({ path: join(SCREENSHOTS, 'demo-classes.png') as `${string}.png` });

        // the gallery offers class images through the digit model's VAE decoder (copied with the model): 4 steps here
        const generated = await page.$eval('#gallery', async (el) => {
          const gallery = el as unknown as HTMLElement & { generator?: string; generatorSteps: number; updateComplete: Promise<boolean> };
          gallery.generatorSteps = 4;
          await gallery.updateComplete;
          const done = new Promise<{ classes: number[]; probabilities: number[] }>((resolve) => gallery.addEventListener('xai-generated', (e) => resolve((e as CustomEvent).detail.result), { once: true }));
          gallery.shadowRoot!.querySelector<HTMLButtonElement>('[part~="generator-button"]')!.click();
          const result = await done;
          await gallery.updateComplete;
          return { generator: gallery.generator, classes: result.classes, images: gallery.shadowRoot!.querySelectorAll('[part~="generator-grid"] canvas').length };
        });
        expect(generated).toEqual({ generator: 'models/digits-generator/model.json', classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], images: 10 });
        expect(problems, 'console errors, page errors or failed requests').toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('without WebGPU the page says so instead of staying blank', async () => {
      const page = await browser!.newPage();
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
      page.on('pageerror', (e) => problems.push(String(e)));
      try {
        // a browser without WebGPU: navigator.gpu is undefined
        await page.evaluateOnNewDocument(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
        await page.goto(`${origin}/?auto=0`, { waitUntil: 'load' });
        await page.waitForFunction(() => document.body.dataset.demo === 'no-webgpu', { timeout: 30_000 });
        const shown = await page.evaluate(() => ({
          message: document.querySelector<HTMLElement>('#no-webgpu')!.hidden ? '' : document.querySelector('#no-webgpu')!.textContent ?? '',
          appHidden: document.querySelector<HTMLElement>('#app')!.hidden,
        }));
        expect(shown.message).toMatch(/no WebGPU/);
        expect(shown.appHidden).toBe(true);
        expect(problems).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });

  describe('built demo (npm run build:demo), served as static files', () => {
    let site: string | undefined;
    let close: (() => Promise<void>) | undefined;
    let origin = '';

    beforeAll(async () => {
      site = await mkdtemp(join(tmpdir(), 'webgpu-xai-demo-'));
      await build({ configFile: CONFIG, mode: 'demo', logLevel: 'error', build: { outDir: site, emptyOutDir: true } });
      ({ origin, close } = await serveStatic({ root: site }));
    });

    afterAll(async () => {
      await close?.();
      if (site) await rm(site, { recursive: true, force: true });
    });

    it('loads its bundled model and photo from relative paths and explains on demand', async ({ skip }) => {
      if (!hasPhoto) skip(`${ASTRONAUT} is missing (Debian: apt-get install python3-skimage)`);
      const { page, problems } = await openPage(browser!, `${origin}/?auto=0`);
      try {
        await page.waitForFunction(() => document.body.dataset.demo && !['loading', 'running'].includes(document.body.dataset.demo), { timeout: 60_000 });
        const state = await readStory(page);
        if (state.page === 'no-webgpu') {
          if (required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${state.adapter}`);
          skip('no WebGPU adapter in the browser');
        }
        expect(state.prediction).toMatch(/says happy/);
        expect(state.sections.saliency.status, 'auto=0: nothing runs by itself').toBe('idle');
        await page.click('section[data-method="saliency"] button.run');
        await page.waitForFunction(() => document.querySelector<HTMLElement>('section[data-method="saliency"]')?.dataset.status === 'done', { timeout: 60_000 });
        expect(problems, 'console errors, page errors or failed requests').toEqual([]);
      } finally {
        await page.close();
      }
    });
  });

  describe('example (built package, static files, import map)', () => {
    let dist: string | undefined;
    let close: (() => Promise<void>) | undefined;
    let origin = '';

    beforeAll(async () => {
      // a fresh library build, served at /dist/, so the test checks today's sources without touching dist/
      dist = await mkdtemp(join(tmpdir(), 'webgpu-xai-dist-'));
      await build({ configFile: CONFIG, mode: 'production', logLevel: 'warn', build: { outDir: dist, emptyOutDir: true } });
      ({ origin, close } = await serveStatic({ root: REPO_ROOT, mounts: { '/dist/': dist } }));
    });

    afterAll(async () => {
      await close?.();
      if (dist) await rm(dist, { recursive: true, force: true });
    });

    it('examples/index.html: <xai-explainer> explains the face from dist/ with no bundler', async ({ skip }) => {
      if (!hasPhoto) skip(`${ASTRONAUT} is missing (Debian: apt-get install python3-skimage)`);
      const { page, problems } = await openPage(browser!, `${origin}/examples/index.html`);
      try {
        await page.setViewport({ width: 900, height: 900 });
        const webgpu = await page.evaluate(async () => Boolean(await navigator.gpu?.requestAdapter()));
        if (!webgpu) {
          if (required) throw new Error('WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter');
          skip('no WebGPU adapter in the browser');
        }
        await page.waitForFunction(() => /saliency of “happy” in \d+ ms/.test(document.querySelector('#log')?.textContent ?? ''), { timeout: 60_000 });
        const log = await page.$eval('#log', (el) => el.textContent);
        console.log(`[example] ${log}`);
        await page.evaluate(() => (document.querySelector('xai-explainer') as unknown as { updateComplete: Promise<unknown> }).updateComplete);
        await page.evaluate(() => {
          const heatmap = document.querySelector('xai-explainer')!.shadowRoot!.querySelector('xai-heatmap') as unknown as { drawComplete: Promise<void> };
          return heatmap.drawComplete;
        });
        await screenshot(page, 'example.png');
        const scripts = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.endsWith('.js')));
        expect(scripts, 'the engine and the components come from the built package').toEqual(expect.arrayContaining(['/dist/components.js']));
        expect(scripts.filter((p) => p.startsWith('/src/')), 'no source module is loaded').toEqual([]);
        expect(problems, 'console errors, page errors or failed requests').toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
});
