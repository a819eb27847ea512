/**
 * <xai-batch> in Chromium (the components test page, tests/components/index.html): a grid of
 * pictures under one method, each map equal to the engine's own, each card listing the top
 * classes; a picture that cannot be read fails alone; dropped files (a DataTransfer, as a drag
 * from the desktop delivers it) replace the batch and run. Skipped where /usr/bin/chromium is
 * missing (with WEBGPU_XAI_REQUIRE_ADAPTER=1 that fails instead).
 */
import { existsSync } from 'node:fs';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { absPercentile } from '../../src/explain/attribution.js';
import { freshSeed } from '../check.js';
import { CHROMIUM, PAGE_PATH, closeBrowser, launchBrowser, openPage, startServer, type Browser, type Page } from './harness.js';
import type { PageReady } from './protocol.js';

const required = Boolean(process.env.WEBGPU_XAI_REQUIRE_ADAPTER);
const describeBrowser = existsSync(CHROMIUM) || required ? describe : describe.skip;
const LABELS = ['cat', 'dog', 'owl', 'fox', 'elk'];

describeBrowser(`<xai-batch> (${CHROMIUM}, WebGPU on SwiftShader)`, () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let profile: string | undefined;
  let page: Page;
  let problems: string[] = [];
  let ready: PageReady;
  const seed = freshSeed();

  beforeAll(async () => {
    console.log(`[batch] seed=${seed} (replay with WEBGPU_XAI_SEED=${seed})`);
    const started = await startServer();
    server = started.server;
    ({ browser, profile } = await launchBrowser());
    ({ page, problems } = await openPage(browser, started.origin + PAGE_PATH));
    await page.waitForFunction(() => 'xaiTest' in window, { timeout: 30_000 });
    ready = await page.evaluate(() => window.xaiTest.ready);
    if (!ready.ok && required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${ready.error}`);
  });

  afterAll(async () => {
    try {
      await closeBrowser(browser, profile);
    } finally {
      await server?.close();
    }
  });

  it('tinyCnn saliency of 3 pictures and an unreadable file: 3 maps equal to the engine with their top-3 classes, one error card, events in order', async ({ skip }) => {
    if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
    const out = await page.evaluate(async (seed, labels) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-batch');
      const events = t.record(t.stage, ['xai-explained', 'xai-progress', 'xai-batch-explained', 'xai-error']);
      const pictures = [t.picture(7, 9, seed), t.picture(14, 18, seed + 1), t.picture(7, 9, seed + 2)];
      // the Explainer calls the element makes: how many pictures each one gets
      const calls: number[] = [];
      const saliency = explainer.saliency.bind(explainer);
      explainer.saliency = ((images: unknown, options: unknown) => (calls.push(Array.isArray(images) ? images.length : 1), saliency(images as never, options as never))) as unknown as typeof explainer.saliency;
      element.explainer = explainer;
      element.labels = labels;
      element.images = [
        { name: 'one.png', image: pictures[0] },
        { name: 'two.png', image: pictures[1] },
        { name: 'broken.png', image: new Blob(['not a picture'], { type: 'image/png' }) },
        { name: 'three.png', image: pictures[2] },
      ];
      t.stage.append(element);
      const results = await element.run();
      explainer.saliency = saliency;
      await element.updateComplete;
      const root = element.shadowRoot!;
      const heatmaps = Array.from(root.querySelectorAll('xai-heatmap'));
      await Promise.all(heatmaps.map((h) => h.drawComplete));
      const perMap = heatmaps.map((h) => h.scaleInUse);
      element.scaleMode = 'shared';
      await element.updateComplete;
      await Promise.all(heatmaps.map((h) => h.updateComplete.then(() => h.drawComplete)));
      const shared = { scales: heatmaps.map((h) => h.scaleInUse), element: element.sharedScale, maps: heatmaps.map((h) => Array.from(h.map ?? [])) };
      const direct = [];
      for (const picture of pictures) {
        const input = t.engine.imageToInput(picture, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
        const map = await explainer.saliency(input, { target: 'top' });
        const output = await explainer.activations(input, { layer: explainer.model.outputName });
        direct.push({ values: Array.from(map.values), target: map.target, probabilities: Array.from(output.values) });
      }
      return {
        statuses: results.map((r) => r.status),
        values: results.map((r) => Array.from(r.attribution?.values ?? [])),
        targets: results.map((r) => r.attribution?.target),
        top: results.map((r) => r.top?.map((c) => [c.index, c.name])),
        direct,
        cards: Array.from(root.querySelectorAll('[part~="card"]'), (card) => ({
          name: card.querySelector('[part~="name"]')?.textContent,
          classes: Array.from(card.querySelectorAll('[part~="classes"] li'), (li) => li.textContent?.replace(/\s+/g, ' ').trim()),
          state: card.querySelector('[part~="state"]')?.textContent?.replace(/\s+/g, ' ').trim(),
          alert: card.querySelector('[role="alert"]') !== null,
          canvas: (() => {
            const canvas = card.querySelector('xai-heatmap')?.shadowRoot?.querySelector('canvas');
            return canvas ? [canvas.width, canvas.height] : undefined;
          })(),
        })),
        events: events.map((e) => (e.type === 'xai-error' ? `xai-error:${(e.detail as { phase: string }).phase}` : e.type === 'xai-progress' ? `xai-progress:${(e.detail as { done: number }).done}/${(e.detail as { total: number }).total}` : e.type)),
        perMap,
        shared,
        calls,
        button: root.querySelector('[part~="run-button"]')?.textContent?.trim(),
        unlabelled: Array.from(root.querySelectorAll('select, input')).filter((c) => !c.id || !root.querySelector(`label[for="${c.id}"]`)).map((c) => c.outerHTML),
      };
    }, seed, LABELS);
    expect(out.statuses).toEqual(['done', 'done', 'error', 'done']);
    const done = [0, 1, 3];
    done.forEach((card, i) => {
      const { values, target, probabilities } = out.direct[i];
      expect(out.values[card], `${out.cards[card].name}: the map equals the engine called directly`).toEqual(values);
      expect(out.targets[card]).toBe(target);
      const best = probabilities.map((p, index) => ({ p, index })).sort((a, b) => b.p - a.p).slice(0, 3);
      expect(out.top[card]).toEqual(best.map(({ index }) => [index, LABELS[index]]));
      expect(out.cards[card].classes).toEqual(best.map(({ p, index }) => `${LABELS[index]} ${(p * 100).toFixed(p >= 0.1 ? 0 : 1)}%`));
      expect(out.cards[card].state).toMatch(new RegExp(`^Saliency of ${LABELS[target]} · (\\d+ ms|\\d+\\.\\d s)$`)); // the first pays for pipeline compilation
    });
    expect(out.cards.map((c) => c.name)).toEqual(['one.png', 'two.png', 'broken.png', 'three.png']);
    expect(out.cards.map((c) => c.canvas)).toEqual([[7, 9], [14, 18], undefined, [7, 9]]); // each map over its own picture
    expect(out.cards.map((c) => c.alert)).toEqual([false, false, true, false]);
    expect(out.cards[2].state).toMatch(/Could not load the image/);
    expect(out.calls, 'the 3 readable pictures in one Explainer call').toEqual([3]);
    // the unreadable picture first, then the run's progress over the pictures, then the maps in order
    expect(out.events[0]).toBe('xai-error:image');
    const progress = out.events.filter((e) => e.startsWith('xai-progress')).map((e) => Number(/:(\d+)\/4/.exec(e)![1]));
    expect(progress[0]).toBe(1);
    expect(progress.at(-1)).toBe(4);
    expect(progress.every((d, i) => i === 0 || d > progress[i - 1]), `pictures done only grow: ${progress}`).toBe(true);
    expect(out.events.slice(1 + progress.length)).toEqual(['xai-explained', 'xai-explained', 'xai-explained', 'xai-batch-explained']);
    // scale-mode: each map's own percentile, then one for all (the 99th percentile of |value| over the three maps)
    expect(new Set(out.perMap).size, 'per-map scales differ').toBe(3);
    expect(out.shared.maps.flat()).toHaveLength(3 * 9 * 7);
    expect(out.shared.element).toBeCloseTo(absPercentile(out.shared.maps.flat(), 99), 6);
    for (const scale of out.shared.scales) expect(scale).toBe(out.shared.element);
    expect(out.button).toBe('Explain 4 pictures');
    expect(out.unlabelled, 'every control has a <label for>').toEqual([]);
    // the broken picture's failed load is the only problem on the page
    expect(problems.filter((p) => !/Failed to load resource|blob:/.test(p))).toEqual([]);
  });

  it('tinyCnn SmoothGrad of 3 pictures, cancelled at the engine\'s first progress report: every card cancelled, xai-cancelled, the run rejects', async ({ skip }) => {
    if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const explainer = await t.explainer('tinyCnn', seed);
      const element = document.createElement('xai-batch');
      const events = t.record(t.stage, ['xai-explained', 'xai-cancelled', 'xai-batch-explained']);
      const reports: number[] = [];
      const smoothGrad = explainer.smoothGrad.bind(explainer);
      explainer.smoothGrad = ((images: unknown, options: { onProgress?: (p: { done: number; total: number }) => void }) =>
        smoothGrad(images as never, {
          ...options,
          onProgress: (p: { done: number; total: number }) => {
            reports.push(p.total);
            options.onProgress?.(p as never);
            element.cancel();
          },
        } as never)) as unknown as typeof explainer.smoothGrad;
      element.explainer = explainer;
      element.method = 'smoothgrad';
      element.images = [0, 1, 2].map((k) => ({ name: `${k}.png`, image: t.picture(7, 9, seed + k) }));
      t.stage.append(element);
      await element.updateComplete;
      const error = await element.run().then(() => 'resolved', (e: Error) => e.name);
      await element.updateComplete;
      explainer.smoothGrad = smoothGrad;
      return { error, reports, statuses: element.results.map((r) => r.status), events: events.map((e) => e.type) };
    }, seed);
    expect(out.error).toBe('AbortedError');
    expect(out.reports[0], 'the engine counts the copies of all 3 pictures').toBeGreaterThanOrEqual(3);
    expect(out.reports.length, 'cancelled within the one call').toBeGreaterThanOrEqual(1);
    expect(out.statuses).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(out.events).toEqual(['xai-cancelled']);
  });

  it('dropped files (two PNGs and a text file) replace the batch, sorted by name, and run', async ({ skip }) => {
    if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
    const out = await page.evaluate(async (seed) => {
      const t = window.xaiTest;
      t.clear();
      const element = document.createElement('xai-batch');
      element.explainer = await t.explainer('tinyCnn', seed);
      element.images = [{ name: 'old.png', image: t.picture(7, 9, seed) }];
      t.stage.append(element);
      await element.updateComplete;
      const png = async (s: number) => {
        const canvas = new OffscreenCanvas(7, 9);
        canvas.getContext('2d')!.putImageData(t.picture(7, 9, s), 0, 0);
        return canvas.convertToBlob({ type: 'image/png' });
      };
      const transfer = new DataTransfer();
      transfer.items.add(new File([await png(seed + 5)], 'b.png', { type: 'image/png' }));
      transfer.items.add(new File(['notes'], 'notes.txt', { type: 'text/plain' }));
      transfer.items.add(new File([await png(seed + 6)], 'a.png', { type: 'image/png' }));
      const finished = new Promise<CustomEvent>((resolve) => element.addEventListener('xai-batch-explained', (e) => resolve(e as CustomEvent), { once: true }));
      element.shadowRoot!.querySelector('[part~="dropzone"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      const { detail } = await finished;
      await element.updateComplete;
      return {
        names: element.images.map((i) => i.name),
        results: (detail.results as Array<{ name: string; status: string; top?: unknown[] }>).map((r) => [r.name, r.status, r.top?.length]),
      };
    }, seed);
    expect(out.names).toEqual(['a.png', 'b.png']);
    expect(out.results).toEqual([['a.png', 'done', 3], ['b.png', 'done', 3]]);
  });
});
