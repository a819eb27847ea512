/**
 * `webgpu-xai visualize --parametrization fourier` on the committed digit classifier: the Fourier
 * options reach the engine (JSON says so, the grid has one tile per class) and misuse is a usage error.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/main.js';
import { OptionError } from '../../src/errors.js';
import { decodeImageBytes } from '../../src/model/image-node.js';
import { describeGpu } from '../gpu.js';

const DIGITS = 'models/digits/model.json';

describeGpu('webgpu-xai visualize --parametrization fourier', () => {
  it('--class 3,7 --parametrization fourier --jitter 1 --json: a two-tile grid of [28, 28, 1] Fourier images', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'xai-cli-')), 'fourier.png');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['visualize', '--model', DIGITS, '--class', '3,7', '--parametrization', 'fourier', '--decay-power', '1.2', '--jitter', '1', '--steps', '16', '--json', '--out', out]);
    const line = String(log.mock.calls.at(-1)?.[0]);
    log.mockRestore();
    const json = JSON.parse(line) as { parametrization: string; classes: number[]; shape: number[] };
    expect(json.parametrization).toBe('fourier');
    expect(json.classes).toEqual([3, 7]);
    expect(json.shape).toEqual([2, 28, 28, 1]);
    const grid = decodeImageBytes(await readFile(out));
    expect([grid.width, grid.height]).toEqual([28 * 2 + 2, 28 + 10]);
  });

  it('misused Fourier options are usage errors before the GPU; a negative decay power is the engine\'s OptionError', async () => {
    const out = join(tmpdir(), 'unused.png');
    const base = ['visualize', '--model', DIGITS, '--class', '3', '--out', out];
    await expect(runCli([...base, '--parametrization', 'fft'])).rejects.toThrow(/--parametrization must be pixel or fourier/);
    await expect(runCli([...base, '--decay-power', '2'])).rejects.toThrow(/--decay-power goes with --parametrization fourier/);
    await expect(runCli([...base, '--no-decorrelate'])).rejects.toBeInstanceOf(UsageError);
    await expect(runCli([...base, '--jitter', '-1'])).rejects.toBeInstanceOf(UsageError);
    await expect(runCli([...base, '--parametrization', 'fourier', '--generator', 'models/digits-generator/model.json'])).rejects.toThrow(/--generator ascends over its latent code/);
    // the CLI passes numbers through; the engine checks their range
    await expect(runCli(['visualize', '--model', DIGITS, '--layer', 'conv1', '--parametrization', 'fourier', '--steps', '1', '--out', out, '--decay-power', '-1'])).rejects.toBeInstanceOf(OptionError);
  });
});
