/**
 * `explain --method` for the methods of issue 13 on the 32x32 liveness model: the raw .npy the CLI
 * writes equals the Explainer's own result for the same picture, and the PNG carries a legend.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Attribution } from '../../src/explain/attribution.js';
import { Explainer } from '../../src/explain/explainer.js';
import { imageToInput } from '../../src/model/image.js';
import { decodeImageBytes, decodeImageFile } from '../../src/model/image-node.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { relativeL2 } from '../explain/reference.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { SKIMAGE_DATA } from '../model/photo.js';
import { randomSource } from '../check.js';
import { writePictures, writeTinyModel } from './fixtures.js';

const LIVENESS = 'node_modules/@vladmandic/human/models/liveness.json';
const PHOTO = join(SKIMAGE_DATA, 'astronaut.png');

const METHODS: [string, (xai: Explainer, image: { data: Float32Array; shape: number[] }) => Promise<Attribution>][] = [
  ['guided-backprop', (xai, image) => xai.guidedBackprop(image)],
  ['layercam', (xai, image) => xai.layerCam(image)],
  ['scorecam', (xai, image) => xai.scoreCam(image)],
  ['lime', (xai, image) => xai.lime(image, { seed: 0 })],
  // the CLI's defaults are the library's: 50 samples over 16 uniform noise baselines, seed 0; a black reference
  ['gradientshap', (xai, image) => xai.gradientShap(image)],
  ['deeplift', (xai, image) => xai.deepLift(image)],
];

describeGpu('webgpu-xai explain --method (issue 13 methods)', () => {
  for (const [method, direct] of METHODS) {
    it(`${method} on liveness 32x32: the .npy equals the Explainer's map; the PNG has a legend`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
      const [out, npy] = [join(dir, 'map.png'), join(dir, 'raw.npy')];
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await runCli(['explain', '--model', LIVENESS, '--image', PHOTO, '--method', method, '--out', out, '--npy', npy]);
      const line = String(log.mock.calls[0]?.[0]);
      log.mockRestore();
      expect(line.startsWith(`${method}: class `), line).toBe(true);
      const picture = decodeImageBytes(await readFile(out));
      expect(picture.height).toBeGreaterThan(512);
      const bytes = await readFile(npy);
      const headerLength = bytes[8] | (bytes[9] << 8);
      const data = bytes.slice(10 + headerLength);
      const values = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);

      const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(LIVENESS)));
      const image = imageToInput(await decodeImageFile(PHOTO), { shape: xai.model.inputShape, inputRange: [0, 1] });
      const expected = await direct(xai, image as { data: Float32Array; shape: number[] });
      expect(values.length).toBe(expected.values.length);
      expect(relativeL2(values, expected.values)).toBeLessThanOrEqual(1e-6);
      expect(values.some((v) => v !== 0)).toBe(true);
    }, 120_000);
  }
});

describeGpu('webgpu-xai explain --json: the fit numbers of LIME and KernelSHAP', () => {
  it('tiny model 12x10x3: --json carries LIME\'s R^2 and samples, KernelSHAP\'s additivity error, exactness and coalitions, as the Explainer gives them', async () => {
    const { seed, random } = randomSource();
    console.log(`[cli-fit-numbers] seed=${seed}`);
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const model = await writeTinyModel(join(dir, 'model'), random);
    await writePictures(dir, ['picture.png'], random);
    const picture = join(dir, 'picture.png');
    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(model)));
    const image = imageToInput(await decodeImageFile(picture), { shape: xai.model.inputShape, inputRange: [0, 1] }) as { data: Float32Array; shape: number[] };
    const lime = await xai.lime(image, { seed: 0 });
    const shap = await xai.kernelShap(image, { seed: 0 });
    const json = async (method: string) => {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      await runCli(['explain', '--model', model, '--image', picture, '--method', method, '--out', join(dir, `${method}.png`), '--json']);
      const line = String(log.mock.calls[0]?.[0]);
      log.mockRestore();
      return JSON.parse(line) as Record<string, unknown>;
    };
    expect(await json('lime')).toMatchObject({ method: 'lime', r2: lime.r2, samples: lime.samples });
    expect(await json('kernelshap')).toMatchObject({ method: 'kernelshap', additivityError: shap.additivityError, exact: shap.exact, samples: shap.samples });
  }, 120_000);
});
