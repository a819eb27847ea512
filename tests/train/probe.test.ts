import { expect, it } from 'vitest';
import { InputError, OptionError } from '../../src/errors.js';
import { Explainer } from '../../src/explain/explainer.js';
import { smallCnn } from '../../src/train/cnn.js';
import { probeLayers } from '../../src/train/probe.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { plantedBlobs } from './planted.js';

describeGpu('probeLayers', () => {
  it('blob side from x=[320,12,12,1] (untrained CNN): input [144] and pool2 [72] probes > 0.9 held out; shuffled labels near chance', async () => {
    const { seed, random } = randomSource();
    const xai = await Explainer.create(testRuntime(), smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4, 8], hidden: 16, seed }));
    const data = plantedBlobs(320, random);
    const images = { data: data.images, shape: [320, 12, 12, 1] };
    const probes = await probeLayers(xai, images, data.labels, ['input', 'pool2'], { seed });
    console.log(`[probe] seed=${seed} ${probes.map((p) => `${p.layer} [${p.featureDimension}] train ${p.trainAccuracy.toFixed(3)} test ${p.testAccuracy.toFixed(3)} (${p.milliseconds.toFixed(0)} ms)`).join(' | ')}`);
    expect(probes.map((p) => p.featureDimension)).toEqual([144, 72]);
    for (const p of probes) expect(p.testAccuracy, `seed=${seed} ${p.layer}`).toBeGreaterThan(0.9);
    // labels that carry no information about the images: the probe cannot beat guessing by much
    const noise = Float32Array.from({ length: 320 }, () => (random() < 0.5 ? 0 : 1));
    const [shuffled] = await probeLayers(xai, images, noise, ['pool2'], { seed });
    console.log(`[probe] noise labels: train ${shuffled.trainAccuracy.toFixed(3)} test ${shuffled.testAccuracy.toFixed(3)} chance ${shuffled.chance.toFixed(3)}`);
    expect(shuffled.testAccuracy, `seed=${seed}`).toBeLessThan(0.7);
  });

  it('rejects an unknown layer, wrong label count and non-integer labels before any GPU work', async () => {
    const xai = await Explainer.create(testRuntime(), smallCnn({ inputShape: [12, 12, 1], classes: 2, filters: [4], hidden: 0 }));
    const images = { data: new Float32Array(4 * 144), shape: [4, 12, 12, 1] };
    await expect(probeLayers(xai, images, [0, 1, 0, 1], ['conv1', 'nope'])).rejects.toThrow(OptionError);
    await expect(probeLayers(xai, images, [0, 1, 0], ['conv1'])).rejects.toThrow(InputError);
    await expect(probeLayers(xai, images, [0, 1, 0, 0.5], ['conv1'])).rejects.toThrow(InputError);
    await expect(probeLayers(xai, images, [0, 1, 0, 1], [])).rejects.toThrow(OptionError);
  });
});
