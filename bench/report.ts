/**
 * The benchmark report: one JSON document (schema below, shared with
 * bench/reference/pytorch_reference.py) and the table printed from it.
 */
import type { Measurement, Stats } from './timing.js';

export const SCHEMA = 'webgpu-xai-bench/1';

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
  /** 'webgpu-xai', 'tfjs-webgpu', 'pytorch-cuda'. */
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
  /** Peer time / our time on the same basis (> 1: ours is faster); on our rows. */
  speedupVsPeer?: number;
  /** The same from wall times. */
  speedupVsPeerWall?: number;
  check?: Check;
  /** L2 norm of the result (engine: first run; peer: its check run), comparable across implementations. */
  outputL2?: number;
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

/** Puts peer/ours ratios on our rows, matching rows by workload, method and label. */
export function linkPeers(rows: Row[], ours: string, peer: string): void {
  for (const row of rows) {
    if (row.implementation !== ours || !row.timing) continue;
    const other = rows.find((r) => r.implementation === peer && r.workload === row.workload && r.label === row.label && r.status === 'ok' && r.timing);
    if (!other?.timing) continue;
    if (other.timing.basis === row.timing.basis) row.speedupVsPeer = other.timing.ms / row.timing.ms;
    row.speedupVsPeerWall = other.timing.wall.median / row.timing.wall.median;
  }
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

/** The report as a fixed-width table (one line per row) with a short header. */
export function formatTable(report: Report): string {
  const header = ['workload', 'method', 'impl', 'basis', 'ms', 'IQR', 'min-max', 'wall ms', 'img/s', 'GFLOP/s', '%peak', 'x peer', 'x peer wall', 'rel L2', 'note'];
  const lines: string[][] = [header];
  for (const row of report.rows) {
    const t = row.timing;
    const impl = row.precision === 'fp32' ? row.implementation : `${row.implementation} ${row.precision}`;
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
      fixed(row.speedupVsPeer, 2),
      fixed(row.speedupVsPeerWall, 2),
      row.check ? `${row.check.relativeL2.toExponential(1)}${row.check.ok ? '' : '!'}` : '',
      row.note ?? '',
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.filter((l) => l.length > 1).map((l) => (i === header.length - 1 ? 0 : l[i].length))));
  const numeric = new Set([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const render = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd();
  const d = report.device;
  const intro = [
    `webgpu-xai bench  ${report.date}  commit ${report.git.commit?.slice(0, 12) ?? '?'}${report.git.dirty ? ' (dirty)' : ''}  ${String(report.environment.runtime ?? '')}`,
    `adapter: ${[d.vendor, d.architecture, d.device].filter(Boolean).join(' / ')}${d.description ? ` (${d.description})` : ''}${d.software ? '  [software adapter]' : ''}${d.kernels ? `  kernels: ${d.kernels}` : ''}`,
    `time basis: ${report.timer.note}`,
    `peers: ${report.peers.map((p) => `${p.name} ${p.status}${p.version ? ` ${p.version}` : ''}${p.reason ? ` (${p.reason})` : ''}`).join('; ') || 'none'}`,
    `x peer = peer ms / our ms (>1: webgpu-xai faster); rel L2 = peer output vs ours (! = over tolerance, not timed); FLOPs: bench/README.md`,
    '',
  ];
  return [...intro, ...lines.map(render)].join('\n');
}
