/** Small display helpers: which [H, W] map an attribution shows, its scale, and number formats. */
import { absPercentile, reduceChannels, type Attribution, type ChannelReduction } from '../../index.js';
import { resultsShownAs, type MethodNumber } from './methods.js';

/**
 * 'auto': as the method table (methods.ts, MethodRow.map) says: gradients (saliency, SmoothGrad,
 * guided backprop) as magnitudes, abs-max over channels, since their sign says little per pixel;
 * contributions (Integrated Gradients, occlusion, LIME, KernelSHAP) and CAMs as their sum over
 * channels, where the sign is the point.
 */
export type Reduction = 'auto' | ChannelReduction;
/**
 * 'auto': diverging for a map that is signed by construction (Integrated Gradients and occlusion
 * under a signed reduction, any map under gradient x input), so that a colour means the same on
 * every picture even where one map happens to have no negative value; for other maps, diverging
 * when one has a negative value, else sequential.
 */
export type ColormapKind = 'auto' | 'sequential' | 'diverging';

/** Methods whose maps are summed over channels (the method table's 'rectified' and 'signed' ones). */
const SIGNED_VALUES = resultsShownAs('signed');
const SIGNED_METHODS = new Set([...resultsShownAs('rectified'), ...SIGNED_VALUES]);

export function resolveReduction(attribution: Pick<Attribution, 'shape' | 'method'>, reduction: Reduction): ChannelReduction | 'none' {
  if (reduction !== 'auto') return reduction;
  if (!SIGNED_METHODS.has(attribution.method)) return 'abs-max';
  return attribution.shape[2] === 1 ? 'none' : 'sum';
}

/** The [H, W] map of `attribution` under `reduction` (gradient-x-input needs the model input). */
export function displayMap(attribution: Attribution, reduction: Reduction, input?: ArrayLike<number>): Float32Array {
  const resolved = resolveReduction(attribution, reduction);
  return resolved === 'none' ? attribution.values : reduceChannels(attribution, resolved, input);
}

export function hasNegative(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] < 0) return true;
  return false;
}

/** The palette `colormap` means for `displayed`, the map of `attribution` under `reduction` (see ColormapKind). */
export function resolveColormap(attribution: Pick<Attribution, 'shape' | 'method'>, reduction: Reduction, colormap: ColormapKind, displayed: ArrayLike<number>): 'sequential' | 'diverging' {
  if (colormap !== 'auto') return colormap;
  const resolved = resolveReduction(attribution, reduction);
  const signed = resolved === 'gradient-x-input' || (SIGNED_VALUES.has(attribution.method) && (resolved === 'sum' || resolved === 'none'));
  return signed || hasNegative(displayed) ? 'diverging' : 'sequential';
}

/** The q-th percentile of |values|, or 1 for an all-zero map (as normalizeByPercentile does). */
export function percentileScale(values: ArrayLike<number>, q: number): number {
  return values.length ? absPercentile(values, q) || 1 : 1;
}

/** The percentile scale of several maps taken together. */
export function sharedScale(maps: readonly ArrayLike<number>[], q: number): number {
  const all = new Float32Array(maps.reduce((n, m) => n + m.length, 0));
  let at = 0;
  for (const m of maps) {
    all.set(m, at);
    at += m.length;
  }
  return percentileScale(all, q);
}

export function valueRange(values: ArrayLike<number>): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    low = Math.min(low, values[i]);
    high = Math.max(high, values[i]);
  }
  return [low, high];
}

/** Three significant digits, exponent notation for very small or large magnitudes. */
export function formatValue(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}

export function formatPercent(p: number): string {
  return `${(p * 100).toFixed(p >= 0.1 ? 0 : 1)}%`;
}

/** A result's numbers as "label value · label value" (empty for none). */
export function formatNumbers(numbers: readonly MethodNumber[]): string {
  return numbers.map(({ label, value, percent }) => `${label} ${typeof value === 'string' ? value : percent ? formatPercent(value) : formatValue(value)}`).join(' · ');
}

/** Milliseconds left at the rate so far; undefined before anything is done. */
export function remainingTime(progress: { done: number; total: number; elapsed: number }): number | undefined {
  if (progress.done <= 0) return undefined;
  return (progress.elapsed / progress.done) * Math.max(0, progress.total - progress.done);
}

/** Clicks a temporary link that saves `blob` as `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
