/**
 * Node side of the browser test: a Vite dev server for the test page and Debian's Chromium driven
 * by puppeteer, with WebGPU on Chromium's SwiftShader adapter so it runs on machines without a GPU.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { createServer, type ViteDevServer } from 'vite';

/**
 * Debian's full Chromium: puppeteer downloads no browser here, and the `chromium-headless-shell`
 * builds have no WebGPU.
 */
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  // CPU Vulkan inside Chromium: the same adapter on every machine, GPU or not.
  '--use-webgpu-adapter=swiftshader',
  // nothing but the test page touches the network
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  // Vulkan (SwiftShader) for the compositor too: without it a 'webgpu' canvas context finds no
  // shared-image backing and the GPU process dies ("Instance dropped"); with Vulkan elsewhere
  // than SwiftShader, WebGPU canvases stay blank in screenshots
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** The page's path on the dev server (a data: or file: URL gets no WebGPU adapter). */
export const PAGE_PATH = '/tests/browser/index.html';

/**
 * A dev server on 127.0.0.1 and a free port. No config file (the demo's config does not leak in),
 * no file watcher (other work editing shaders/ must not reload the page mid-test), and no
 * dependency optimisation: the page's only dependency, wgsl_reflect, is plain ESM, and a
 * discovery pass on first load would reload the page.
 */
export async function startServer(): Promise<{ server: ViteDevServer; origin: string }> {
  const server = await createServer({
    configFile: false,
    root: REPO_ROOT,
    logLevel: 'warn',
    clearScreen: false,
    appType: 'mpa',
    server: { host: '127.0.0.1', port: 0, strictPort: true, hmr: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const { port } = server.httpServer!.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

/** Chromium with a fresh profile in a temporary directory (removed by `closeBrowser`). */
export interface LaunchOptions {
  /** Flags beyond CHROMIUM_FLAGS. */
  extraArgs?: string[];
  viewport?: { width: number; height: number };
}

export async function launchBrowser(options: LaunchOptions = {}): Promise<{ browser: Browser; profile: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'webgpu-xai-chromium-'));
  try {
    // headless: false, because the flags already say --headless=new (puppeteer's own would duplicate it)
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: false,
      args: [...CHROMIUM_FLAGS, ...(options.extraArgs ?? []), `--user-data-dir=${profile}`],
      defaultViewport: options.viewport,
    });
    return { browser, profile };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

export async function closeBrowser(browser: Browser | undefined, profile: string | undefined): Promise<void> {
  try {
    await browser?.close();
  } finally {
    if (profile) await rm(profile, { recursive: true, force: true });
  }
}

/**
 * Opens `url` and records every console error, uncaught page error and failed request in
 * `problems`; other console output is echoed with a `[page]` prefix.
 */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
    else if (message.type() !== 'debug') console.log(`[page] ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}
