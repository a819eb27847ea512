/**
 * Weights as files deliver them: the manifest's sizes against the shards (extra bytes, a shape
 * that disagrees with the data, a short shard: each named with its byte counts), and NaN/Inf
 * weights refused once, when the Model is created, whatever loader produced the spec.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { NonFiniteError } from '../../src/errors.js';
import { ModelLoadError, filesFromMemory } from '../../src/model/loaders/files.js';
import { loadModelSpec } from '../../src/model/loaders/index.js';
import { Model } from '../../src/model/model.js';
import { randomSource } from '../check.js';
import { describeGpu, testRuntime } from '../gpu.js';
import { tinyCnn } from './fixtures.js';

const EMOTION = 'node_modules/@vladmandic/human/models/emotion.json';

interface Manifest { weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string; shape: number[] }> }> }

/** emotion.json and its one shard, as copies a test may edit. */
async function emotionFiles(): Promise<{ json: Manifest; shard: Uint8Array }> {
  const json = JSON.parse(await readFile(EMOTION, 'utf8')) as Manifest;
  const shard = new Uint8Array(await readFile(EMOTION.replace('.json', '.bin')));
  return { json, shard };
}

const load = (json: Manifest, shard: Uint8Array) => loadModelSpec(filesFromMemory('emotion.json', json, new Map([['emotion.bin', shard.slice().buffer]])));

describe('weight manifests against the shards (emotion graph model, 1 shard)', () => {
  it('extra bytes after the last weight are reported with both byte counts', async () => {
    const { json, shard } = await emotionFiles();
    const longer = new Uint8Array(shard.length + 12);
    longer.set(shard);
    const error = await load(json, longer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toMatch(new RegExp(`hold ${shard.length + 12} bytes .* take ${shard.length}: 12 extra bytes`));
    expect((error as Error).message).not.toMatch(/truncated/);
  });

  it('a manifest shape smaller than its data: extra bytes, naming the manifest shapes', async () => {
    const { json, shard } = await emotionFiles();
    const first = json.weightsManifest[0].weights[0]; // [3, 3, 128, 1]
    first.shape = [3, 3, 127, 1];
    await expect(load(json, shard)).rejects.toThrow(/36 extra bytes\. A manifest shape is smaller than its data/);
  });

  it('a manifest shape larger than its data: bytes short, naming both causes and the first weight past the end', async () => {
    const { json, shard } = await emotionFiles();
    const weights = json.weightsManifest[0].weights;
    weights[0].shape = [3, 3, 129, 1];
    await expect(load(json, shard)).rejects.toThrow(new RegExp(`36 bytes short, from weight '${weights[weights.length - 1].name}' on\\. A shard is truncated or missing, or a manifest shape is larger than its data`));
  });
});

describeGpu('non-finite weights are refused at load', () => {
  it('tinyCnn: a NaN in the logits bias and an Inf in conv1 filter name the weight and node; nothing stays on the GPU', () => {
    const { random } = randomSource();
    const rt = testRuntime();
    const before = rt.pool.liveBuffers;
    const nanBias = tinyCnn(random);
    const logits = nanBias.layers.find((l) => l.name === 'logits') as Extract<(typeof nanBias.layers)[number], { kind: 'dense' }>;
    logits.bias!.data[4] = Number.NaN;
    const error = (() => { try { Model.create(rt, nanBias); } catch (e) { return e; } })();
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error).toMatchObject({ node: 'logits', weight: 'bias', code: 'NON_FINITE' });
    expect((error as Error).message).toMatch(/weight 'bias' of node 'logits' holds NaN at element 4 \(1 of 5 values not finite\)/);

    const infFilter = tinyCnn(random);
    const conv1 = infFilter.layers.find((l) => l.name === 'conv1') as Extract<(typeof infFilter.layers)[number], { kind: 'conv2d' }>;
    conv1.filter.data[7] = Number.NEGATIVE_INFINITY;
    expect(() => Model.create(rt, infFilter)).toThrow(/weight 'filter' of node 'conv1' holds -Infinity at element 7/);
    expect(rt.pool.liveBuffers).toBe(before);
  });

  it('the emotion graph model with one NaN in its shard: the loader path ends in the same check, naming the file weight', async () => {
    const { json, shard } = await emotionFiles();
    const floats = new Float32Array(shard.buffer, shard.byteOffset, shard.byteLength / 4);
    floats[0] = Number.NaN; // the first weight of the manifest
    const spec = await load(json, shard);
    const first = json.weightsManifest[0].weights[0].name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(() => Model.create(testRuntime(), spec)).toThrow(new RegExp(`weight '\\w+' \\(${first} in the weight files\\) of node '[^']+' holds NaN`));
  });
});
