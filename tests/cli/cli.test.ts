/**
 * The command line end to end, in process: a real photo through a real model into a PNG overlay
 * and a .npy of the raw attributions, checked against the Explainer called directly.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/main.js';
import { requestNodeDevice } from '../../src/gpu/node-device.js';
import { Explainer } from '../../src/explain/explainer.js';
import { imageToInput } from '../../src/model/image.js';
import { decodeImageBytes, decodeImageFile } from '../../src/model/image-node.js';
import { loadModelSpec, modelFiles } from '../../src/model/loaders/index.js';
import { relativeL2 } from '../explain/reference.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { SKIMAGE_DATA } from '../model/photo.js';

// counts device requests (the CLI must check the model path before it asks for one)
vi.mock('../../src/gpu/node-device.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/gpu/node-device.js')>();
  return { ...original, requestNodeDevice: vi.fn(original.requestNodeDevice) };
});

const ANTISPOOF = 'node_modules/@vladmandic/human/models/antispoof.json';
const LIVENESS = 'node_modules/@vladmandic/human/models/liveness.json';
const EMOTION = 'node_modules/@vladmandic/human/models/emotion.json';
const EMOTION_LABELS = 'angry,disgust,fear,happy,sad,surprise,neutral';
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
    expect(overlay.width).toBe(512); // drawn at the photo's size, with the legend below
    expect(overlay.height).toBeGreaterThan(512 + 60);
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
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--method', 'deconvnet'])).rejects.toThrow(/--method must be one of saliency, smoothgrad, ig, gradientshap, deeplift, gradcam, occlusion, guided-backprop, layercam, scorecam, rise, lime, kernelshap; got 'deconvnet'/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--method', 'deeplift', '--baseline-count', '4'])).rejects.toThrow(/--baseline-count sets the number of uniform noise baselines; it needs --baseline uniform \(got black\)/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--target', '4'])).rejects.toThrow(/target 4 is out of range: the model has 1 classes/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO])).rejects.toThrow(/explain needs --out/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--input-range', '1,0'])).rejects.toThrow(/--input-range must be 'low,high'/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--output', 'nope', '--image', PHOTO, '--out', out])).rejects.toThrow(/the output option names output 'nope', which is not a node/);
    await expect(runCli(['frobnicate'])).rejects.toThrow(/Unknown command 'frobnicate'/);
  });

  it('emotion IG on a 160x200 crop with --input-range -1,1 (as the help writes it): the PNG has a legend below the picture', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const out = join(dir, 'ig.png');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['explain', '--model', EMOTION, '--image', PHOTO, '--crop', '170,20,160,200', '--input-range', '-1,1', '--labels', EMOTION_LABELS,
      '--method', 'ig', '--steps', '8', '--out', out]);
    const lines = log.mock.calls.map((call) => String(call[0]));
    log.mockRestore();
    const picture = decodeImageBytes(await readFile(out));
    expect(picture.width).toBe(360); // legends are at least 360 wide; the crop is 160
    expect(picture.height).toBeGreaterThan(200 + 80);
    expect(lines[0]).toMatch(/^ig: class \d \((angry|disgust|fear|happy|sad|surprise|neutral)\) p = 0\.\d{3}, \d+ ms, completeness error/);
  });

  it("occlusion's default window is 1/8 of the side with half-window stride (liveness 32x32: 4 / 2, 225 windows)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['explain', '--model', LIVENESS, '--image', PHOTO, '--method', 'occlusion', '--out', join(dir, 'o.png')]);
    const lines = log.mock.calls.map((call) => String(call[0]));
    log.mockRestore();
    expect(lines[0]).toMatch(/225 windows of 4x4 at stride 2x2/);
  });

  it("--target happy is the class --labels names; a wrong count of labels is an error", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const base = ['explain', '--model', EMOTION, '--image', PHOTO, '--crop', '170,20,160,200', '--input-range=-1,1', '--out', join(dir, 't.png')];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli([...base, '--labels', EMOTION_LABELS, '--target', 'happy']);
    const lines = log.mock.calls.map((call) => String(call[0]));
    log.mockRestore();
    expect(lines[0]).toMatch(/^saliency: class 3 \(happy\) p = /);
    await expect(runCli([...base, '--labels', 'a,b,c'])).rejects.toThrow(/--labels names 3 classes but .*emotion\.json has 7: give one name per class/);
    await expect(runCli([...base, '--labels', EMOTION_LABELS, '--target', 'bored'])).rejects.toThrow(/--target must be 'top', a class index >= 0 or one of the labels \(angry, .*\); got 'bored'/);
  });
});

describeGpu('webgpu-xai visualize', () => {
  it("emotion's first conv layer, channels 2,5 (2 steps): the grid numbers each tile by its channel", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const out = join(dir, 'grid.png');
    const spec = await loadModelSpec(modelFiles(EMOTION));
    const layer = spec.layers.find((l) => l.kind === 'conv2d')!.name;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['visualize', '--model', EMOTION, '--layer', layer, '--channels', '2,5', '--steps', '2', '--input-range', '-1,1', '--out', out]);
    log.mockRestore();
    const grid = decodeImageBytes(await readFile(out));
    // two 64x64 tiles side by side, a 10-pixel strip below them with the numbers in dark ink
    expect([grid.width, grid.height]).toEqual([64 * 2 + 2, 64 + 10]);
    const inkIn = (x0: number) => {
      let n = 0;
      for (let y = 64; y < 74; y++) for (let x = x0; x < x0 + 64; x++) if (grid.data[(y * grid.width + x) * 4] < 100) n++;
      return n;
    };
    expect(inkIn(0)).toBeGreaterThan(5);
    expect(inkIn(66)).toBeGreaterThan(5);
  });
});

describe('webgpu-xai usage errors, before any GPU work', () => {
  it('outputs that cannot be written (a directory, a path under a file) fail before the model is read or the device started', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    await mkdir(join(dir, 'folder'));
    await writeFile(join(dir, 'file'), 'x');
    const devices = vi.mocked(requestNodeDevice).mock.calls.length;
    const cases: Array<[string[], RegExp]> = [
      [['--out', join(dir, 'folder')], /--out .*folder is a directory: give the path of a file to write/],
      [['--out', join(dir, 'file', 'map.png')], /--out .*map\.png lies under .*file, which is a file, not a directory/],
      [['--out', join(dir, 'ok.png'), '--npy', join(dir, 'file', 'deeper', 'x.npy')], /--npy .* lies under .*file, which is a file/],
    ];
    for (const [args, message] of cases) {
      const error = await runCli(['explain', '--model', 'missing/model.json', '--image', PHOTO, ...args]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
    }
    expect(vi.mocked(requestNodeDevice).mock.calls.length).toBe(devices);
  });

  it('a missing model file is reported before the GPU device is requested', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const devices = vi.mocked(requestNodeDevice).mock.calls.length;
    await expect(runCli(['explain', '--model', 'missing/model.json', '--image', PHOTO, '--out', join(dir, 'x.png')])).rejects.toThrow(/Cannot read missing\/model.json/);
    await expect(runCli(['visualize', '--model', 'missing/model.json', '--layer', 'conv', '--out', join(dir, 'x.png')])).rejects.toThrow(/Cannot read missing\/model.json/);
    expect(vi.mocked(requestNodeDevice).mock.calls.length).toBe(devices);
  });

  it('repeated --image, a bad --crop, a truncated PNG: one clear line each', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'xai-cli-'));
    const out = join(dir, 'x.png');
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--image', PHOTO, '--out', out])).rejects.toThrow(/--image is given more than once: one run explains one image \(for several, use --images\)/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--crop', 'a,b,c,d'])).rejects.toThrow(/--crop takes x,y,width,height as four whole numbers of pixels \(e\.g\. 170,20,160,200\); got 'a,b,c,d'/);
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', PHOTO, '--out', out, '--crop', '1,2,3'])).rejects.toThrow(/--crop takes x,y,width,height/);
    const truncated = join(dir, 'cut.png');
    const bytes = await readFile(PHOTO);
    await writeFile(truncated, bytes.subarray(0, bytes.length >> 1));
    await expect(runCli(['explain', '--model', ANTISPOOF, '--image', truncated, '--out', out])).rejects.toThrow(new RegExp(`${truncated.replace(/[.]/g, '\\.')} is a truncated PNG file: it stops after ${bytes.length >> 1} bytes`));
  });

  it('--version prints the package version; bench points at the repository', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['--version']);
    const lines = log.mock.calls.map((call) => String(call[0]));
    log.mockRestore();
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(lines).toEqual([version]);
    await expect(runCli(['bench', '--help'])).rejects.toThrow(/runs from a clone of the repository: git clone https:\/\/github\.com\/webgpu-xai\/webgpu-xai/);
  });
});
