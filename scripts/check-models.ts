/**
 * A real model end to end against TF.js on its CPU backend: nsfwjs' MobileNetV2 (a Keras 2 export
 * with uint8-quantized weights, 224x224x3 in [0, 1], 5 classes), loaded with `loadLayersModel` and
 * run by the engine on a random input and on a photo. Compares the probabilities and logits
 * (relative L2 <= 1e-4) and the input gradient of the top logit (<= 1e-3), prints the numbers and
 * the timings, and returns a non-zero exit code on a failure.
 *
 * The input gradient of a ReLU network is discontinuous wherever a pre-activation crosses 0 or 6,
 * so two float32 implementations that differ by rounding alone disagree on a few masks. The script
 * measures that floor on the engine itself (its gradient at x against its gradient at x perturbed
 * by ~1e-7, float32 rounding) and prints it; a gradient error above 1e-3 but below the floor is
 * reported as such, not as a failure (on random noise the floor is about 2e-3, on a photo 2e-4).
 *
 * nsfwjs ships its model as JavaScript (UMD modules that return model.json's object and the weight
 * shard as base64), not as files; `nsfwjsFiles` unwraps them into ModelFiles here, so that the
 * loader sees exactly what a model.json and its shard would give it.
 *
 * Needs Vite (TypeScript, `.js` -> `.ts` imports, the WGSL loaded through import.meta.glob), e.g.:
 *   node --input-type=module -e "const { createServer } = await import('vite');
 *     const server = await createServer({ server: { middlewareMode: true, hmr: false }, appType: 'custom', logLevel: 'error' });
 *     try { process.exitCode = await (await server.ssrLoadModule('/scripts/check-models.ts')).main(); } finally { await server.close(); }"
 * or as an input of a Vite SSR build (vite.node.config.ts), whose output runs itself.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { requestNodeDevice } from '../src/gpu/node-device.js';
import { Runtime } from '../src/gpu/runtime.js';
import { imageToInput } from '../src/model/image.js';
import { decodeImageFile } from '../src/model/image-node.js';
import { filesFromMemory, type ModelFiles } from '../src/model/loaders/files.js';
import { loadLayersModel } from '../src/model/loaders/layers_model.js';
import { INPUT, Model } from '../src/model/model.js';

const OUTPUT_TOLERANCE = 1e-4;
const GRADIENT_TOLERANCE = 1e-3;
const NSFWJS_MOBILENET_V2 = 'node_modules/nsfwjs/dist/models/mobilenet_v2';
const PHOTO = '/usr/lib/python3/dist-packages/skimage/data/astronaut.png';
/** nsfwjs' class order (its README); printed for orientation only. */
const NSFWJS_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

type Json = Record<string, any>;

/** ||a - b|| / ||b||. */
function relativeL2(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    difference += (actual[i] - expected[i]) ** 2;
    norm += expected[i] ** 2;
  }
  return Math.sqrt(difference) / Math.max(Math.sqrt(norm), 1e-30);
}

/** The nsfwjs UMD modules evaluated (they are CommonJS-compatible): model.json's object and the shard's bytes. */
function nsfwjsFiles(directory: string): { files: ModelFiles; modelJson: Json; shards: Map<string, ArrayBuffer> } {
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

/** TF.js models for the output and the logits (the output layer's activation made linear). */
async function tfjsModels(modelJson: Json, shards: Map<string, ArrayBuffer>): Promise<{ full: tf.LayersModel; logits: tf.LayersModel }> {
  const weightSpecs = modelJson.weightsManifest.flatMap((g: Json) => g.weights);
  const weightData = tf.io.concatenateArrayBuffers(modelJson.weightsManifest.flatMap((g: Json) => g.paths.map((p: string) => shards.get(p)!)));
  const load = (topology: Json) => tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs, weightData }));
  const topology = JSON.parse(JSON.stringify(modelJson.modelTopology)) as Json;
  const config = (topology.model_config ?? topology).config;
  const outputName = config.output_layers[0][0];
  const full = await load(modelJson.modelTopology);
  config.layers.find((l: Json) => l.name === outputName).config.activation = 'linear';
  return { full, logits: await load(topology) };
}

interface Check {
  label: string;
  output: number;
  logits: number;
  gradient: number;
  /** The engine's gradient change under a float32-rounding-sized perturbation of the input. */
  floor: number;
  ok: boolean;
}

/** Engine: output, logits and the input gradient of the top logit (or of `topClass`) at x. */
async function engineRun(rt: Runtime, model: Model, x: Float32Array, topClass?: number) {
  const shape = [1, ...model.inputShape];
  const start = performance.now();
  const input = rt.upload(shape, x, 'x');
  const pass = model.forward(input, { forBackward: true, keep: [model.logitsName] });
  const output = await rt.read(pass.value(model.outputName));
  const logitsTensor = pass.value(model.logitsName);
  const logits = await rt.read(logitsTensor);
  const forwardMs = performance.now() - start;
  let top = topClass ?? 0;
  if (topClass === undefined) for (let k = 1; k < logits.length; k++) if (logits[k] > logits[top]) top = k;
  const seed = new Float32Array(logits.length);
  seed[top] = 1;
  const backwardStart = performance.now();
  const { gradients } = model.backward(pass, new Map([[model.logitsName, rt.upload(logitsTensor.shape, seed, 'seed')]]));
  const gradientTensor = gradients.get(INPUT)!;
  const gradient = await rt.read(gradientTensor);
  const backwardMs = performance.now() - backwardStart;
  gradientTensor.dispose();
  pass.dispose();
  input.dispose();
  return { output, logits, gradient, top, seed, forwardMs, backwardMs };
}

async function compare(rt: Runtime, model: Model, tfModels: { full: tf.LayersModel; logits: tf.LayersModel }, label: string, x: Float32Array, random: () => number): Promise<Check> {
  const shape = [1, ...model.inputShape];
  const engine = await engineRun(rt, model, x);
  const nudged = Float32Array.from(x, (v) => v * (1 + 1e-7 * (2 * random() - 1)));
  const floor = relativeL2((await engineRun(rt, model, nudged, engine.top)).gradient, engine.gradient);
  // TF.js CPU
  let start = performance.now();
  const xt = tf.tensor(x, shape);
  const expectedOutput = (tfModels.full.predict(xt) as tf.Tensor).dataSync();
  const expectedLogits = (tfModels.logits.predict(xt) as tf.Tensor).dataSync();
  const tfForwardMs = performance.now() - start;
  start = performance.now();
  const seedT = tf.tensor(engine.seed, [1, engine.seed.length]);
  const expectedGradient = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tfModels.logits.apply(v) as tf.Tensor, seedT)))(xt).dataSync();
  const tfGradientMs = performance.now() - start;
  tf.dispose([xt, seedT]);
  const check = {
    label,
    output: relativeL2(engine.output, expectedOutput),
    logits: relativeL2(engine.logits, expectedLogits),
    gradient: relativeL2(engine.gradient, expectedGradient),
    floor,
    ok: false,
  };
  const gradientOk = check.gradient <= GRADIENT_TOLERANCE || check.gradient <= floor;
  check.ok = check.output <= OUTPUT_TOLERANCE && check.logits <= OUTPUT_TOLERANCE && gradientOk;
  const note = check.gradient > GRADIENT_TOLERANCE && gradientOk ? ' (above 1e-3 but within the float32 floor)' : '';
  const probabilities = Array.from(engine.output, (p, k) => `${NSFWJS_CLASSES[k] ?? k} ${p.toFixed(4)}`).join(', ');
  console.log(`${check.ok ? 'PASS' : 'FAIL'} ${label}: relative L2 probabilities ${check.output.toExponential(2)}, logits ${check.logits.toExponential(2)}, ` +
    `input gradient of the top logit (class ${engine.top}) ${check.gradient.toExponential(2)}${note}; float32 floor ${floor.toExponential(2)}`);
  console.log(`     engine forward ${engine.forwardMs.toFixed(0)} ms, backward ${engine.backwardMs.toFixed(0)} ms; ` +
    `TF.js CPU forward (x2) ${tfForwardMs.toFixed(0)} ms, gradient ${tfGradientMs.toFixed(0)} ms; probabilities: ${probabilities}`);
  return check;
}

/** Returns the process exit code: 0 when every check passes. */
export async function main(): Promise<number> {
  await tf.setBackend('cpu');
  const device = await requestNodeDevice();
  const rt = new Runtime(device);
  let start = performance.now();
  const { files, modelJson, shards } = nsfwjsFiles(NSFWJS_MOBILENET_V2);
  const spec = await loadLayersModel(files);
  const model = Model.create(rt, spec);
  console.log(`nsfwjs MobileNetV2: ${spec.layers.length} nodes, input [${model.inputShape.join(', ')}], output '${model.outputName}', logits '${model.logitsName}', ${(model.flops(1) / 1e9).toFixed(2)} GFLOP; loaded in ${(performance.now() - start).toFixed(0)} ms`);
  start = performance.now();
  const tfModels = await tfjsModels(modelJson, shards);
  console.log(`TF.js reference loaded in ${(performance.now() - start).toFixed(0)} ms`);
  const [height, width, channels] = model.inputShape;
  const checks: Check[] = [];
  // a fixed pseudo-random input in the model's [0, 1] range (mulberry32)
  let state = 12345;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  checks.push(await compare(rt, model, tfModels, 'random input', Float32Array.from({ length: height * width * channels }, random), random));
  const { data } = imageToInput(await decodeImageFile(PHOTO), { shape: [height, width, channels], inputRange: [0, 1] });
  checks.push(await compare(rt, model, tfModels, `${PHOTO.slice(PHOTO.lastIndexOf('/') + 1)} resized to ${height}x${width}`, data, random));
  model.dispose();
  tfModels.full.dispose();
  tfModels.logits.dispose();
  const failed = checks.filter((c) => !c.ok);
  console.log(failed.length ? `${failed.length} of ${checks.length} checks FAILED` : `all ${checks.length} checks passed`);
  return failed.length ? 1 : 0;
}

// Runs itself when it is the entry point (e.g. a Vite SSR build of this file run with node); a
// loader such as Vite's ssrLoadModule imports it without running and calls main().
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
