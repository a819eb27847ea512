/**
 * The engine in a real browser: Chromium (puppeteer) loads tests/browser/index.html from a Vite dev
 * server, gets its device through `requestBrowserDevice`, runs ops forward and backward on random
 * inputs, and hands the results back; they are checked here against the float64 reference.
 * Skipped where /usr/bin/chromium is missing; with WEBGPU_XAI_REQUIRE_ADAPTER=1 a missing
 * Chromium or WebGPU adapter fails instead.
 */
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'puppeteer';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Activation, ActivationFunction } from '../../src/ops/activation.js';
import { GPU_TOLERANCE, randomSource, relativeError } from '../check.js';
import { activationBackwardRef, activationLabel, activationRef } from '../reference/activation.js';
import { binaryBackwardRef, binaryRef } from '../reference/binary.js';
import { concatBackwardRef, concatRef } from '../reference/concat.js';
import { irfft2dBackwardRef, irfft2dRef, validImageBackwardRef, validImageRef } from '../reference/fourier.js';
import { padBackwardRef, padRef } from '../reference/pad.js';
import { sumToChannelsRef } from '../reference/reduce.js';
import { reduceAxesBackwardRef, reduceAxesRef } from '../reference/reduce_axes.js';
import { sliceBackwardRef, sliceRef } from '../reference/slice.js';
import { randomTensor, type RefTensor } from '../reference/tensor.js';
import { CHROMIUM, PAGE_PATH, closeBrowser, launchBrowser, openPage, startServer } from './harness.js';
import type { CaseParams, CaseTensor, PageReady } from './protocol.js';

const required = Boolean(process.env.WEBGPU_XAI_REQUIRE_ADAPTER);
const hasChromium = existsSync(CHROMIUM);

/** One browser run: an op of tests/browser/cases.ts, random inputs, and the expected outputs. */
interface Case {
  title: string;
  op: string;
  params?: CaseParams;
  inputs(random: () => number): Record<string, RefTensor>;
  expected(inputs: Record<string, RefTensor>): Record<string, RefTensor>;
}

const ACTIVATIONS: Activation[] = ['linear', 'relu', 'relu6', 'sigmoid'];
/** Functions with their backward from the input, and the input scale (wide enough for the tails). */
const FUNCTIONS: [ActivationFunction, number][] = [
  ['tanh', 20], ['gelu', 8], ['geluTanh', 8], ['mish', 10], ['swish', 12], ['softplus', 30], ['selu', 6], ['erf', 3],
  [{ kind: 'elu', alpha: 0.3 }, 6], [{ kind: 'clip', lo: -0.75, hi: 1.5 }, 3], [{ kind: 'generalRelu', negativeSlope: 0.1, threshold: 0.5, maxValue: 2.5 }, 4],
];
const CASES: Case[] = [
  ...ACTIVATIONS.map((kind): Case => ({
    title: `activation ${kind} x=[2,5,7,13]`,
    op: 'activation',
    params: { kind },
    // scale 8 reaches ReLU6's kinks and sigmoid's flat tails
    inputs: (random) => ({ x: randomTensor([2, 5, 7, 13], random, 8), dy: randomTensor([2, 5, 7, 13], random) }),
    expected: ({ x, dy }) => ({ y: activationRef(x, kind), dx: activationBackwardRef(x, dy, kind) }),
  })),
  // the functions with transcendental pieces (SwiftShader's own exp/tanh/log) and parameters
  ...FUNCTIONS.map(([fn, scale]): Case => ({
    title: `activation ${activationLabel(fn)} x=[2,5,7,13]`,
    op: 'activationFunction',
    params: { fn: JSON.stringify(fn) },
    inputs: (random) => ({ x: randomTensor([2, 5, 7, 13], random, scale), dy: randomTensor([2, 5, 7, 13], random) }),
    expected: ({ x, dy }) => ({ y: activationRef(x, fn), dx: activationBackwardRef(x, dy, fn) }),
  })),
  // 297 rows: past one pass's 256, so the two-pass path runs too
  ...[[1, 4, 4, 7], [3, 9, 11, 5]].map((shape): Case => ({
    title: `sumToChannels x=[${shape}]`,
    op: 'sumToChannels',
    inputs: (random) => ({ x: randomTensor(shape, random) }),
    expected: ({ x }) => ({ sum: sumToChannelsRef(x) }),
  })),
  // the strided-view kernels (view.wgsl) and the reductions (reduce_axes.wgsl)
  ...([['constant', [0, 0, 1, 2, 0, 3, 2, 1], 0.5], ['reflect', [0, 0, 2, 1, 1, 3, 0, 2], 0], ['symmetric', [0, 0, 3, 0, 2, 2, 1, 3], 0]] as const).map(([mode, flat, value]): Case => {
    const shape = [2, 3, 5, 4];
    const options = { paddings: shape.map((_, k): [number, number] => [flat[2 * k], flat[2 * k + 1]]), mode, value };
    const padded = shape.map((d, k) => d + flat[2 * k] + flat[2 * k + 1]);
    return {
      title: `pad ${mode} x=[${shape}] p=[${flat}]`,
      op: 'pad',
      params: { paddings: [...flat], mode, value },
      inputs: (random) => ({ x: randomTensor(shape, random), dy: randomTensor(padded, random) }),
      expected: ({ x, dy }) => ({ y: padRef(x, options), dx: padBackwardRef(dy, shape, options) }),
    };
  }),
  {
    title: 'slice x=[2,7,6,5] begin=[0,6,1,4] size=[2,3,3,2] strides=[1,-2,2,-3]',
    op: 'slice',
    params: { begin: [0, 6, 1, 4], size: [2, 3, 3, 2], strides: [1, -2, 2, -3] },
    inputs: (random) => ({ x: randomTensor([2, 7, 6, 5], random), dy: randomTensor([2, 3, 3, 2], random) }),
    expected: ({ x, dy }) => {
      const window = { begin: [0, 6, 1, 4], size: [2, 3, 3, 2], strides: [1, -2, 2, -3] };
      return { y: sliceRef(x, window), dx: sliceBackwardRef(dy, x.shape, window) };
    },
  },
  ...(['sum', 'mean', 'max'] as const).map((reduction): Case => ({
    title: `reduceAxes ${reduction} x=[2,5,7,3] axes=[1,2]`,
    op: 'reduceAxes',
    params: { reduction, axes: [1, 2] },
    inputs: (random) => ({ x: randomTensor([2, 5, 7, 3], random), dy: randomTensor([2, 3], random) }),
    expected: ({ x, dy }) => ({ y: reduceAxesRef(x, reduction, [1, 2]), dx: reduceAxesBackwardRef(x, dy, reduction, [1, 2]) }),
  })),
  // ops-binary: squeeze-and-excitation broadcast with a two-chunk gradient reduction (437 terms)
  {
    title: 'binary maximum a=[2,23,19,3] b=[2,1,1,3]',
    op: 'binary',
    params: { op: 'maximum' },
    inputs: (random) => ({ a: randomTensor([2, 23, 19, 3], random), b: randomTensor([2, 1, 1, 3], random), dy: randomTensor([2, 23, 19, 3], random) }),
    expected: ({ a, b, dy }) => {
      const grads = binaryBackwardRef('maximum', a, b, dy);
      return { y: binaryRef('maximum', a, b), da: grads.a, db: grads.b };
    },
  },
  {
    title: 'concat [2,5,7,3] + [2,5,7,4] axis=-1',
    op: 'concat',
    params: { axis: -1 },
    inputs: (random) => ({ a: randomTensor([2, 5, 7, 3], random), b: randomTensor([2, 5, 7, 4], random), dy: randomTensor([2, 5, 7, 7], random) }),
    expected: ({ a, b, dy }) => {
      const [da, db] = concatBackwardRef(dy, [a.shape, b.shape], 3);
      return { y: concatRef([a, b], 3), da, db };
    },
  },

  // the Fourier image parametrization: DFT twiddles from a table, SwiftShader's exp in the sigmoid
  {
    title: 'irfft2d spectrum=[2,5,4,3,2] scale=[5,4] -> image=[2,5,7,3]',
    op: 'irfft2d',
    params: { width: 7 },
    inputs: (random) => ({ spectrum: randomTensor([2, 5, 4, 3, 2], random, 2), scale: randomTensor([5, 4], random, 3), dy: randomTensor([2, 5, 7, 3], random) }),
    expected: ({ spectrum, scale, dy }) => ({ y: irfft2dRef(spectrum, 7, scale), dspectrum: irfft2dBackwardRef(dy, scale) }),
  },
  {
    title: 'validImage x=[2,5,6,3] mixing=[3,3] range=[-1,2]',
    op: 'validImage',
    params: { low: -1, high: 2 },
    inputs: (random) => ({ x: randomTensor([2, 5, 6, 3], random, 6), mixing: randomTensor([3, 3], random), dy: randomTensor([2, 5, 6, 3], random) }),
    expected: ({ x, mixing, dy }) => ({ y: validImageRef(x, -1, 2, mixing.data), dx: validImageBackwardRef(x, dy, -1, 2, mixing.data) }),
  },
];

const plain = (t: RefTensor): CaseTensor => ({ shape: t.shape, data: Array.from(t.data) });

const describeBrowser = hasChromium || required ? describe : describe.skip;

describeBrowser(`browser (${CHROMIUM}, WebGPU on SwiftShader)`, () => {
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
    await page.waitForFunction(() => 'xaiReady' in window, { timeout: 30_000 });
    ready = await page.evaluate(() => window.xaiReady);
    if (ready.ok) console.log(`[browser-adapter] ${ready.adapter}`);
    else if (required) throw new Error(`WEBGPU_XAI_REQUIRE_ADAPTER is set but the browser has no WebGPU adapter: ${ready.error}`);
    else console.warn(`browser tests skipped: ${ready.error}`);
  });

  afterAll(async () => {
    try {
      await closeBrowser(browser, profile);
    } finally {
      await server?.close();
    }
  });

  for (const c of CASES) {
    it(c.title, async ({ skip }) => {
      if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
      const { seed, random } = randomSource();
      const inputs = c.inputs(random);
      const plainInputs = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, plain(t)]));
      const actual = await page.evaluate((op, ins, params) => window.runCase(op, ins, params), c.op, plainInputs, c.params ?? {});
      const expected = c.expected(inputs);
      expect(Object.keys(actual).sort(), `${c.title}: outputs`).toEqual(Object.keys(expected).sort());
      for (const [name, want] of Object.entries(expected)) {
        const label = `browser ${c.title} seed=${seed} ${name}`;
        expect(actual[name].shape, `${label}: shape`).toEqual(want.shape);
        const error = relativeError(actual[name].data, want.data);
        console.log(`[op-error] ${label} ${error.toExponential(2)}`);
        expect(error, `${label}: relative error (NaN means an element was never written)`).toBeLessThanOrEqual(GPU_TOLERANCE);
      }
      expect(problems, 'console errors, page errors or failed requests').toEqual([]);
    });
  }

  it('page logged no console errors, page errors or failed requests', ({ skip }) => {
    if (!ready.ok) skip(`no WebGPU adapter in the browser: ${ready.error}`);
    expect(problems).toEqual([]);
  });
});
