/**
 * Node side of the components tests: the browser tests' Vite server and page helpers
 * (tests/browser/harness.ts), and Chromium launched with two more things the components need.
 * Their heatmaps draw into WebGPU *canvases*, which Chromium composites through shared images:
 * with its default GL compositor and WebGPU on Vulkan SwiftShader there is no shared-image
 * backing for the canvas swap chain ("Could not find SharedImageBackingFactory ...
 * WebgpuSwapChainTexture") and the device is destroyed on first use. Compositing on Vulkan
 * SwiftShader too gives both sides one backend.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { CHROMIUM, CHROMIUM_FLAGS, closeBrowser, openPage, startServer } from '../browser/harness.js';

export { CHROMIUM, closeBrowser, openPage, startServer };

/** Vulkan (SwiftShader) for the compositor as well as for WebGPU, so WebGPU canvases can be shown. */
export const CANVAS_FLAGS = ['--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

export const PAGE_PATH = '/tests/components/index.html';

export async function launchBrowser(): Promise<{ browser: Browser; profile: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'webgpu-xai-components-'));
  try {
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: false, // CHROMIUM_FLAGS say --headless=new
      args: [...CHROMIUM_FLAGS, ...CANVAS_FLAGS, `--user-data-dir=${profile}`],
      defaultViewport: { width: 1100, height: 900 },
    });
    return { browser, profile };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}

export type { Browser, Page };
