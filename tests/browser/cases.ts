/**
 * The ops the browser test runs, by name: each takes uploaded inputs (by name) and returns the
 * tensors to read back (by name). To cover a new op in the browser, add an entry here and a case
 * with its float64 reference in browser.test.ts; the page and the harness need no change.
 */
import type { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { activation, activationBackward, type Activation } from '../../src/ops/activation.js';
import { sumToChannels } from '../../src/ops/reduce.js';
import type { CaseParams } from './protocol.js';

export type BrowserCase = (rt: Runtime, inputs: Record<string, Tensor>, params: CaseParams) => Record<string, Tensor>;

export const CASES: Record<string, BrowserCase> = {
  /** inputs x, dy; params { kind } -> y = act(x), dx = dL/dx for upstream dy. */
  activation(rt, { x, dy }, { kind }) {
    const y = activation(rt, x, kind as Activation);
    return { y, dx: activationBackward(rt, dy, y, kind as Activation) };
  },
  /** inputs x [..., C] -> sum [C]. */
  sumToChannels(rt, { x }) {
    return { sum: sumToChannels(rt, x) };
  },
};
