/**
 * `webgpu-xai explain --images` end to end, in process, on a tiny TF.js Layers model (12x10x3
 * input) and five 15x13 PNGs (one in a subfolder), with saliency so that it stays fast on a CPU
 * adapter: shards by --shard and by the Kubernetes and Slurm variables (union = the whole set,
 * each image once), complete summary rows, resume after a lost file and a cut summary line,
 * --force, merge, and the errors that must come before the model is loaded.
 */
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { COLUMNS, parseSummary, readSummary, type SummaryRow } from '../../src/cli/summary.js';
import { Explainer } from '../../src/explain/explainer.js';
import { imageToInput } from '../../src/model/image.js';
import { decodeImageBytes, decodeImageFile } from '../../src/model/image-node.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { freshSeed } from '../check.js';
import { relativeL2, seededRandom } from '../reference/tensor.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { writePictures, writeTinyModel } from './fixtures.js';

const PICTURES = ['a.png', 'b.png', 'c.png', 'd.png', 'sub/e.png'];
const KEYS = ['a', 'b', 'c', 'd', 'sub/e'];
const LABELS = ['cat', 'dog', 'owl'];
const SCHEDULER_VARIABLES = ['JOB_COMPLETION_INDEX', 'JOB_COMPLETIONS', 'SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_STEP'];

const seed = freshSeed();
let root: string;
let model: string;
let images: string;

beforeAll(async () => {
  console.log(`[cli-dataset] seed=${seed} (replay with WEBGPU_XAI_SEED=${seed})`);
  const random = seededRandom(seed);
  root = await mkdtemp(join(tmpdir(), 'xai-cli-dataset-'));
  model = await writeTinyModel(join(root, 'model'), random);
  images = join(root, 'images');
  await writePictures(images, PICTURES, random);
  // the test process may run under a scheduler itself
  for (const name of SCHEDULER_VARIABLES) vi.stubEnv(name, undefined);
});

afterEach(() => {
  for (const name of SCHEDULER_VARIABLES) vi.stubEnv(name, undefined);
});

/** Runs the CLI with --json; returns the rows it printed (one JSON line per computed image). */
async function explain(outDir: string, ...args: string[]): Promise<SummaryRow[]> {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (printed.push(String(chunk)), true));
  try {
    await runCli(['explain', '--model', model, '--images', images, '--out-dir', outDir, '--labels', LABELS.join(','), '--json', '--every', '100', ...args]);
  } finally {
    write.mockRestore();
  }
  return printed.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

const inode = async (path: string) => (await stat(path)).ino;

describeGpu('webgpu-xai explain --images on a tiny Layers model (5 PNGs)', () => {
  let shardDir: string;

  it('shards 0/2 and 1/2 into one out dir: union = the 5 images, each once; overlay, .npy and a complete row each; the .npy and score equal the Explainer', async () => {
    shardDir = await mkdtemp(join(root, 'shards-'));
    const first = await explain(shardDir, '--shard', '0/2');
    const second = await explain(shardDir, '--shard', '1/2');
    expect(first.map((r) => r.image)).toEqual(['a', 'b']);
    expect(second.map((r) => r.image)).toEqual(['c', 'd', 'sub/e']);

    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(model)));
    for (const row of [...first, ...second]) {
      expect(Object.keys(row).sort()).toEqual([...COLUMNS].sort());
      expect(row).toMatchObject({ path: join(images, PICTURES[KEYS.indexOf(row.image)]), png: `${row.image}.png`, npy: `${row.image}.npy`, method: 'saliency', completenessError: null });
      expect(row.shard).toBe(first.includes(row) ? '0/2' : '1/2');
      expect(row.className).toBe(LABELS[row.target]);
      expect(row.options).toEqual({ model, inputRange: [0, 1], score: 'logit', target: 'top' });
      expect(row.milliseconds).toBeGreaterThan(0);
      const overlay = decodeImageBytes(await readFile(join(shardDir, row.png)));
      expect(overlay.width).toBe(360); // the 15x13 picture over a legend at least 360 wide
      expect(overlay.height).toBeGreaterThan(13 + 60);
      // the engine itself on the same picture: same map, same target, same logit
      const input = imageToInput(await decodeImageFile(row.path), { shape: xai.model.inputShape, inputRange: [0, 1] });
      const direct = await xai.saliency(input);
      const npy = await readFile(join(shardDir, row.npy!));
      const headerLength = npy[8] | (npy[9] << 8);
      expect(new TextDecoder().decode(npy.subarray(10, 10 + headerLength))).toContain("'shape': (1, 12, 10, 3)");
      const values = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLength, npy.byteOffset + npy.byteLength));
      expect(values.some((v) => v !== 0)).toBe(true);
      expect(relativeL2(values, direct.values)).toBeLessThanOrEqual(1e-6);
      expect(row.target).toBe(direct.target);
      const logits = await xai.activations(input, { layer: xai.model.logitsName });
      expect(row.score).toBeCloseTo(logits.values[row.target], 5);
    }
    // the shards' summary files hold what was printed, in JSON Lines and CSV
    for (const [i, rows] of [first, second].entries()) {
      expect(await readSummary(join(shardDir, `summary.shard-${i}-of-2.jsonl`))).toEqual({ rows, dropped: 0 });
      expect(await readSummary(join(shardDir, `summary.shard-${i}-of-2.csv`))).toEqual({ rows, dropped: 0 });
    }
  });

  it('--method scorecam runs the 5 pictures as one batch: each .npy equals the Explainer on that picture alone', async () => {
    const outDir = await mkdtemp(join(root, 'scorecam-'));
    const rows = await explain(outDir, '--method', 'scorecam');
    expect(rows.map((r) => r.image)).toEqual(KEYS);
    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(model)));
    for (const row of rows) {
      const input = imageToInput(await decodeImageFile(row.path), { shape: xai.model.inputShape, inputRange: [0, 1] });
      const direct = await xai.scoreCam(input);
      const npy = await readFile(join(outDir, row.npy!));
      const headerLength = npy[8] | (npy[9] << 8);
      const values = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLength, npy.byteOffset + npy.byteLength));
      expect(values.some((v) => v !== 0)).toBe(true);
      expect(relativeL2(values, direct.values), row.image).toBeLessThanOrEqual(1e-6);
      expect(row.target).toBe(direct.target);
    }
  });

  it('JOB_COMPLETION_INDEX (with JOB_COMPLETIONS or --shards) and SLURM_ARRAY_TASK_* (from MIN 1) cut the same shards as --shard', async () => {
    vi.stubEnv('JOB_COMPLETION_INDEX', '1');
    vi.stubEnv('JOB_COMPLETIONS', '2');
    const k8s = await explain(await mkdtemp(join(root, 'k8s-')));
    vi.stubEnv('JOB_COMPLETIONS', undefined);
    vi.stubEnv('JOB_COMPLETION_INDEX', '0');
    const k8sShards = await explain(await mkdtemp(join(root, 'k8s-')), '--shards', '2');
    vi.stubEnv('JOB_COMPLETION_INDEX', undefined);
    vi.stubEnv('SLURM_ARRAY_TASK_ID', '2');
    vi.stubEnv('SLURM_ARRAY_TASK_COUNT', '2');
    vi.stubEnv('SLURM_ARRAY_TASK_MIN', '1');
    const slurmDir = await mkdtemp(join(root, 'slurm-'));
    const slurm = await explain(slurmDir);
    expect(k8s.map((r) => [r.image, r.shard])).toEqual([['c', '1/2'], ['d', '1/2'], ['sub/e', '1/2']]);
    expect(k8sShards.map((r) => [r.image, r.shard])).toEqual([['a', '0/2'], ['b', '0/2']]);
    expect(slurm.map((r) => [r.image, r.shard])).toEqual([['c', '1/2'], ['d', '1/2'], ['sub/e', '1/2']]);
    expect((await readSummary(join(slurmDir, 'summary.shard-1-of-2.jsonl'))).rows).toEqual(slurm);
  });

  it('resume: a second run computes nothing; a lost overlay and a line cut by a crash are redone once; other settings refuse; --force redoes all', async () => {
    const out = await mkdtemp(join(root, 'resume-'));
    const all = await explain(out);
    expect(all.map((r) => r.image)).toEqual(KEYS);
    const inodes = await Promise.all(KEYS.map((k) => inode(join(out, `${k}.png`))));

    expect(await explain(out), 'nothing left to compute').toEqual([]);
    expect(await Promise.all(KEYS.map((k) => inode(join(out, `${k}.png`)))), 'no file rewritten').toEqual(inodes);

    // a crash: c's overlay never renamed into place, and half a row at the end of the summary
    await rm(join(out, 'c.png'));
    await appendFile(join(out, 'summary.jsonl'), '{"image":"zz","path":"da');
    expect((await explain(out)).map((r) => r.image)).toEqual(['c']);
    for (const file of ['summary.jsonl', 'summary.csv']) {
      const { rows, dropped } = await readSummary(join(out, file));
      expect(dropped).toBe(0);
      expect(rows.map((r) => r.image).sort()).toEqual(KEYS);
    }
    expect(await inode(join(out, 'a.png'))).toBe(inodes[0]);

    await expect(explain(out, '--method', 'smoothgrad', '--samples', '2')).rejects.toThrow(/holds results of other settings .*use another --out-dir, or --force/);
    const forced = await explain(out, '--force');
    expect(forced.map((r) => r.image)).toEqual(KEYS);
    const after = await Promise.all(KEYS.map((k) => inode(join(out, `${k}.png`))));
    after.forEach((ino, i) => expect(ino, `${KEYS[i]}.png rewritten`).not.toBe(inodes[i]));
    expect((await readSummary(join(out, 'summary.jsonl'))).rows).toEqual(forced);
  });

  it('a picture that cannot be decoded is skipped and named; the others are done, and a rerun tries only it again', async () => {
    const folder = await mkdtemp(join(root, 'corrupt-images-'));
    await writePictures(folder, ['p.png', 'q.png'], seededRandom(seed + 1));
    await writeFile(join(folder, 'r.png'), 'not a png');
    const out = await mkdtemp(join(root, 'corrupt-'));
    const run = () => runCli(['explain', '--model', model, '--images', folder, '--out-dir', out, '--every', '100']);
    await expect(run()).rejects.toMatchObject({ code: 'INPUT', message: expect.stringMatching(/^1 image\(s\) could not be read .*r\.png is neither a PNG nor a JPEG file/) });
    expect((await readSummary(join(out, 'summary.jsonl'))).rows.map((r) => r.image)).toEqual(['p', 'q']);
    const p = await inode(join(out, 'p.png'));
    await expect(run()).rejects.toThrow(/1 image\(s\) could not be read/);
    expect(await inode(join(out, 'p.png'))).toBe(p);
  });

  it('merge joins the shard summaries (JSON Lines or CSV) into one; images missing from --images or in two shards fail after writing', async () => {
    expect(shardDir, 'the shards test ran first').toBeDefined();
    const merged = await mkdtemp(join(root, 'merged-'));
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      await runCli(['merge', '--out-dir', merged, '--images', images, '--json', shardDir]);
      const report = JSON.parse(printed[0]);
      expect(report).toMatchObject({ images: 5, duplicates: [], missing: [], missingShards: [], dropped: [] });
      expect(report.sources).toEqual([0, 1].map((i) => join(shardDir, `summary.shard-${i}-of-2.jsonl`)));
      const { rows } = await readSummary(join(merged, 'summary.jsonl'));
      expect(rows.map((r) => r.image)).toEqual(KEYS);
      expect(parseSummary(await readFile(join(merged, 'summary.csv'), 'utf8'), 'csv').rows).toEqual(rows);

      const fromCsv = await mkdtemp(join(root, 'merged-csv-'));
      await runCli(['merge', '--out-dir', fromCsv, ...[0, 1].map((i) => join(shardDir, `summary.shard-${i}-of-2.csv`))]);
      expect((await readSummary(join(fromCsv, 'summary.jsonl'))).rows).toEqual(rows);

      const shard0 = join(shardDir, 'summary.shard-0-of-2.jsonl');
      await expect(runCli(['merge', '--out-dir', merged, '--images', images, shard0])).rejects.toThrow(/3 image\(s\) of --images explained by no shard \(c, d, sub\/e\)/);
      expect((await readSummary(join(merged, 'summary.jsonl'))).rows.map((r) => r.image), 'written before failing').toEqual(['a', 'b']);
      await expect(runCli(['merge', '--out-dir', merged, shardDir, shard0])).rejects.toThrow(/2 image\(s\) in several shards \(a, b\)/);
    } finally {
      log.mockRestore();
    }
  });
});

describeGpu('--json on the one-image commands', () => {
  it('explain --image --json prints the summary row of that image (IG: with its completeness); visualize --json its channels or classes', async () => {
    const out = await mkdtemp(join(root, 'one-'));
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      const picture = join(images, 'a.png');
      await runCli(['explain', '--model', model, '--output', 'probabilities', '--image', picture, '--out', join(out, 'a.png'), '--method', 'ig', '--steps', '4', '--target', '2', '--json']);
      await runCli(['visualize', '--model', model, '--layer', 'conv', '--channels', '0-1', '--steps', '2', '--out', join(out, 'grid.png'), '--json']);
      await runCli(['visualize', '--model', model, '--class', '1-2', '--steps', '2', '--out', join(out, 'classes.png'), '--json']);
      expect(printed).toHaveLength(3);
      const row = JSON.parse(printed[0]) as SummaryRow;
      expect(Object.keys(row).sort()).toEqual([...COLUMNS].sort());
      expect(row).toMatchObject({ image: picture, path: picture, png: join(out, 'a.png'), npy: null, method: 'ig', target: 2, className: null, shard: '' });
      expect(row.options).toEqual({ model, output: 'probabilities', inputRange: [0, 1], score: 'logit', target: 2, steps: 4, baseline: 'black', rule: 'gauss-legendre', seed: 0 });
      expect(row.completenessError).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.score)).toBe(true);
      expect(JSON.parse(printed[1])).toMatchObject({ layer: 'conv', channels: [0, 1], shape: [2, 12, 10, 3], png: join(out, 'grid.png') });
      expect(JSON.parse(printed[2])).toMatchObject({ classes: [1, 2], shape: [2, 12, 10, 3], png: join(out, 'classes.png'), generator: null });
    } finally {
      log.mockRestore();
    }
  });
});

describe('webgpu-xai explain --images: user errors, before the model is loaded', () => {
  // a model path that does not exist: an error about it would mean the model was loaded first
  const run = (...args: string[]) => runCli(['explain', '--model', 'missing/model.json', ...args]);

  it('bad --shard, a scheduler index without a count, an empty folder, a glob matching nothing, an out dir that cannot be written, clashing options', async () => {
    const out = await mkdtemp(join(root, 'errors-'));
    await expect(run('--images', images, '--out-dir', out, '--shard', '3/2')).rejects.toThrow(/--shard 3\/2: shard index 3 is not in 0..1/);
    await expect(run('--images', images, '--out-dir', out, '--shard', '0/0')).rejects.toThrow(/shard count must be at least 1/);
    await expect(run('--images', images, '--out-dir', out, '--shard', 'a/b')).rejects.toThrow(/--shard must be 'i\/n'/);
    vi.stubEnv('JOB_COMPLETION_INDEX', '1');
    await expect(run('--images', images, '--out-dir', out)).rejects.toThrow(/pass --shards N or set JOB_COMPLETIONS/);
    vi.stubEnv('JOB_COMPLETION_INDEX', undefined);
    await expect(run('--images', await mkdtemp(join(root, 'empty-')), '--out-dir', out)).rejects.toThrow(/the folder holds no .png, .jpg or .jpeg files/);
    await expect(run('--images', join(images, '*.gif'), '--out-dir', out)).rejects.toThrow(/matches no file/);
    const file = join(root, 'a-file');
    await writeFile(file, '');
    await expect(run('--images', images, '--out-dir', join(file, 'out'))).rejects.toMatchObject({ code: 'OUTPUT', message: expect.stringMatching(/--out-dir .*a-file\/out is not a writable folder/) });
    await expect(run('--images', images, '--out-dir', out, '--image', 'x.png')).rejects.toThrow(/--image is for one image/);
    await expect(run('--images', images)).rejects.toThrow(/explain needs --out-dir/);
    await expect(run('--images', images, '--out-dir', out, '--batch', '0')).rejects.toThrow(/--batch must be an integer >= 1/);
  });
});
