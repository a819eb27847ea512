/**
 * The shortcut study page (demo/shortcut.html) end to end in Debian's Chromium on SwiftShader, at
 * settings small enough for a software adapter (200 pictures, 2 epochs): it trains both models in
 * the page, fills the table with both models' numbers and draws 16 maps, with no console error.
 * Skipped where /usr/bin/chromium is missing (a failure with WEBGPU_XAI_REQUIRE_ADAPTER=1).
 */
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer';
import { CHROMIUM, REPO_ROOT, closeBrowser, launchBrowser, openPage } from '../browser/harness.js';

const describeBrowser = existsSync(CHROMIUM) || process.env.WEBGPU_XAI_REQUIRE_ADAPTER ? describe : describe.skip;

describeBrowser('demo/shortcut.html', () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let profile: string | undefined;
  let origin = '';

  beforeAll(async () => {
    server = await createServer({
      configFile: resolve(REPO_ROOT, 'vite.config.ts'), logLevel: 'warn', clearScreen: false,
      server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, watch: null },
    });
    await server.listen();
    origin = `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`;
    ({ browser, profile } = await launchBrowser({ viewport: { width: 1100, height: 1400 } }));
  }, 60_000);

  afterAll(async () => {
    await closeBrowser(browser, profile);
    await server?.close();
  });

  it('trains both models in the page and shows their numbers and maps', async () => {
    const { page, problems } = await openPage(browser!, `${origin}/shortcut.html?auto-run&train-count=200&epochs=2`);
    await page.waitForFunction(() => ['done', 'error', 'no-webgpu'].includes(document.body.dataset.demo ?? ''), { timeout: 240_000, polling: 500 });
    expect(await page.evaluate(() => document.body.dataset.demo)).toBe('done');
    const rows = await page.$$eval('#table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows).toHaveLength(2);
    expect(rows[0][0]).toBe('0.97');
    expect(rows[1][0]).toBe('0.50');
    for (const row of rows) {
      expect(row[1]).toMatch(/^\d+\.\d%$/);
      expect(row[2]).toMatch(/^\d+\.\d%$/);
      for (const share of row.slice(3)) expect(Number(share)).toBeGreaterThan(0);
    }
    expect(await page.$$eval('#maps xai-heatmap', (maps) => maps.length)).toBe(16);
    expect(await page.$eval('#reading', (p) => p.textContent)).toMatch(/Background is \d+% of each picture/);
    expect(problems).toEqual([]);
  }, 300_000);
});
