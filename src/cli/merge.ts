/**
 * `webgpu-xai merge`: the shard summaries of a dataset run joined into one summary.jsonl and
 * summary.csv, one row per image. Duplicates (an image in two shards) keep their first row and,
 * like images missing from `--images`, make the command fail after writing, so a pipeline stops.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../index.js';
import { UsageError } from './args.js';
import { listImages } from './dataset.js';
import { ensureWritableDir } from './files.js';
import { SummaryFiles, mergeSummaries, readSummary } from './summary.js';

export const MERGE_HELP = `webgpu-xai merge --out-dir DIR [--images SRC] [--json] SUMMARY... 

  SUMMARY                a shard summary (.jsonl or .csv), or a folder: its summary.shard-*.jsonl
                         (else summary.shard-*.csv)
  --out-dir DIR          writes DIR/summary.jsonl and DIR/summary.csv
  --images SRC           the run's --images: report the images no shard explained
  --json                 print the report as JSON on stdout

Fails (exit 2) after writing when an image is in several shards or missing from --images.`;

const SHARD_SUMMARY = /^summary\.shard-\d+-of-\d+\.(jsonl|csv)$/;

/** The summary files an argument names: itself, or a folder's shard summaries (JSON Lines preferred). */
async function summaryFiles(input: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(input);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOTDIR') return [input];
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`merge: ${input} does not exist`, { cause });
    throw new InputError(`merge: cannot read ${input}: ${(cause as Error).message}`, { cause });
  }
  const shards = names.filter((n) => SHARD_SUMMARY.test(n)).sort();
  const jsonl = shards.filter((n) => n.endsWith('.jsonl'));
  const chosen = jsonl.length ? jsonl : shards;
  if (!chosen.length) throw new InputError(`merge: ${input} holds no summary.shard-<i>-of-<n>.jsonl or .csv`);
  return chosen.map((n) => join(input, n));
}

export async function merge(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'out-dir': { type: 'string' }, images: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) return void console.log(MERGE_HELP);
  if (!positionals.length) throw new UsageError("merge needs the shard summaries (files or folders) to join (see 'webgpu-xai merge --help')");
  const outDir = values['out-dir'];
  if (!outDir) throw new UsageError("merge needs --out-dir (see 'webgpu-xai merge --help')");
  await ensureWritableDir(outDir);
  const sources = (await Promise.all(positionals.map(summaryFiles))).flat();
  const inputs = await Promise.all(sources.map(async (source) => ({ source, ...(await readSummary(source)) })));
  const expected = values.images ? (await listImages(values.images)).map((image) => image.key) : undefined;
  const report = mergeSummaries(inputs, expected);
  const files = new SummaryFiles(outDir, 'summary');
  await files.rewrite(report.rows);

  const { rows, ...problems } = report;
  if (values.json) console.log(JSON.stringify({ images: rows.length, sources, jsonl: files.jsonl, csv: files.csv, ...problems }));
  else {
    console.log(`merge: ${rows.length} images from ${sources.length} summaries -> ${files.jsonl}, ${files.csv}`);
    for (const d of problems.duplicates) console.log(`  duplicate: ${d.image} in ${d.sources.join(', ')} (first kept)`);
    for (const m of problems.missing) console.log(`  missing: ${m}`);
    for (const s of problems.missingShards) console.log(`  no row from shard ${s} (not run yet, or it had no images)`);
    for (const d of problems.dropped) console.log(`  ${d.lines} cut line(s) skipped in ${d.source}`);
  }
  const failures = [
    problems.duplicates.length ? `${problems.duplicates.length} image(s) in several shards (${problems.duplicates.slice(0, 3).map((d) => d.image).join(', ')})` : '',
    problems.missing.length ? `${problems.missing.length} image(s) of --images explained by no shard (${problems.missing.slice(0, 3).join(', ')}); run the missing shards again` : '',
  ].filter(Boolean);
  if (failures.length) throw new InputError(`merge: ${failures.join('; ')}`);
}
