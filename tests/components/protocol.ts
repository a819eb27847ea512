/**
 * What the components test page (tests/components/main.ts) offers the Node tests through
 * puppeteer: `window.xaiTest`, used inside `page.evaluate` callbacks, which can only reach the
 * page's globals.
 */
import type { Explainer, ExplainerOptions } from '../../src/index.js';
import type * as Engine from '../../src/index.js';

export type PageReady = { ok: true; adapter: string } | { ok: false; error: string };

export interface ComponentsTestPage {
  /** Settles once the page has a device (never rejects). */
  ready: Promise<PageReady>;
  device: GPUDevice | undefined;
  /** The public engine API. */
  engine: typeof Engine;
  /** An Explainer on the page's device for a fixture of tests/model/fixtures.ts. */
  explainer(fixture: 'tinyCnn' | 'reluCnn' | 'residualCnn', seed: number, options?: ExplainerOptions): Promise<Explainer>;
  /** A deterministic picture of random colours. */
  picture(width: number, height: number, seed: number): ImageData;
  /** Where tests put their elements (emptied by `clear`). */
  stage: HTMLElement;
  clear(): void;
  /** The RGBA bytes a canvas shows (a WebGPU canvas is drawn onto a 2D canvas first). */
  canvasPixels(canvas: HTMLCanvasElement): number[];
  /** Events of `names` fired at or below `target`, in order, recorded from now on. */
  record(target: EventTarget, names: string[]): Array<{ type: string; detail: unknown }>;
}

declare global {
  interface Window {
    xaiTest: ComponentsTestPage;
  }
}
