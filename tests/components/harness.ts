/**
 * Node side of the components tests: the browser tests' Vite server, Chromium (whose flags let
 * WebGPU canvases composite on SwiftShader) and page helpers, from tests/browser/harness.ts.
 */
import type { Browser, Page } from 'puppeteer';
import { CHROMIUM, closeBrowser, launchBrowser as launch, openPage, startServer } from '../browser/harness.js';

export { CHROMIUM, closeBrowser, openPage, startServer };

export const PAGE_PATH = '/tests/components/index.html';

export function launchBrowser(): Promise<{ browser: Browser; profile: string }> {
  return launch({ viewport: { width: 1100, height: 900 } });
}

export type { Browser, Page };
