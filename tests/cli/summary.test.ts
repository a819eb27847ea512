/** Summary rows through JSON Lines and CSV, lines cut by a crash, and the merge of shard summaries (no GPU). */
import { describe, expect, it } from 'vitest';
import { COLUMNS, csvHeader, csvLine, jsonLine, mergeSummaries, parseSummary, type SummaryRow } from '../../src/cli/summary.js';

const row = (image: string, shard = '', extra: Partial<SummaryRow> = {}): SummaryRow => ({
  image, path: `data/${image}.png`, png: `${image}.png`, npy: `${image}.npy`, method: 'ig', target: 2, className: 'owl, "barn"',
  score: 1.5, options: { model: 'm.json', steps: 8, inputRange: [0, 1] }, completenessError: 0.0125, milliseconds: 12.5, shard, ...extra,
});

describe('summary files', () => {
  it('a row survives JSON Lines and CSV (quotes, commas, nulls, options as JSON)', () => {
    const rows = [row('a'), row('dir/b', '', { className: null, npy: null, completenessError: null })];
    expect(parseSummary(rows.map(jsonLine).join(''), 'jsonl')).toEqual({ rows, dropped: 0 });
    const csv = csvHeader() + rows.map(csvLine).join('');
    expect(csv.split('\n')[0]).toBe(COLUMNS.join(','));
    expect(parseSummary(csv, 'csv')).toEqual({ rows, dropped: 0 });
  });

  it('a line cut by a crash is dropped and counted', () => {
    const whole = jsonLine(row('a'));
    const cut = jsonLine(row('b')).slice(0, 40);
    expect(parseSummary(whole + cut, 'jsonl')).toEqual({ rows: [row('a')], dropped: 1 });
    const csvCut = csvLine(row('b')).slice(0, 30);
    expect(parseSummary(csvHeader() + csvLine(row('a')) + csvCut, 'csv')).toEqual({ rows: [row('a')], dropped: 1 });
    expect(() => parseSummary('x,y\n', 'csv')).toThrow(/not a webgpu-xai summary.csv/);
  });

  it('merge: rows of two shards joined and sorted; duplicates, missing images and absent shards reported', () => {
    const report = mergeSummaries([
      { source: 's1', rows: [row('c', '1/3'), row('b', '1/3')], dropped: 0 },
      { source: 's0', rows: [row('a', '0/3'), row('b', '0/3')], dropped: 2 },
    ], ['a', 'b', 'c', 'd']);
    expect(report.rows.map((r) => [r.image, r.shard])).toEqual([['a', '0/3'], ['b', '1/3'], ['c', '1/3']]);
    expect(report.duplicates).toEqual([{ image: 'b', sources: ['s1', 's0'] }]);
    expect(report.missing).toEqual(['d']);
    expect(report.missingShards).toEqual(['2/3']);
    expect(report.dropped).toEqual([{ source: 's0', lines: 2 }]);
  });
});
