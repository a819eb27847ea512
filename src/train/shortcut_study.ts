/**
 * The shortcut study end to end (issue: "a classifier that scores 98% and is still wrong"):
 * train the same small CNN on background-biased and on background-balanced data, then measure
 * (1) accuracy on held-out data with the training correlation and with the backgrounds swapped,
 * and (2) the share of saliency and SmoothGrad mass on the background of held-out images. The
 * shortcut model scores well until the backgrounds swap, and its maps sit on the background.
 */
import type { Runtime } from '../gpu/runtime.js';
import type { Attribution } from '../explain/attribution.js';
import { Explainer } from '../explain/explainer.js';
import { Model } from '../model/model.js';
import { smallCnn } from './cnn.js';
import { evaluate, fit, type TrainingProgress } from './fit.js';
import { backgroundMass, SHORTCUT_CLASSES, shortcutDataset, topBackgroundShare, type ShortcutData } from './shortcut.js';

export interface ShortcutStudyOptions {
  /** Training images per model. Default 1200. */
  trainCount?: number;
  /** Held-out images per test set. Default 400. */
  testCount?: number;
  /** Images whose maps are measured. Default 24. */
  explainCount?: number;
  /** Background bias of the shortcut model's data. Default 0.97. */
  bias?: number;
  size?: number;
  epochs?: number;
  /** SmoothGrad samples per image. Default 16. */
  samples?: number;
  seed?: number;
  signal?: AbortSignal;
  onProgress?: (stage: string, progress?: TrainingProgress) => void;
}

export interface StudyModelReport {
  /** Background bias of its training data. */
  bias: number;
  trainAccuracy: number;
  /** Held-out images with the training set's background correlation. */
  testAccuracy: number;
  /** Held-out images with the backgrounds swapped between the classes. */
  swappedAccuracy: number;
  /** Mean share of |attribution| on background pixels. */
  saliencyBackgroundMass: number;
  smoothGradBackgroundMass: number;
  /** Mean share of the 10% most attributed pixels that are background (saliency, SmoothGrad). */
  saliencyTopBackground: number;
  smoothGradTopBackground: number;
  /** Share of the image that is background (what a map blind to content would give). */
  backgroundArea: number;
  /** The maps of the measured images (the report's `examples`), in order. */
  saliencyMaps: Attribution[];
  smoothGradMaps: Attribution[];
  model: Model;
}

export interface ShortcutStudyReport {
  shortcut: StudyModelReport;
  balanced: StudyModelReport;
  /** Images the maps were measured on, for display. */
  examples: ShortcutData;
}

export async function shortcutStudy(rt: Runtime, options: ShortcutStudyOptions = {}): Promise<ShortcutStudyReport> {
  const seed = options.seed ?? 1;
  const size = options.size ?? 32;
  const bias = options.bias ?? 0.97;
  const trainCount = options.trainCount ?? 1200;
  const testCount = options.testCount ?? 400;
  const epochs = options.epochs ?? 8;
  // the maps are measured on images whose background does NOT give the class away (balanced)
  const examples = shortcutDataset({ count: options.explainCount ?? 24, size, bias: 0.5, seed: seed + 3 });
  const run = async (name: string, trainBias: number): Promise<StudyModelReport> => {
    const data = shortcutDataset({ count: trainCount, size, bias: trainBias, seed });
    const model = Model.create(rt, smallCnn({ inputShape: [size, size, 3], classes: 2, filters: [8, 16], hidden: 32, seed, labels: [...SHORTCUT_CLASSES] }));
    options.onProgress?.(`training the ${name} model`);
    const history = await fit(model, data, {
      epochs, batchSize: 32, optimizer: { kind: 'adam', learningRate: 3e-3 }, seed, signal: options.signal, augment: { flip: true },
      onProgress: (p) => options.onProgress?.(`training the ${name} model`, p),
    });
    options.onProgress?.(`testing the ${name} model`);
    const testAccuracy = (await evaluate(model, shortcutDataset({ count: testCount, size, bias, seed: seed + 1 }))).accuracy;
    const swappedAccuracy = (await evaluate(model, shortcutDataset({ count: testCount, size, bias, seed: seed + 2, swapBackgrounds: true }))).accuracy;
    options.onProgress?.(`explaining the ${name} model`);
    const explainer = await Explainer.create(rt, model, { inputRange: [0, 1] });
    const pixels = size * size;
    let saliencyMass = 0;
    let smoothMass = 0;
    let saliencyTop = 0;
    let smoothTop = 0;
    const saliencyMaps: Attribution[] = [];
    const smoothGradMaps: Attribution[] = [];
    let backgroundArea = 0;
    for (let n = 0; n < examples.labels.length; n++) {
      const image = { data: examples.images.subarray(n * pixels * 3, (n + 1) * pixels * 3), shape: [size, size, 3] };
      const mask = examples.figureMask.subarray(n * pixels, (n + 1) * pixels);
      const target = examples.labels[n];
      options.onProgress?.(`explaining the ${name} model (${n + 1}/${examples.labels.length})`);
      saliencyMaps.push(await explainer.saliency(image, { target }));
      smoothGradMaps.push(await explainer.smoothGrad(image, { target, samples: options.samples ?? 16, seed: n }));
      const saliency = saliencyMaps[n].values;
      const smooth = smoothGradMaps[n].values;
      saliencyMass += backgroundMass(saliency, mask, 3);
      smoothMass += backgroundMass(smooth, mask, 3);
      saliencyTop += topBackgroundShare(saliency, mask, 3);
      smoothTop += topBackgroundShare(smooth, mask, 3);
      backgroundArea += 1 - mask.reduce((a, b) => a + b, 0) / pixels;
    }
    const count = examples.labels.length;
    return {
      bias: trainBias, trainAccuracy: history[history.length - 1].accuracy, testAccuracy, swappedAccuracy,
      saliencyBackgroundMass: saliencyMass / count, smoothGradBackgroundMass: smoothMass / count,
      saliencyTopBackground: saliencyTop / count, smoothGradTopBackground: smoothTop / count, saliencyMaps, smoothGradMaps, backgroundArea: backgroundArea / count, model,
    };
  };
  const shortcut = await run('shortcut', bias);
  const balanced = await run('balanced', 0.5);
  return { shortcut, balanced, examples };
}
