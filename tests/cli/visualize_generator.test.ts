/**
 * `webgpu-xai visualize --class ... [--generator ...]` on the committed digit classifier and its
 * generator (npm run train:digits): class images through the generator are their class.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, vi } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { runCli } from '../../src/cli/main.js';
import { decodeImageBytes } from '../../src/model/image-node.js';
import { describeGpu } from '../gpu.js';

const DIGITS = 'models/digits/model.json';
const GENERATOR = 'models/digits-generator/model.json';

describeGpu('webgpu-xai visualize --class', () => {
  it('--class 3,7 --generator --restarts 2 --latent-decay 0.1: a two-tile grid of digits the classifier calls 3 and 7', async () => {
    const out = join(await mkdtemp(join(tmpdir(), 'xai-cli-')), 'digits.png');
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCli(['visualize', '--model', DIGITS, '--class', '3,7', '--generator', GENERATOR, '--restarts', '2', '--latent-decay', '0.1', '--steps', '120', '--out', out]);
    const line = String(log.mock.calls.at(-1)?.[0]);
    log.mockRestore();
    const probabilities = /probability of its class: ([\d., ]+)$/.exec(line)![1].split(', ').map(Number);
    expect(probabilities, line).toHaveLength(2);
    for (const p of probabilities) expect(p, line).toBeGreaterThan(0.9);
    const grid = decodeImageBytes(await readFile(out));
    expect([grid.width, grid.height]).toEqual([28 * 2 + 2, 28 + 10]);
  });

  it('--generator without --class, --class with --layer, and --class all are usage errors', async () => {
    const out = join(tmpdir(), 'unused.png');
    await expect(runCli(['visualize', '--model', DIGITS, '--layer', 'conv1', '--generator', GENERATOR, '--out', out])).rejects.toBeInstanceOf(UsageError);
    await expect(runCli(['visualize', '--model', DIGITS, '--layer', 'conv1', '--class', '3', '--out', out])).rejects.toBeInstanceOf(UsageError);
    await expect(runCli(['visualize', '--model', DIGITS, '--class', 'all', '--out', out])).rejects.toBeInstanceOf(UsageError);
    await expect(runCli(['visualize', '--model', DIGITS, '--class', '3', '--restarts', '2', '--out', out])).rejects.toBeInstanceOf(UsageError);
  });
});
