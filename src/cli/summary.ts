/**
 * The summary of a dataset run: one row per explained image, in `summary.jsonl` (one JSON object a
 * line, what `--json` prints) and `summary.csv` (the same columns, `options` as JSON text), in the
 * out dir. A sharded run writes `summary.shard-<i>-of-<n>.*` so that shards can share an out dir;
 * `webgpu-xai merge` joins them. Rows are appended as images finish; a line cut by a crash is
 * dropped when the next run reads the file (and that image is computed again).
 */
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../index.js';
import { writeAtomic } from './files.js';
import type { Shard } from './shard.js';

export interface SummaryRow {
  /** The image's key: its path relative to the dataset root, without the extension. */
  image: string;
  /** The file that was read. */
  path: string;
  /** The overlay PNG and the raw attributions (.npy), relative to the out dir in a dataset run. */
  png: string;
  npy: string | null;
  method: string;
  /** The class explained (the predicted one for --target top). */
  target: number;
  className: string | null;
  /** The explained score (logit or probability, see options.score) of the target class. */
  score: number;
  /** What the map depends on: the model, its input range, the score kind, the method's settings. */
  options: Record<string, unknown>;
  /** Integrated Gradients only: |sum(map) - (f(x) - f(baseline))| / |f(x) - f(baseline)|. */
  completenessError: number | null;
  /** Adaptive Integrated Gradients only (JSON, not a CSV column): the steps of its last round and whether it met --adaptive. */
  steps?: number;
  converged?: boolean;
  /** LIME only (JSON): the weighted R^2 of its surrogate on the samples. */
  r2?: number;
  /** KernelSHAP only (JSON): |sum(phi) - (f(x) - f(baseline))| and whether every coalition was evaluated (exact values). */
  additivityError?: number;
  exact?: boolean;
  /** LIME's samples or KernelSHAP's coalitions (JSON). */
  samples?: number;
  /** The picture's share of the wall time of the batched call that explained it (with its model output). */
  milliseconds: number;
  /** 'i/n', or '' for an unsharded run. */
  shard: string;
}

export const COLUMNS: readonly (keyof SummaryRow)[] = ['image', 'path', 'png', 'npy', 'method', 'target', 'className', 'score', 'options', 'completenessError', 'milliseconds', 'shard'];

/** 'summary' or 'summary.shard-2-of-8'. */
export function summaryBase(shard: Shard): string {
  return shard.count === 1 ? 'summary' : `summary.shard-${shard.index}-of-${shard.count}`;
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const csvHeader = (): string => `${COLUMNS.join(',')}\n`;
export const csvLine = (row: SummaryRow): string => `${COLUMNS.map((c) => csvField(row[c])).join(',')}\n`;
export const jsonLine = (row: SummaryRow): string => `${JSON.stringify(row)}\n`;

/** RFC 4180 records (quoted fields may hold commas, quotes and newlines). */
function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') record.push(field), (field = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      (record = []), (field = '');
    } else field += ch;
  }
  if (field || record.length) record.push(field), records.push(record);
  return records;
}

const numberOrNull = (s: string) => (s === '' ? null : Number(s));

/** A row is whole when every column is there with the right type (a line cut by a crash is not). */
function isRow(value: unknown): value is SummaryRow {
  const row = value as SummaryRow;
  return !!row && typeof row === 'object' && typeof row.image === 'string' && typeof row.png === 'string' && typeof row.method === 'string' &&
    Number.isInteger(row.target) && typeof row.score === 'number' && typeof row.milliseconds === 'number' && typeof row.options === 'object' &&
    'npy' in row && 'className' in row && 'completenessError' in row && typeof row.shard === 'string' && typeof row.path === 'string';
}

/** The rows of a summary.jsonl or summary.csv text, and how many lines were not whole rows. */
export function parseSummary(text: string, format: 'jsonl' | 'csv'): { rows: SummaryRow[]; dropped: number } {
  const rows: SummaryRow[] = [];
  let dropped = 0;
  if (format === 'jsonl') {
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        value = undefined;
      }
      if (isRow(value)) rows.push(value);
      else dropped++;
    }
    return { rows, dropped };
  }
  const [header, ...records] = parseCsvRecords(text);
  if (!header || header.join(',') !== COLUMNS.join(',')) throw new InputError(`not a webgpu-xai summary.csv: the header should be ${COLUMNS.join(',')}`);
  for (const fields of records) {
    if (fields.length === 1 && fields[0] === '') continue;
    try {
      const f = Object.fromEntries(COLUMNS.map((c, i) => [c, fields[i]])) as Record<keyof SummaryRow, string>;
      const row: SummaryRow = {
        image: f.image, path: f.path, png: f.png, npy: f.npy || null, method: f.method, target: Number(f.target), className: f.className || null,
        score: Number(f.score), options: JSON.parse(f.options), completenessError: numberOrNull(f.completenessError), milliseconds: Number(f.milliseconds), shard: f.shard ?? '',
      };
      if (fields.length === COLUMNS.length && isRow(row) && Number.isFinite(row.score)) rows.push(row);
      else dropped++;
    } catch {
      dropped++;
    }
  }
  return { rows, dropped };
}

/** Reads a summary file (.jsonl or .csv); a missing file is an empty summary. */
export async function readSummary(path: string): Promise<{ rows: SummaryRow[]; dropped: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { rows: [], dropped: 0 };
    throw new InputError(`Cannot read summary ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseSummary(text, path.endsWith('.csv') ? 'csv' : 'jsonl');
}

/** A run's two summary files in `dir`. */
export class SummaryFiles {
  readonly jsonl: string;
  readonly csv: string;

  constructor(dir: string, base: string) {
    this.jsonl = join(dir, `${base}.jsonl`);
    this.csv = join(dir, `${base}.csv`);
  }

  /** Replaces both files with `rows` (atomically: used at the start of a run to drop cut lines and rows being recomputed). */
  async rewrite(rows: readonly SummaryRow[]): Promise<void> {
    await writeAtomic(this.jsonl, rows.map(jsonLine).join(''));
    await writeAtomic(this.csv, csvHeader() + rows.map(csvLine).join(''));
  }

  /** Adds one finished image's row to both files. */
  async append(row: SummaryRow): Promise<void> {
    await appendFile(this.jsonl, jsonLine(row));
    await appendFile(this.csv, csvLine(row));
  }
}

export interface MergeReport {
  /** Rows kept, one per image, sorted by image. */
  rows: SummaryRow[];
  /** Images with more than one row, and the sources they came from (the first row is kept). */
  duplicates: { image: string; sources: string[] }[];
  /** Images of `expected` with no row (empty when no expected list was given). */
  missing: string[];
  /** Shards named in the rows' `shard` fields (i/n) of which no row arrived. */
  missingShards: string[];
  /** Lines that were not whole rows, per source. */
  dropped: { source: string; lines: number }[];
}

/** Joins the rows of several summaries; `expected` (image keys), when given, is checked for gaps. */
export function mergeSummaries(inputs: readonly { source: string; rows: readonly SummaryRow[]; dropped: number }[], expected?: readonly string[]): MergeReport {
  const kept = new Map<string, { row: SummaryRow; sources: string[] }>();
  for (const { source, rows } of inputs) {
    for (const row of rows) {
      const seen = kept.get(row.image);
      if (seen) seen.sources.push(source);
      else kept.set(row.image, { row, sources: [source] });
    }
  }
  const rows = [...kept.values()].map((k) => k.row).sort((a, b) => (a.image < b.image ? -1 : a.image > b.image ? 1 : 0));
  const duplicates = [...kept.entries()].filter(([, k]) => k.sources.length > 1).map(([image, k]) => ({ image, sources: k.sources }));
  const missing = expected ? expected.filter((key) => !kept.has(key)) : [];
  const shards = new Map<number, Set<number>>();
  for (const row of rows) {
    const match = /^(\d+)\/(\d+)$/.exec(row.shard);
    if (!match) continue;
    const count = Number(match[2]);
    if (!shards.has(count)) shards.set(count, new Set());
    shards.get(count)!.add(Number(match[1]));
  }
  const missingShards = [...shards.entries()].flatMap(([count, seen]) => Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i)).map((i) => `${i}/${count}`));
  const dropped = inputs.filter((i) => i.dropped > 0).map((i) => ({ source: i.source, lines: i.dropped }));
  return { rows, duplicates, missing, missingShards, dropped };
}
