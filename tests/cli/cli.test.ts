/**
 * The command line end to end, in process: a real photo through a real model into a PNG overlay
 * and a .npy of the raw attributions, checked against the Explainer called directly.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import { Explainer } from '../../src/explain/explainer.js';
import { imageToInput } from '../../src/model/image.js';
import { decodeImageBytes, decodeImageFile } from '../../src/model/image-node.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { relativeL2 } from '../explain/reference.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { SKIMAGE_DATA } from '../model/photo.js';

const ANTISPOOF = 'node_modules/@vladmandic/human/models/antispoof.json';
const PHOTO = join(SKIMAGE_DATA, 'astronaut.png');

/** Parses a little-endian float32 .npy file. */
function readNpy(bytes: Uint8Array): { shape: number[]; values: Float32Array } {
  expect(Array.from(bytes.subarray(0, 6))).toEqual([0x93, ...'NUMPY'].map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c)));
  const headerLength = bytes[8] | (bytes[9] << 8);
  const header = new TextDecoder().decode(bytes.subarray(10, 10 + headerLength));
  expect(header).toContain("'descr': '<f4'");
  expect((10 + headerLength) % 64).toBe(0);
  const shape = /'shape': \(([^)]*)\)/.exec(header)![1].split(',').filter((d) => d.trim()).map(Number);
  const data = bytes.slice(10 + headerLength);
  return { shape, values: new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4) };
}

describeGpu('webgpu-xai explain', () => {
  it('antispoof on astronaut.png: saliency PNG overlay and raw .npy equal the Explainer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const [out, npy] = [join(dir, 'map.png'), join(dir, 'raw.npy')];
    await runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--method', 'saliency', '--out', out, '--npy', npy]);

    const overlay = decodeImageBytes(await readFile(out));
    expect([overlay.width, overlay.height]).toEqual([512, 512]); // drawn at the photo's size
    const { shape, values } = readNpy(await readFile(npy));
    expect(shape).toEqual([1, 128, 128, 3]);

    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles(ANTISPOOF)));
    const image = imageToInput(await decodeImageFile(PHOTO), { shape: xai.model.inputShape, inputRange: [0, 1] });
    const direct = await xai.saliency(image);
    expect(relativeL2(values, direct.values)).toBeLessThanOrEqual(1e-6);
    expect(values.some((v) => v !== 0)).toBe(true);
  });

  it('smoothgrad on a cropped face with the emotion model (1 channel: luma) writes both files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const npy = join(dir, 'sg.npy');
    await runCli(['explain', '--model', 'node_modules/@vladmandic/human/models/emotion.json', '--image', PHOTO, '--crop', '170,20,160,200',
      '--method', 'smoothgrad', '--samples', '4', '--seed', '3', '--out', join(dir, 'sg.png'), '--npy', npy]);
    expect(readNpy(await readFile(npy)).shape).toEqual([1, 64, 64, 1]);
  });

  it('wrong paths, bad images and bad options fail with one clear message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const out = join(dir, 'x.png');
    await expect(runCli(['explain', '--model', 'missing/model.json', '--image', PHOTO, '--out', out])).rejects.toThrow(/Cannot read missing\/model.json/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', 'nope.png', '--out', out])).rejects.toThrow(/Cannot read image nope.png/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', ANTISPOOF, '--out', out])).rejects.toThrow(/neither a PNG nor a JPEG/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--method', 'lime'])).rejects.toThrow(/--method must be one of saliency, smoothgrad, ig, gradcam, occlusion; got 'lime'/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--target', '4'])).rejects.toThrow(/target 4 is out of range: the model has 1 classes/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO])).rejects.toThrow(/explain needs --out/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--input-range', '1,0'])).rejects.toThrow(/--input-range must be 'low,high'/);
    await expect(runCli(['frobnicate'])).rejects.toThrow(/Unknown command 'frobnicate'/);
  });
});
