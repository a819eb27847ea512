/**
 * The engine's input gradient against central finite differences of the engine's own forward
 * pass, on one real model with no TF.js gradient in the loop: the arbiter where check:models finds
 * the oracle's gradient at fault. nsfwjs' InceptionV3 (the default subject) agrees with TF.js on
 * outputs and logits to 1.2e-7 but not on the input gradient (3.1e-1), and TF.js 4.22's CPU AvgPool
 * gradient with 'same' padding is wrong at borders; if the engine's gradient matches the
 * directional derivatives of the forward pass both implementations share, the difference is
 * TF.js's.
 *
 * The check itself is directional.ts' directionalCheck, which check-models.ts also runs (the same random input; its comment says
 * how the errors read). Measured on lavapipe (top logit 2 = 5.87, |g| = 1.35): 3.2e-4 of |g| along
 * the gradient; 6.5e-3, 1.8e-2 and 1.8e-2 of |g| / sqrt(n) on three random directions, inside the
 * differences' own noise, where the 3.1e-1 that separates the engine from TF.js's tf.grad would
 * read about 0.3.
 *   npm run check:directional [-- nsfwjs-name]   (default inception_v3; exit 1 when the check fails)
 */
import { pathToFileURL } from 'node:url';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { Runtime } from '../src/gpu/runtime.js';
import { loadModelSpec } from '../src/model/loaders/index.js';
import { Model } from '../src/model/model.js';
import { seededRandom } from '../tests/reference/tensor.js';
import { directionalCheck, nsfwjsFiles } from './directional.js';

export async function main(name = process.argv[2] ?? 'inception_v3'): Promise<number> {
  const rt = new Runtime(await requestNodeDevice());
  const model = Model.create(rt, await loadModelSpec(nsfwjsFiles(`node_modules/nsfwjs/dist/models/${name}`).files));
  // the random input check:models uses
  const x = Float32Array.from({ length: model.inputShape.reduce((a, b) => a * b, 1) }, seededRandom(12345));
  const { alongGradient, randomOk, lines } = await directionalCheck(rt, model, x);
  console.log(`${name}: input [${model.inputShape.join(', ')}]\n${lines.join('\n')}`);
  model.dispose();
  return alongGradient <= 1e-2 && randomOk ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
