/**
 * What the test page (tests/browser/main.ts) and the Node test (browser.test.ts) exchange through
 * puppeteer: plain JSON, so tensors travel as `{ shape, data }` with `data` a number array
 * (float32 values survive the trip exactly, since every float32 is a double).
 */
export interface CaseTensor {
  shape: number[];
  data: number[];
}

/** Op-specific settings of a case (activation kind, padding, ...): JSON values only. */
export type CaseParams = Record<string, string | number | boolean | number[] | null>;

/** What the page reports once it has a device, or why it has none. */
export type PageReady =
  | { ok: true; adapter: string; cases: string[] }
  | { ok: false; error: string };

declare global {
  interface Window {
    /** Settles once the page has a GPU device and a Runtime (never rejects). */
    xaiReady: Promise<PageReady>;
    /** Uploads `inputs`, runs the case named `name` from tests/browser/cases.ts, reads every output back. */
    runCase(name: string, inputs: Record<string, CaseTensor>, params?: CaseParams): Promise<Record<string, CaseTensor>>;
  }
}
