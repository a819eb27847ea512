/**
 * Shared by the real-model scripts (check-models.ts, check-directional.ts): nsfwjs' models as
 * ModelFiles, and the finite-difference arbiter of an input gradient. A module of its own, so that
 * each script's entry keeps its own run-when-main guard in the build.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Runtime } from '../src/gpu/runtime.js';
import { filesFromMemory, type ModelFiles } from '../src/model/loaders/files.js';
import { INPUT, type Model } from '../src/model/model.js';
import { seededRandom } from '../tests/reference/tensor.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The nsfwjs UMD modules evaluated (they are CommonJS-compatible): model.json's object and the shard's bytes. */
export function nsfwjsFiles(directory: string): { files: ModelFiles; modelJson: Json; shards: Map<string, ArrayBuffer> } {
  const require = createRequire(import.meta.url);
  const modelJson = require(join(process.cwd(), directory, 'model.min.js')) as Json;
  const shards = new Map<string, ArrayBuffer>();
  for (const group of modelJson.weightsManifest as { paths: string[] }[]) {
    for (const path of group.paths) {
      const base64 = require(join(process.cwd(), directory, `${path}.min.js`)) as string;
      const bytes = Buffer.from(base64, 'base64');
      shards.set(path, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  return { files: filesFromMemory(`${directory}/model.min.js`, modelJson, shards), modelJson, shards };
}

/** The logits at x, the top one, and the input gradient of the top logit. */
async function topLogitGradient(rt: Runtime, model: Model, x: Float32Array): Promise<{ gradient: Float32Array; top: number; logits: Float32Array }> {
  const input = rt.upload([1, ...model.inputShape], x, 'x');
  const pass = model.forward(input, { forBackward: true, keep: [model.logitsName] });
  const logitsTensor = pass.value(model.logitsName);
  const logits = await rt.read(logitsTensor);
  let top = 0;
  for (let k = 1; k < logits.length; k++) if (logits[k] > logits[top]) top = k;
  const seed = new Float32Array(logits.length);
  seed[top] = 1;
  const { gradients } = model.backward(pass, new Map([[model.logitsName, rt.upload(logitsTensor.shape, seed, 'seed')]]), { to: [INPUT] });
  const gradient = await rt.read(gradients.get(INPUT)!);
  gradients.get(INPUT)!.dispose();
  pass.dispose();
  input.dispose();
  return { gradient, top, logits };
}

/**
 * The engine's input gradient g of the top logit f at x against central differences of the engine's
 * own forward pass, with no TF.js gradient in the loop: the arbiter where the oracle's gradient is
 * at fault (`oracleFault`). Directions v: g / |g|, then three seeded Gaussian ones; g . v against
 * (f(x + h v) - f(x - h v)) / 2h at h = 0.1 and 0.03 (their spread is the differences' own noise:
 * rounding and curvature). Along g the error is relative to |g|. On a random direction g . v is
 * about |g| / sqrt(n), and an error e in the gradient adds about |e| / sqrt(n): the error there is
 * in units of |g| / sqrt(n) (an e of 0.3 |g| reads about 0.3), and passes under 3 spreads plus 0.05.
 */
export async function directionalCheck(rt: Runtime, model: Model, x: Float32Array): Promise<{ alongGradient: number; random: number[]; randomOk: boolean; lines: string[] }> {
  const logitsAt = async (input: Float32Array) => {
    const tensor = rt.upload([1, ...model.inputShape], input, 'x');
    const pass = model.forward(tensor, { keep: [model.logitsName] });
    const logits = await rt.read(pass.value(model.logitsName));
    pass.dispose();
    tensor.dispose();
    return logits;
  };
  const { gradient: g, top, logits } = await topLogitGradient(rt, model, x);
  const n = g.length;
  const norm = Math.sqrt(g.reduce((a, e) => a + e * e, 0));
  const draw = seededRandom(54321);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - draw())) * Math.cos(2 * Math.PI * draw());
  const directions: [string, Float64Array][] = [['g / |g|', Float64Array.from(g, (v) => v / norm)]];
  for (let k = 1; k <= 3; k++) {
    const v = Float64Array.from({ length: n }, gaussian);
    const length = Math.sqrt(v.reduce((a, e) => a + e * e, 0));
    directions.push([`random ${k}`, v.map((e) => e / length)]);
  }
  const typical = norm / Math.sqrt(n);
  const lines = [`directional check: top logit ${top} = ${logits[top].toFixed(4)}, |g| = ${norm.toExponential(3)}, |g| / sqrt(n) = ${typical.toExponential(2)}`];
  let alongGradient = Infinity;
  const random: number[] = [];
  let randomOk = true;
  for (const [index, [label, v]] of directions.entries()) {
    const analytic = g.reduce((a, e, i) => a + e * v[i], 0);
    const numeric: number[] = [];
    for (const h of [0.1, 0.03]) {
      const plus = await logitsAt(Float32Array.from(x, (e, i) => e + h * v[i]));
      const minus = await logitsAt(Float32Array.from(x, (e, i) => e - h * v[i]));
      numeric.push((plus[top] - minus[top]) / (2 * h));
    }
    const difference = Math.abs(numeric[1] - analytic);
    const spread = Math.abs(numeric[0] - numeric[1]);
    const measured = `g.v ${analytic.toExponential(4)}; central differences h=0.1 ${numeric[0].toExponential(4)}, h=0.03 ${numeric[1].toExponential(4)}`;
    if (index === 0) {
      alongGradient = difference / norm;
      lines.push(`  ${label.padEnd(8)} ${measured}; error ${alongGradient.toExponential(1)} of |g|`);
    } else {
      random.push(difference / typical);
      randomOk &&= difference <= 3 * spread + 0.05 * typical;
      lines.push(`  ${label.padEnd(8)} ${measured}; error ${random.at(-1)!.toExponential(1)} of |g| / sqrt(n), spread ${(spread / typical).toExponential(1)}`);
    }
  }
  return { alongGradient, random, randomOk, lines };
}
