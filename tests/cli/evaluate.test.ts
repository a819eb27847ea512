/**
 * `webgpu-xai evaluate` end to end, in process, on the tiny TF.js model (12x10x3) and three 15x13
 * PNGs: the markdown table, --json and --csv agree, a row's metrics equal the Explainer's own calls
 * on the same map, per-method means close the table, SIGINT leaves the partial table, and mistakes
 * fail before the model is loaded.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/main.js';
import { Explainer } from '../../src/explain/explainer.js';
import { AbortedError } from '../../src/explain/progress.js';
import { imageToInput } from '../../src/model/image.js';
import { decodeImageFile } from '../../src/model/image-node.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { freshSeed } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { seededRandom } from '../reference/tensor.js';
import { writePictures, writeTinyModel } from './fixtures.js';

const seed = freshSeed();
let root: string;
let model: string;
let images: string;

beforeAll(async () => {
  console.log(`[cli-evaluate] seed=${seed} (replay with WEBGPU_XAI_SEED=${seed})`);
  const random = seededRandom(seed);
  root = await mkdtemp(join(tmpdir(), 'xai-cli-evaluate-'));
  model = await writeTinyModel(join(root, 'model'), random);
  images = join(root, 'images');
  await writePictures(images, ['a.png', 'b.png', 'sub/c.png'], random);
});

const SMALL = ['--curve-steps', '6', '--mufidelity-samples', '16', '--infidelity-samples', '8', '--steps', '8', '--every', '1'];

/** Runs evaluate; returns what it printed on stdout and the stderr lines; `onLine` sees each stderr line as it comes. */
async function run(args: string[], onLine?: (line: string) => void): Promise<{ stdout: string; stderr: string[] }> {
  const printed: string[] = [];
  const stderr: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (printed.push(String(chunk)), true));
  const error = vi.spyOn(console, 'error').mockImplementation((line) => {
    stderr.push(String(line));
    onLine?.(String(line));
  });
  try {
    await runCli(['evaluate', '--model', model, '--images', images, ...SMALL, ...args]);
  } finally {
    write.mockRestore();
    error.mockRestore();
  }
  return { stdout: printed.join(''), stderr };
}

describeGpu('webgpu-xai evaluate', () => {
  it('3 images x saliency, integrated-gradients, gradcam with --sensitivity: markdown, --json and --csv agree; a row equals the Explainer; means close the table', async () => {
    const [json, csv] = [join(root, 'out', 'table.json'), join(root, 'out', 'table.csv')];
    const { stdout, stderr } = await run(['--methods', 'saliency,integrated-gradients,gradcam', '--sensitivity', '--sensitivity-samples', '3', '--json', json, '--csv', csv]);
    console.log(`[cli-evaluate] the table:\n${stdout}`);
    const table = JSON.parse(await readFile(json, 'utf8'));
    expect(table.interrupted).toBe(false);
    expect(table.methods).toEqual(['saliency', 'ig', 'gradcam']);
    expect(table.rows.map((r: { image: string; method: string }) => `${r.image}:${r.method}`)).toEqual(
      ['a', 'b', 'sub/c'].flatMap((image) => ['saliency', 'ig', 'gradcam'].map((method) => `${image}:${method}`)));
    for (const row of table.rows) {
      for (const metric of ['deletionAuc', 'insertionAuc', 'infidelity', 'maxSensitivity']) expect(Number.isFinite(row[metric]), `${row.image} ${row.method} ${metric}`).toBe(true);
      expect(row.muFidelity === null || Math.abs(row.muFidelity) <= 1).toBe(true);
    }
    // progress: one line per map on stderr (not a terminal), then the closing line
    expect(stderr.filter((line) => /^evaluate: \d+\/9 maps/.test(line)).length).toBe(9);
    expect(stderr.at(-1)).toMatch(/^evaluate: 9 of 9 maps evaluated/);

    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('| image | method | class | deletion AUC (low) | insertion AUC (high) | MuFidelity (high) | infidelity (low) | max-sensitivity (low) |');
    expect(lines.length).toBe(2 + 9 + 3);
    expect(lines.slice(-3).map((l) => l.split('|')[2].trim())).toEqual(['**saliency**', '**ig**', '**gradcam**']);
    const saliencyMean = table.means.find((m: { method: string }) => m.method === 'saliency');
    const saliencyRows = table.rows.filter((r: { method: string }) => r.method === 'saliency');
    expect(saliencyMean.images).toBe(3);
    expect(saliencyMean.infidelity).toBeCloseTo(saliencyRows.reduce((a: number, r: { infidelity: number }) => a + r.infidelity, 0) / 3, 10);

    const csvLines = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(csvLines[0]).toBe('image,path,method,target,className,deletionAuc,insertionAuc,muFidelity,infidelity,maxSensitivity,milliseconds');
    expect(csvLines.length).toBe(1 + 9 + 3);
    expect(csvLines.at(-3)!.startsWith('(mean),,saliency,3,')).toBe(true);

    // image a, saliency: the same numbers from the Explainer itself
    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(model)));
    const image = imageToInput(await decodeImageFile(join(images, 'a.png')), { shape: xai.model.inputShape, inputRange: [0, 1] });
    const map = await xai.saliency(image);
    const row = table.rows[0];
    expect(row.target).toBe(map.target);
    expect(row.deletionAuc).toBeCloseTo((await xai.deletion(image, map, { steps: 6 })).auc, 6);
    expect(row.insertionAuc).toBeCloseTo((await xai.insertion(image, map, { steps: 6 })).auc, 6);
    const mu = (await xai.muFidelity(image, map, { samples: 16, seed: 0 })).correlation;
    expect(row.muFidelity ?? NaN).toBeCloseTo(mu, 5);
    const infidelity = (await xai.infidelity(image, map, { samples: 8, seed: 0 })).infidelity;
    expect(Math.abs(row.infidelity - infidelity)).toBeLessThanOrEqual(1e-5 * Math.max(1, infidelity));
    const sensitivity = await xai.maxSensitivity(image, (copies) => xai.saliency(copies, { target: map.target }), { samples: 3, seed: 0 });
    expect(row.maxSensitivity).toBeCloseTo(sensitivity.maxSensitivity, 5);
  }, 300_000);

  it('3 images x saliency, --batch 1 and --batch 2: the metrics over a chunk of pictures equal them picture by picture', async () => {
    const tables = [];
    for (const size of ['1', '2']) {
      const json = join(root, `batch-${size}.json`);
      await run(['--methods', 'saliency', '--sensitivity', '--sensitivity-samples', '2', '--batch', size, '--json', json]);
      tables.push(JSON.parse(await readFile(json, 'utf8')).rows.map(({ milliseconds, ...row }: { milliseconds: number }) => (expect(milliseconds).toBeGreaterThan(0), row)));
    }
    expect(tables[0]).toHaveLength(3);
    expect(tables[1]).toEqual(tables[0]);
  }, 300_000);

  it('SIGINT after the first map: the partial table is written (interrupted) and the run rejects with AbortedError', async () => {
    const json = join(root, 'partial.json');
    const before = process.listeners('SIGINT');
    let sent = false;
    const interrupt = (line: string) => {
      if (sent || !/^evaluate: 1\/6 maps/.test(line)) return;
      sent = true;
      // only the command's own handler: the test runner's must not see a signal
      for (const listener of process.listeners('SIGINT')) if (!before.includes(listener)) (listener as (signal: string) => void)('SIGINT');
    };
    await expect(run(['--methods', 'saliency,smoothgrad', '--samples', '4', '--json', json], interrupt)).rejects.toThrow(AbortedError);
    const table = JSON.parse(await readFile(json, 'utf8'));
    expect(table.interrupted).toBe(true);
    expect(table.rows.length).toBeGreaterThanOrEqual(1);
    expect(table.rows.length).toBeLessThan(6);
    expect(table.means[0].method).toBe('saliency');
    expect(process.listeners('SIGINT')).toEqual(before);
  }, 300_000);

  it('mistakes are UsageErrors before the model is read', async () => {
    const missingModel = ['evaluate', '--model', join(root, 'nope.json'), '--images', images];
    for (const [args, message] of [
      [['--methods', 'saliency,magic'], /--methods takes a comma-separated list of saliency, .*got 'saliency,magic'/],
      [['--methods', 'saliency', '--adaptive', '0.01'], /add ig to --methods/],
      [['--methods', 'ig', '--adaptive', '3'], /--adaptive takes the completeness error/],
      [['--sensitivity-samples', '4'], /goes with --sensitivity/],
      [['--json', root], /--json .* is a directory/],
      [['--curve-steps', '0'], /--curve-steps must be an integer >= 1/],
    ] as const) {
      await expect(runCli([...missingModel, ...args])).rejects.toThrow(UsageError);
      await expect(runCli([...missingModel, ...args])).rejects.toThrow(message);
    }
    await expect(runCli(['evaluate', '--model', model])).rejects.toThrow(/needs --images/);
  });
});
