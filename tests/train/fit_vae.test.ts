import { expect, it } from 'vitest';
import { InputError, ShapeError } from '../../src/errors.js';
import { Model } from '../../src/model/model.js';
import type { LayerSpec, ModelSpec } from '../../src/model/spec.js';
import { elboGradients, evaluateVae, fitVae } from '../../src/train/fit_vae.js';
import { vae } from '../../src/train/vae.js';
import { randomSource, relativeError } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { gaussianKlRef, sigmoidCrossEntropyRef } from '../reference/loss.js';
import { referenceForward } from '../reference/model.js';
import { reparameterizeRef } from '../reference/reparameterize.js';
import { refTensor, type RefTensor } from '../reference/tensor.js';
import { plantedBlobs } from './planted.js';

/** The batch-mean negative ELBO in float64, through the reference ops (one fixed eps). */
function negativeElboRef(encoder: ModelSpec, decoder: ModelSpec, x: RefTensor, eps: RefTensor): number {
  const stats = referenceForward(encoder, x).get(encoder.output)!;
  const z = reparameterizeRef(stats, eps);
  const logits = referenceForward(decoder, z).get('upsample2')!;
  const n = x.shape[0];
  const bce = sigmoidCrossEntropyRef(refTensor([n, logits.data.length / n], logits.data), x.data).loss.data;
  const kl = gaussianKlRef(stats).loss.data;
  return bce.reduce((s, v, r) => s + v + kl[r], 0) / n;
}

/** Every weight array of a spec, by '<layer>.<field>' (the engine's weight names). */
function weightArrays(spec: ModelSpec): Map<string, { data: Float64Array }> {
  const out = new Map<string, { data: Float64Array }>();
  for (const layer of spec.layers as (LayerSpec & Record<string, unknown>)[]) {
    for (const field of ['weights', 'bias', 'filter']) {
      const w = layer[field] as { data: Float32Array } | undefined;
      // float64 copies, so that the finite differences' steps are not rounded away
      if (!w) continue;
      w.data = Float64Array.from(w.data) as unknown as Float32Array;
      out.set(`${layer.name}.${field}`, w as unknown as { data: Float64Array });
    }
  }
  return out;
}

describeGpu('fitVae', () => {
  it('the ELBO gradient of every weight matches finite differences of the float64 reference (x=[3,4,4,1], latent 2)', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const specs = vae({ inputShape: [4, 4, 1], latent: 2, hidden: 5, filters: 4, seed });
    // nonzero biases, so that their gradients and the bias mapping are exercised
    for (const layer of [...specs.encoder.layers, ...specs.decoder.layers] as (LayerSpec & { bias?: { data: Float32Array } })[]) {
      if (layer.bias) for (let i = 0; i < layer.bias.data.length; i++) layer.bias.data[i] = Math.fround((random() - 0.5) * 0.2);
    }
    const encoder = Model.create(rt, specs.encoder);
    const decoder = Model.create(rt, specs.decoder);
    const x = refTensor([3, 4, 4, 1], Array.from({ length: 48 }, () => Math.fround(random())));
    const eps = refTensor([3, 2], Array.from({ length: 6 }, () => Math.fround(random() * 2 - 1)));
    const step = elboGradients(encoder, decoder, rt.upload(x.shape, x.data), rt.upload(eps.shape, eps.data));
    const gpuLoss = await rt.read(step.reconstruction);
    const gpuKl = await rt.read(step.kl);
    const engineElbo = gpuLoss.reduce((s, v, r) => s + v + gpuKl[r], 0) / 3;

    const referenceElbo = negativeElboRef(specs.encoder, specs.decoder, x, eps);
    expect(Math.abs(engineElbo - referenceElbo) / referenceElbo, `seed=${seed}: -ELBO ${engineElbo} vs ${referenceElbo}`).toBeLessThan(1e-5);
    let checked = 0;
    for (const [model, spec] of [[encoder, specs.encoder], [decoder, specs.decoder]] as const) {
      for (const [key, array] of weightArrays(spec)) {
        const [layerName, field] = key.split('.');
        const engine = await rt.read(step.gradients.get(model.layer(layerName).weights[field])!);
        const numeric = new Float64Array(array.data.length);
        for (let i = 0; i < array.data.length; i++) {
          const saved = array.data[i];
          array.data[i] = saved + 1e-6;
          const plus = negativeElboRef(specs.encoder, specs.decoder, x, eps);
          array.data[i] = saved - 1e-6;
          const minus = negativeElboRef(specs.encoder, specs.decoder, x, eps);
          array.data[i] = saved;
          numeric[i] = (plus - minus) / 2e-6;
        }
        const error = relativeError(engine, numeric);
        console.log(`[vae-grad] seed=${seed} ${key} [${model.layer(layerName).weights[field].shape}] relative error ${error.toExponential(2)}`);
        expect(error, `seed=${seed} ${key}`).toBeLessThan(1e-4);
        checked++;
      }
    }
    expect(checked).toBe(10); // hidden, stats, project, upsample1, upsample2: weights and bias each
  });

  it('training lowers the held-out negative ELBO (planted blobs 12x12, latent 4)', async () => {
    const rt = testRuntime();
    const { seed, random } = randomSource();
    const data = plantedBlobs(160, random);
    const held = plantedBlobs(32, random);
    const specs = vae({ inputShape: [12, 12, 1], latent: 4, hidden: 32, filters: 8, seed });
    const encoder = Model.create(rt, specs.encoder);
    const decoder = Model.create(rt, specs.decoder);
    const before = await evaluateVae(encoder, decoder, held.images, { seed });
    const history = await fitVae(encoder, decoder, data.images, { epochs: 4, batchSize: 16, optimizer: { kind: 'adam', learningRate: 5e-3 }, seed, validationImages: held.images });
    const after = history.at(-1)!.validation!;
    console.log(`[vae-fit] seed=${seed}: held-out -ELBO ${before.loss.toFixed(2)} -> ${history.map((e) => e.validation!.loss.toFixed(2)).join(' -> ')} (reconstruction ${after.reconstruction.toFixed(2)}, KL ${after.kl.toFixed(2)})`);
    expect(after.loss, `seed=${seed}`).toBeLessThan(0.8 * before.loss);
    expect(after.kl, `seed=${seed}`).toBeGreaterThan(0);
    expect(history.every((e) => Number.isFinite(e.loss) && e.imagesPerSecond > 0)).toBe(true);
  });

  it('a mismatched pair, a decoder without a sigmoid, and images outside [0, 1] are refused before any GPU work', async () => {
    const rt = testRuntime();
    const specs = vae({ inputShape: [4, 4, 1], latent: 2, hidden: 3, filters: 2 });
    const encoder = Model.create(rt, specs.encoder);
    const decoder = Model.create(rt, specs.decoder);
    const wide = Model.create(rt, vae({ inputShape: [4, 4, 1], latent: 3, hidden: 3, filters: 2 }).decoder);
    const linear = Model.create(rt, { ...specs.decoder, layers: specs.decoder.layers.slice(0, -1), output: 'upsample2' });
    const before = rt.pendingCommands;
    await expect(fitVae(encoder, wide, new Float32Array(16), { epochs: 1 })).rejects.toBeInstanceOf(ShapeError);
    await expect(fitVae(encoder, linear, new Float32Array(16), { epochs: 1 })).rejects.toThrow(/sigmoid/);
    await expect(fitVae(encoder, decoder, new Float32Array(16).fill(2), { epochs: 1 })).rejects.toBeInstanceOf(InputError);
    await expect(fitVae(encoder, decoder, new Float32Array(15), { epochs: 1 })).rejects.toBeInstanceOf(ShapeError);
    expect(rt.pendingCommands).toBe(before);
  });
});
