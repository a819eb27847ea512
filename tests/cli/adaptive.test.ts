/**
 * `webgpu-xai explain --method integrated-gradients --adaptive TOL` on the tiny TF.js model
 * (12x10x3): the .npy equals the Explainer's adaptiveIntegratedGradients, --json reports the steps
 * used, whether the tolerance was met and the completeness error; bad TOLs fail before the GPU.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/main.js';
import { Explainer } from '../../src/explain/explainer.js';
import { imageToInput } from '../../src/model/image.js';
import { decodeImageFile } from '../../src/model/image-node.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { freshSeed } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { relativeL2, seededRandom } from '../reference/tensor.js';
import { writePictures, writeTinyModel } from './fixtures.js';

const seed = freshSeed();
let root: string;
let model: string;
let picture: string;

beforeAll(async () => {
  console.log(`[cli-adaptive] seed=${seed} (replay with WEBGPU_XAI_SEED=${seed})`);
  const random = seededRandom(seed);
  root = await mkdtemp(join(tmpdir(), 'xai-cli-adaptive-'));
  model = await writeTinyModel(join(root, 'model'), random);
  await writePictures(root, ['face.png'], random);
  picture = join(root, 'face.png');
});

function npyValues(bytes: Uint8Array): Float32Array {
  const headerLength = bytes[8] | (bytes[9] << 8);
  const data = bytes.slice(10 + headerLength);
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}

describeGpu('webgpu-xai explain --adaptive', () => {
  it('integrated-gradients --adaptive 0.01 on the tiny model 12x10x3: --json has steps, converged and the completeness error; the .npy equals the Explainer', async () => {
    const [out, npy] = [join(root, 'ig.png'), join(root, 'ig.npy')];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['explain', '--model', model, '--image', picture, '--method', 'integrated-gradients', '--adaptive', '0.01', '--steps', '4', '--out', out, '--npy', npy, '--json']);
    const line = JSON.parse(String(log.mock.calls[0]?.[0]));
    log.mockRestore();
    console.log(`[cli-adaptive] ${JSON.stringify({ steps: line.steps, converged: line.converged, completenessError: line.completenessError })}`);
    expect(line.method).toBe('ig');
    expect(line.options).toMatchObject({ adaptive: 0.01, steps: 4, rule: 'gauss-legendre' });
    // a random ReLU/max-pool model's kinks can keep the error up: then the run says so at the step limit
    if (line.converged) expect(line.completenessError).toBeLessThanOrEqual(0.01);
    else expect([line.steps, line.completenessError > 0.01]).toEqual([1024, true]);
    expect(Number.isInteger(Math.log2(line.steps / 4))).toBe(true);

    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(model)));
    const image = imageToInput(await decodeImageFile(picture), { shape: xai.model.inputShape, inputRange: [0, 1] });
    const direct = await xai.adaptiveIntegratedGradients(image, { tolerance: 0.01, steps: 4 });
    expect(line.steps).toBe(direct.steps);
    expect(line.completenessError).toBeCloseTo(direct.completenessError!, 6);
    expect(relativeL2(npyValues(await readFile(npy)), direct.values)).toBeLessThanOrEqual(1e-6);
  });

  it('a plain line names the steps used; bad --adaptive values and clashes are UsageErrors before the GPU', async () => {
    const out = join(root, 'plain.png');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['explain', '--model', model, '--image', picture, '--method', 'ig', '--adaptive', '0.05', '--out', out]);
    const line = String(log.mock.calls[0]?.[0]);
    log.mockRestore();
    expect(line).toMatch(/completeness error [\d.e+-]+ \(\d+ steps, adaptive: tolerance 0\.05 (met|not met within the step limit)\)/);
    const base = ['explain', '--model', model, '--image', picture, '--out', out];
    for (const [args, message] of [
      [['--method', 'ig', '--adaptive', '2'], /--adaptive takes the completeness error to reach, a number in \(0, 1\)/],
      [['--method', 'ig', '--adaptive', 'tight'], /got 'tight'/],
      [['--method', 'ig', '--adaptive', '0'], /\(0, 1\)/],
      [['--method', 'saliency', '--adaptive', '0.01'], /--adaptive is a completeness tolerance of Integrated Gradients/],
      [['--method', 'ig', '--adaptive', '0.01', '--rule', 'trapezoid'], /cannot use --rule trapezoid/],
    ] as const) {
      await expect(runCli([...base, ...args])).rejects.toThrow(UsageError);
      await expect(runCli([...base, ...args])).rejects.toThrow(message);
    }
  });
});
