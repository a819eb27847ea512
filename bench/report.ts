/**
 * The benchmark report: one JSON document (schema below, shared with
 * bench/reference/pytorch_reference.py) and the table printed from it.
 */
import type { KernelTime } from '../src/gpu/profiler.js';
import type { Measurement, Stats } from './timing.js';

export const SCHEMA = 'webgpu-xai-bench/2';

export type Basis = 'gpu-busy' | 'wall' | 'cuda-events';

export interface Timing {
  /** What `ms` measures (see bench/README.md). */
  basis: Basis;
  /** Median milliseconds per explanation on that basis, and its spread. */
  ms: number;
  q1: number;
  q3: number;
  min: number;
  max: number;
  repeats: number;
  warmup: number;
  /** Wall time to result (ms) statistics. */
  wall: Omit<Stats, 'samples'> & { samples: number[] };
  gpuBusy?: Omit<Stats, 'samples'> & { samples: number[] };
  gpuSpan?: Omit<Stats, 'samples'> & { samples: number[] };
  /** Compute passes per run (median), when timed with timestamp queries. */
  passes?: number;
}

export interface Check {
  /** The implementation the output was compared with. */
  against: string;
  /** ||peer - reference|| / ||reference|| over the whole output. */
  relativeL2: number;
  tolerance: number;
  ok: boolean;
  /** How the check run differed from the timed run (shared noise, ...). */
  note?: string;
}

export type RowStatus = 'ok' | 'refused' | 'unsupported' | 'error';

export interface Row {
  workload: string;
  method: string;
  /** 'webgpu-xai', a peer ('tfjs-webgpu', 'tfjs-wasm', 'jax-webgpu'), 'pytorch-cuda'. */
  implementation: string;
  /** 'fp32', 'tf32' (PyTorch rows). */
  precision: string;
  label: string;
  params: Record<string, unknown>;
  status: RowStatus;
  note?: string;
  /** Images through the model per explanation. */
  images: number;
  /** FLOPs per explanation (bench/methods.ts convention). */
  flops: number;
  timing?: Timing;
  imagesPerSecond?: number;
  explanationsPerSecond?: number;
  gflopsPerSecond?: number;
  /** Percent of the fp32 peak given with --peak. */
  peakPercent?: number;
  /** On another implementation's row: its time / webgpu-xai's time for the same method, same basis (> 1: webgpu-xai is faster). */
  vsEngine?: number;
  /** The same from wall times. */
  vsEngineWall?: number;
  check?: Check;
  /** L2 norm of the result (engine: first run; peer: its check run), comparable across implementations. */
  outputL2?: number;
  /** --profile, engine rows: GPU time per kernel in one extra run, slowest first. */
  kernels?: KernelTime[];
}

export interface DeviceInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  /** Driver as far as the platform tells it (the adapter description carries it for Dawn/Vulkan). */
  driver?: string;
  software?: boolean;
  features: string[];
  limits: Record<string, number>;
  timestampQuery: boolean;
  /** Timestamps looked quantized (Dawn's 65.5 us), so short GPU times are coarse. */
  timestampQuantized?: boolean;
  /** The engine's kernel variant in this run (options.kernels resolved for the device). */
  kernels?: string;
}

export interface PeerInfo {
  name: string;
  status: 'ok' | 'unavailable' | 'not-requested';
  version?: string;
  adapter?: Record<string, unknown>;
  reason?: string;
}

export interface Report {
  schema: typeof SCHEMA;
  date: string;
  git: { commit?: string; dirty?: boolean };
  environment: Record<string, unknown>;
  device: DeviceInfo;
  timer: { basis: Basis; note: string };
  options: Record<string, unknown>;
  flopConvention: string;
  peers: PeerInfo[];
  rows: Row[];
}

export const FLOP_CONVENTION =
  'F(n) = Model.flops(n) (forward of batch n from the graph, multiply-add = 2); a gradient evaluation = 3 F(n) (backward = 2x forward). ' +
  'saliency F(1)+3F(1); smoothgrad n: F(1)+3F(n); ig s: F(1)+F(2)+3F(s); occlusion w windows: F(1)+F(w); ' +
  'filters k channels x t steps: t*3*F_L(k)+2F(k) with F_L the forward up to the visualized layer.';

export function timingFrom(measurement: Measurement, preferGpu: boolean): Timing {
  const gpu = preferGpu ? measurement.gpuBusy : undefined;
  const primary = gpu ?? measurement.wall;
  return {
    basis: gpu ? 'gpu-busy' : 'wall',
    ms: primary.median,
    q1: primary.q1,
    q3: primary.q3,
    min: primary.min,
    max: primary.max,
    repeats: measurement.repeats,
    warmup: measurement.warmup,
    wall: measurement.wall,
    gpuBusy: measurement.gpuBusy,
    gpuSpan: measurement.gpuSpan,
    passes: measurement.passes,
  };
}

/** Fills the per-row rates from the timing. */
export function derive(row: Row, peakTflops: number | undefined): Row {
  if (!row.timing) return row;
  const seconds = row.timing.ms / 1000;
  row.imagesPerSecond = row.images / seconds;
  row.explanationsPerSecond = 1 / seconds;
  row.gflopsPerSecond = row.flops / seconds / 1e9;
  if (peakTflops) row.peakPercent = (100 * row.gflopsPerSecond) / (peakTflops * 1000);
  return row;
}

/**
 * Puts on every other implementation's row its time relative to the engine's row of the same
 * workload and label (looked up in `engineRows`, by default the same rows).
 */
export function compareWithEngine(rows: Row[], engine: string, engineRows: Row[] = rows): void {
  for (const row of rows) {
    if (row.implementation === engine || !row.timing) continue;
    const ours = engineRows.find((r) => r.implementation === engine && r.workload === row.workload && r.label === row.label && r.status === 'ok' && r.timing);
    if (!ours?.timing) continue;
    if (ours.timing.basis === row.timing.basis) row.vsEngine = row.timing.ms / ours.timing.ms;
    row.vsEngineWall = row.timing.wall.median / ours.timing.wall.median;
  }
}

/**
 * Rows grouped for reading: by workload and method in the order they first appear, then by
 * implementation in `order` (others after, by name), then precision.
 */
export function sortRows(rows: Row[], order: readonly string[]): Row[] {
  const first = new Map<string, number>();
  rows.forEach((r, i) => {
    const key = `${r.workload}\u0000${r.label}`;
    if (!first.has(key)) first.set(key, i);
  });
  const rank = (r: Row) => (order.includes(r.implementation) ? order.indexOf(r.implementation) : order.length);
  return [...rows].sort((a, b) =>
    first.get(`${a.workload}\u0000${a.label}`)! - first.get(`${b.workload}\u0000${b.label}`)! ||
    rank(a) - rank(b) || a.implementation.localeCompare(b.implementation) || a.precision.localeCompare(b.precision));
}

function fixed(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  return value.toFixed(digits);
}

/** Milliseconds with 3 significant figures (at least 0 decimals). */
function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function rate(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const BASIS_SHORT: Record<Basis, string> = { 'gpu-busy': 'gpu', wall: 'wall', 'cuda-events': 'cuda' };

/** The rows as a fixed-width table, one line per row; `source(row)` tags the implementation (merged reports). */
function rowTable(rows: Row[], source: (row: Row) => string = () => ''): string[] {
  const header = ['workload', 'method', 'impl', 'basis', 'ms', 'IQR', 'min-max', 'wall ms', 'img/s', 'GFLOP/s', '%peak', 'vs ours', 'vs ours wall', 'rel L2', 'note'];
  const lines: string[][] = [header];
  for (const row of rows) {
    const t = row.timing;
    const impl = `${row.implementation}${row.precision === 'fp32' ? '' : ` ${row.precision}`}${source(row)}`;
    lines.push([
      row.workload,
      row.label,
      impl,
      t ? BASIS_SHORT[t.basis] : '',
      t ? ms(t.ms) : row.status,
      t ? `${ms(t.q1)}-${ms(t.q3)}` : '',
      t ? `${ms(t.min)}-${ms(t.max)}` : '',
      t ? ms(t.wall.median) : '',
      rate(row.imagesPerSecond),
      rate(row.gflopsPerSecond),
      fixed(row.peakPercent, 1),
      fixed(row.vsEngine, 2),
      fixed(row.vsEngineWall, 2),
      row.check ? `${row.check.relativeL2.toExponential(1)}${row.check.ok ? '' : '!'}` : '',
      row.note ?? '',
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (i === header.length - 1 ? 0 : l[i].length))));
  const numeric = new Set([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const render = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  return lines.map(render);
}

/** Where and how a report was measured: run, adapter, time basis, peers. */
function introLines(report: Report): string[] {
  const d = report.device;
  return [
    `webgpu-xai bench  ${report.date}  commit ${report.git.commit?.slice(0, 12) ?? '?'}${report.git.dirty ? ' (dirty)' : ''}  ${String(report.environment.runtime ?? '')}`,
    `adapter: ${[d.vendor, d.architecture, d.device].filter(Boolean).join(' / ')}${d.description ? ` (${d.description})` : ''}${d.software ? '  [software adapter]' : ''}${d.kernels ? `  kernels: ${d.kernels}` : ''}`,
    `time basis: ${report.timer.note}`,
    ...(report.peers.length ? [`peers: ${report.peers.map((p) => `${p.name} ${p.status}${p.version ? ` ${p.version}` : ''}${p.reason ? ` (${p.reason})` : ''}`).join('; ')}`] : []),
  ];
}

const LEGEND = 'vs ours = the row\'s ms / webgpu-xai\'s ms for the same method and basis (>1: webgpu-xai faster); rel L2 = the row\'s output vs ours (! = over tolerance, not timed); FLOPs: bench/README.md';

/** --profile: each profiled row's five slowest kernels. */
function kernelLines(rows: Row[]): string[] {
  const profiled = rows.filter((r) => r.kernels?.length);
  if (!profiled.length) return [];
  return ['', 'kernels (one extra run with every dispatch timed): GPU ms and share of the run', ...profiled.map((r) => {
    const total = r.kernels!.reduce((sum, k) => sum + k.ms, 0);
    const top = r.kernels!.slice(0, 5).map((k) => `${k.kernel} ${ms(k.ms)} (${((100 * k.ms) / total).toFixed(0)}%, ${k.dispatches}x)`);
    return `  ${r.workload} / ${r.label}: ${ms(total)} ms: ${top.join(', ')}`;
  })];
}

/** The report as a fixed-width table (one line per row) with a short header. */
export function formatTable(report: Report): string {
  return [...introLines(report), LEGEND, '', ...rowTable(report.rows), ...kernelLines(report.rows)].join('\n');
}

/**
 * Saved reports as one table (`--table`), e.g. a Node run and the PyTorch reference from the same
 * machine; each row's implementation is tagged with its report's number. A report's rows are
 * compared with its own webgpu-xai rows, or, where it has none (PyTorch's), with the first report's.
 */
export function formatMergedTable(reports: Report[], engine: string): string {
  const sources = new Map<Row, number>();
  const rows = reports.flatMap((report, i) => {
    const copies = report.rows.map((row) => ({ ...row, vsEngine: undefined, vsEngineWall: undefined }));
    const hasEngine = copies.some((row) => row.implementation === engine);
    compareWithEngine(copies, engine, hasEngine ? copies : reports[0].rows);
    for (const row of copies) sources.set(row, i + 1);
    return copies;
  });
  const intros = reports.flatMap((report, i) => [`[${i + 1}] ${introLines(report)[0]}`, ...introLines(report).slice(1).map((line) => `    ${line}`)]);
  return [...intros, LEGEND, '', ...rowTable(sortRows(rows, [engine]), (row) => ` [${sources.get(row)}]`)].join('\n');
}
