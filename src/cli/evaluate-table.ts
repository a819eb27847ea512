/**
 * The table of `webgpu-xai evaluate`: one row per (image, method) with its faithfulness metrics,
 * and per-method means over the images (NaN values, e.g. MuFidelity of a constant map, are left
 * out of a mean and counted). Written as markdown (stdout), JSON and CSV.
 */

export const METRICS = ['deletionAuc', 'insertionAuc', 'muFidelity', 'infidelity', 'maxSensitivity'] as const;
export type Metric = (typeof METRICS)[number];

/** Column titles, with which way is better. */
const TITLES: Record<Metric, string> = {
  deletionAuc: 'deletion AUC (low)', insertionAuc: 'insertion AUC (high)', muFidelity: 'MuFidelity (high)',
  infidelity: 'infidelity (low)', maxSensitivity: 'max-sensitivity (low)',
};

export interface EvaluationRow extends Partial<Record<Metric, number>> {
  /** The image's key (its path below the --images root, without extension) and the file read. */
  image: string;
  path: string;
  method: string;
  target: number;
  className: string | null;
  /** Wall time of the map and its metrics. */
  milliseconds: number;
}

export interface MethodMean extends Partial<Record<Metric, number>> {
  method: string;
  images: number;
  /** Values left out of a mean because they were NaN, per metric. */
  undefinedValues: Partial<Record<Metric, number>>;
}

/** The metrics a run computed: max-sensitivity only with --sensitivity. */
export const metricsOf = (sensitivity: boolean): Metric[] => METRICS.filter((m) => sensitivity || m !== 'maxSensitivity');

export function methodMeans(rows: readonly EvaluationRow[], methods: readonly string[], metrics: readonly Metric[]): MethodMean[] {
  const means: MethodMean[] = [];
  for (const method of methods) {
    const mine = rows.filter((row) => row.method === method);
    if (!mine.length) continue;
    const mean: MethodMean = { method, images: mine.length, undefinedValues: {} };
    for (const metric of metrics) {
      const values = mine.map((row) => row[metric]!).filter(Number.isFinite);
      if (values.length < mine.length) mean.undefinedValues[metric] = mine.length - values.length;
      mean[metric] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
    }
    means.push(mean);
  }
  return means;
}

const format = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? 'n/a' : Math.abs(value) >= 1e-3 || value === 0 ? value.toFixed(4) : value.toExponential(2));

export function markdownTable(rows: readonly EvaluationRow[], means: readonly MethodMean[], metrics: readonly Metric[]): string {
  const header = ['image', 'method', 'class', ...metrics.map((m) => TITLES[m])];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`];
  for (const row of rows) {
    lines.push(`| ${row.image} | ${row.method} | ${row.target}${row.className ? ` ${row.className}` : ''} | ${metrics.map((m) => format(row[m])).join(' | ')} |`);
  }
  for (const mean of means) {
    lines.push(`| **mean of ${mean.images}** | **${mean.method}** | | ${metrics.map((m) => `**${format(mean[m])}**`).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

function csvField(value: unknown): string {
  const text = value === undefined || value === null || (typeof value === 'number' && !Number.isFinite(value)) ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One line per row, then one per method mean (image '(mean)', path empty, target the image count). */
export function csvTable(rows: readonly EvaluationRow[], means: readonly MethodMean[], metrics: readonly Metric[]): string {
  const columns = ['image', 'path', 'method', 'target', 'className', ...metrics, 'milliseconds'];
  const lines = [columns.join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c as keyof EvaluationRow])).join(','));
  for (const mean of means) lines.push(['(mean)', '', mean.method, mean.images, '', ...metrics.map((m) => mean[m]), ''].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** NaN as null, so that the JSON parses everywhere. */
export const jsonTable = (table: Record<string, unknown>): string => `${JSON.stringify(table, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
