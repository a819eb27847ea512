/**
 * The demo page: one WebGPU device and Runtime, one Explainer per loaded model, and the story in
 * three parts (local maps of one picture, what the network learned globally, which map is
 * faithful) told in sections that run one after another (GPU work is queued, never
 * interleaved). The state for tests and curious readers is on <body data-demo="..."> (loading,
 * running, idle, no-webgpu, error) and on each section's data-status (queued, running, done,
 * error, cancelled); every finished run also logs "[demo] <method> <ms> ms".
 */
import '../src/components/index.js';
import { methodTitle, type CompareEntry, type XaiActivations, type XaiCompare, type XaiEmbedding, type XaiExplainer, type XaiFilterGallery, type XaiHeatmap } from '../src/components/index.js';
import {
  AbortedError, Explainer, GpuUnavailableError, Runtime, cropImage, imageToInput, requestBrowserDevice,
  type Attribution, type ModelSpec, type PerturbationCurve, type Progress, type RgbaImage,
} from '../src/index.js';
import { BUNDLED, FACE_URL, pageOptions, type BundledModel, type MethodSettings, type PageOptions } from './settings.js';
import { cropToAspect, drawPixels, imageFromFile, imageFromUrl, modelFromFiles, modelFromUrl } from './sources.js';

type MethodId = 'saliency' | 'smoothgrad' | 'integrated-gradients' | 'filters' | 'classes' | 'embedding' | 'faithful';
/** The sections that run by themselves once a model and a picture are loaded. */
const METHOD_IDS: MethodId[] = ['saliency', 'smoothgrad', 'integrated-gradients', 'filters'];
/** Every section with a Run button: the class pictures, the embedding and the faithfulness view run on request. */
const SECTIONS: MethodId[] = [...METHOD_IDS, 'classes', 'embedding', 'faithful'];
const TITLES: Record<MethodId, string> = {
  saliency: 'Saliency',
  smoothgrad: 'SmoothGrad',
  'integrated-gradients': 'Integrated Gradients',
  filters: 'Filter visualization',
  classes: 'Class visualization',
  embedding: 'Layer embedding (PCA)',
  faithful: 'Deletion and insertion',
};

/** A loaded model and how to name its classes. */
interface LoadedModel {
  explainer: Explainer;
  title: string;
  labels: string[];
  /** For one sigmoid output: the name of the other outcome. */
  complement?: string;
  filterLayer?: string;
  /** Labelled held-out pictures for the embedding view. */
  sheet?: BundledModel['sheet'];
  /** A generator of its pictures, for the gallery's class images through it. */
  generator?: string;
}

interface Picture {
  pixels: RgbaImage;
  caption: string;
}

/** What the page explains: the model and the picture fed to it. */
interface Subject extends LoadedModel {
  /** The picture cropped to the model's aspect ratio, and the model input made from it. */
  pixels: RgbaImage;
  input: { data: Float32Array; shape: number[] };
}

const $ = <T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T => {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`demo: no element ${selector}`);
  return found;
};
const section = (method: MethodId) => $<HTMLElement>(`section[data-method="${method}"]`);

let rt: Runtime;
let options: PageOptions;
let model: LoadedModel | undefined;
let picture: Picture | undefined;
let subject: Subject | undefined;
/** Bumped whenever the model or picture changes: queued runs of an older subject are skipped. */
let generation = 0;
/** Counts model requests: a load that a newer one overtook is dropped. */
let modelRequests = 0;
let queue: Promise<void> = Promise.resolve();
let pending = 0;
const controllers = new Map<MethodId, AbortController>();
/** The generation whose picture and model the comparison's maps were last computed for. */
let comparedGeneration = -1;
const times = new Map<MethodId, { settings: string; milliseconds: number }>();

function setPageState(state: 'loading' | 'running' | 'idle' | 'no-webgpu' | 'error'): void {
  document.body.dataset.demo = state;
}

/** Marks the page busy (data-demo="running") while `work` runs; idle again when nothing is left. */
async function busy<T>(work: () => Promise<T>): Promise<T> {
  pending++;
  setPageState('running');
  try {
    return await work();
  } finally {
    pending--;
    if (pending === 0) setPageState('idle');
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function formatNumber(v: number): string {
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}

// ---- no WebGPU

function showNoWebGpu(reason: string): void {
  $('#no-webgpu').hidden = false;
  $('#no-webgpu-reason').textContent = reason;
  $('#app').hidden = true;
  $('#adapter').textContent = 'No WebGPU adapter.';
  setPageState('no-webgpu');
  console.warn(`[demo] no WebGPU: ${reason}`);
}

function adapterLine(device: GPUDevice): { text: string; software: boolean } {
  const info = device.adapterInfo as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' · ') || 'an adapter that gives no name';
  const software = Boolean(info.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|software|warp/i.test(name);
  return { text: `WebGPU adapter: ${name}${software ? ' (software, on the CPU: the demo uses smaller settings)' : ''}`, software };
}

// ---- model and picture

function showLoadError(error: unknown): void {
  const box = $('#load-error');
  box.hidden = false;
  box.textContent = error instanceof Error ? error.message : String(error);
  console.warn(`[demo] ${box.textContent}`);
}

function useModel(load: () => Promise<ModelSpec>, describe: Omit<LoadedModel, 'explainer'>, inputRange: [number, number]): Promise<void> {
  const request = ++modelRequests;
  return busy(async () => {
    $('#load-error').hidden = true;
    $('#prediction').textContent = `Loading ${describe.title}…`;
    cancelAll();
    generation++;
    resetStory();
    try {
      await loadModel(request, load, describe, inputRange);
    } catch (error) {
      // the model that was there stays: show it again
      if (request === modelRequests && model) await refresh();
      throw error;
    }
  });
}

async function loadModel(request: number, load: () => Promise<ModelSpec>, describe: Omit<LoadedModel, 'explainer'>, inputRange: [number, number]): Promise<void> {
  const spec = await load();
  if (request !== modelRequests) return; // a newer choice of model won
  if (!spec.labels && describe.labels.length) spec.labels = describe.labels;
  const explainer = await Explainer.create(rt, spec, { inputRange });
  const previous = model;
  model = { explainer, ...describe, labels: spec.labels ?? describe.labels };
  if (previous) {
    // runs of the previous model (the story's and the components') finish or stop before its weights go
    await queue;
    await componentsIdle();
    previous.explainer.model.dispose();
  }
  await refresh();
}

function useBundled(bundled: BundledModel): Promise<void> {
  $('#model-about').textContent = bundled.about;
  // each bundled model opens on a picture that suits it (the face, or a digit); the same one stays
  if (bundled.picture && picture?.caption !== bundled.picture.caption) {
    const { url, caption } = bundled.picture;
    imageFromUrl(url).then((pixels) => usePicture(pixels, caption), showLoadError);
  } else if (!bundled.picture && picture?.caption !== FACE_CAPTION) void loadFace();
  return useModel(() => modelFromUrl(bundled.url), { title: bundled.title, labels: bundled.labels, complement: bundled.complement, filterLayer: bundled.filterLayer, sheet: bundled.sheet, generator: bundled.generator }, bundled.inputRange);
}

function usePicture(pixels: RgbaImage, caption: string): Promise<void> {
  return busy(async () => {
    cancelAll();
    generation++;
    resetStory();
    picture = { pixels, caption };
    await refresh();
  });
}

/** Recomputes the subject after a model or picture change, shows the prediction, and runs the story. */
async function refresh(): Promise<void> {
  // busy from the caller until the story is queued, so that the page never reads idle in between
  if (model && picture) await showSubject(model, picture);
}

/** Clears every section's result and status (a new model or picture is coming). */
function resetStory(): void {
  for (const method of SECTIONS) setStatus(method, 'idle', '');
  $('#faithfulness tbody').replaceChildren();
  $<XaiEmbedding>('#embedding').embedding = undefined;
  $('#class-images').replaceChildren();
  for (const id of ['saliency-map', 'smoothgrad-before', 'smoothgrad-map', 'ig-map']) $<XaiHeatmap>(`#${id}`).attribution = undefined;
  $('.completeness').hidden = true;
}

async function showSubject(loaded: LoadedModel, picture: Picture): Promise<void> {
  const { explainer } = loaded;
  const [height, width] = explainer.model.inputShape;
  const pixels = cropToAspect(picture.pixels, width, height);
  const input = imageToInput(pixels, { shape: explainer.model.inputShape, inputRange: explainer.inputRange });
  subject = { ...loaded, pixels, input };
  drawPixels($<HTMLCanvasElement>('#picture'), pixels);
  $('#picture-caption').textContent = `${picture.caption} → ${explainer.model.inputShape.join(' × ')} input`;
  resetStory();
  for (const id of ['saliency-map', 'smoothgrad-before', 'smoothgrad-map', 'ig-map']) {
    const map = $<XaiHeatmap>(`#${id}`);
    map.image = pixels;
    map.device = rt.device;
  }
  updateComponents(subject);
  await predict(subject);
  if (options.auto) runAll();
}

async function predict(s: Subject): Promise<void> {
  const { model: m } = s.explainer;
  const out = await enqueue(() => s.explainer.activations(s.input, { layer: m.outputName }));
  const squashed = m.outputName !== m.logitsName;
  let rows: { name: string; value: number }[];
  if (out.values.length === 1 && squashed) {
    const p = out.values[0];
    rows = [{ name: s.labels[0] ?? 'positive', value: p }, { name: s.complement ?? `not ${s.labels[0] ?? 'positive'}`, value: 1 - p }];
  } else {
    rows = Array.from(out.values, (value, i) => ({ name: s.labels[i] ?? `class ${i}`, value }));
  }
  const top = rows.reduce((best, row) => (row.value > best.value ? row : best), rows[0]);
  const box = $('#prediction');
  box.replaceChildren();
  const heading = document.createElement('p');
  heading.innerHTML = `<strong></strong> says <strong class="top"></strong>`;
  heading.querySelector('strong')!.textContent = s.title;
  heading.querySelector('.top')!.textContent = squashed ? `${top.name} (${(top.value * 100).toFixed(1)}%)` : top.name;
  box.append(heading);
  const list = document.createElement('ol');
  list.className = 'bars';
  for (const row of [...rows].sort((a, b) => b.value - a.value).slice(0, 8)) {
    const item = document.createElement('li');
    const width = squashed ? Math.max(0, Math.min(1, row.value)) : 0;
    item.innerHTML = `<span class="name"></span><span class="bar"><span></span></span><span class="value"></span>`;
    item.querySelector('.name')!.textContent = row.name;
    (item.querySelector('.bar > span') as HTMLElement).style.width = `${(width * 100).toFixed(1)}%`;
    item.querySelector('.value')!.textContent = squashed ? `${(row.value * 100).toFixed(1)}%` : formatNumber(row.value);
    list.append(item);
  }
  box.append(list);
}

// ---- running the story

/** Runs `task` after everything queued before it: one explanation on the GPU at a time. */
function enqueue<T>(task: () => Promise<T>): Promise<T> {
  const result = busy(() => queue.then(task));
  queue = result.then(
    () => {},
    () => {},
  );
  return result;
}

/** Resolves once no component is running (they were told to stop; each checks every few steps). */
async function componentsIdle(): Promise<void> {
  const running = () =>
    ['#gallery', '#compare', '#explore xai-explainer'].some((selector) => (document.querySelector(selector) as { running?: boolean } | null)?.running);
  for (let waited = 0; running() && waited < 60_000; waited += 100) await new Promise((done) => setTimeout(done, 100));
}

function cancelAll(): void {
  for (const controller of controllers.values()) controller.abort('the model or picture changed');
  for (const selector of ['#compare', '#explore xai-explainer']) (document.querySelector(selector) as XaiCompare | XaiExplainer | null)?.cancel();
  $<XaiFilterGallery>('#gallery').stop();
}

function setStatus(method: MethodId, status: 'idle' | 'queued' | 'running' | 'done' | 'error' | 'cancelled', text: string): void {
  const el = section(method);
  el.dataset.status = status;
  const line = $('.status', el);
  line.textContent = text;
  line.classList.toggle('error', status === 'error');
  line.setAttribute('role', status === 'error' ? 'alert' : 'status');
  const running = status === 'running' || status === 'queued';
  for (const button of el.querySelectorAll<HTMLButtonElement>('button.run')) button.disabled = running;
  const cancel = el.querySelector<HTMLButtonElement>('button.cancel');
  if (cancel) cancel.hidden = !running;
  const bar = el.querySelector('progress');
  if (bar && !running) bar.hidden = true;
}

function showProgress(method: MethodId, p: Progress, unit: string): void {
  const el = section(method);
  const bar = el.querySelector('progress');
  if (bar) {
    bar.hidden = false;
    bar.max = p.total;
    bar.value = p.done;
  }
  const left = p.done > 0 ? ` · about ${formatMs((p.elapsed / p.done) * (p.total - p.done))} left` : '';
  $('.status', el).textContent = `${p.done} of ${p.total} ${unit} · ${formatMs(p.elapsed)}${left}`;
}

function readSettings(): MethodSettings {
  const num = (name: string, fallback: number) => {
    const value = $<HTMLInputElement>(`input[name="${name}"]`).valueAsNumber;
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  const s = options.settings;
  return {
    samples: Math.round(num('samples', s.samples)),
    noise: num('noise', s.noise),
    steps: Math.round(num('steps', s.steps)),
    baseline: $<HTMLSelectElement>('select[name="baseline"]').value as MethodSettings['baseline'],
    filters: Math.round(num('filters', s.filters)),
    vizSteps: s.vizSteps,
    curveSteps: s.curveSteps,
  };
}

function recordTime(method: MethodId, settings: string, milliseconds: number): void {
  times.set(method, { settings, milliseconds });
  console.info(`[demo] ${method} ${milliseconds.toFixed(0)} ms (${settings})`);
  const body = $('#times tbody');
  body.replaceChildren(
    ...SECTIONS.filter((m) => times.has(m)).map((m) => {
      const row = document.createElement('tr');
      row.dataset.method = m;
      const t = times.get(m)!;
      for (const text of [TITLES[m], t.settings, formatMs(t.milliseconds)]) {
        const cell = document.createElement('td');
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

/** Queues one method for the current subject; resolves when it has finished (or failed, or was skipped). */
function run(method: MethodId): Promise<void> {
  const s = subject;
  if (!s) return Promise.resolve();
  const mine = generation;
  controllers.get(method)?.abort('run again');
  const controller = new AbortController();
  controllers.set(method, controller);
  setStatus(method, 'queued', 'Waiting for the GPU…');
  return enqueue(async () => {
    if (mine !== generation || controller.signal.aborted) {
      if (mine === generation) setStatus(method, 'cancelled', 'Cancelled.');
      return;
    }
    setStatus(method, 'running', 'Running…');
    try {
      const text = await runMethod(method, s, readSettings(), controller.signal);
      if (mine === generation) setStatus(method, 'done', text);
    } catch (error) {
      if (mine !== generation) return;
      if (error instanceof AbortedError || controller.signal.aborted) setStatus(method, 'cancelled', 'Cancelled.');
      else {
        setStatus(method, 'error', `Failed: ${error instanceof Error ? error.message : String(error)}`);
        console.error(`[demo] ${method} failed:`, error);
      }
    } finally {
      if (controllers.get(method) === controller) controllers.delete(method);
    }
  });
}

function runAll(): Promise<void> {
  return Promise.all(METHOD_IDS.map((m) => run(m))).then(() => {});
}

function label(s: Subject, a: Attribution): string {
  if (s.labels.length === 1 && s.complement) return s.labels[0];
  return s.labels[a.target] ?? `class ${a.target}`;
}

async function runMethod(method: MethodId, s: Subject, settings: MethodSettings, signal: AbortSignal): Promise<string> {
  const { explainer, input } = s;
  if (method === 'saliency') {
    const a = await explainer.saliency(input);
    for (const id of ['saliency-map', 'smoothgrad-before']) {
      const map = $<XaiHeatmap>(`#${id}`);
      map.attribution = a;
      map.label = `Saliency · ${label(s, a)}`;
    }
    recordTime(method, '1 gradient', a.milliseconds);
    return `Explained “${label(s, a)}” in ${formatMs(a.milliseconds)}.`;
  }
  if (method === 'smoothgrad') {
    const a = await explainer.smoothGrad(input, { samples: settings.samples, noise: settings.noise, signal, onProgress: (p) => showProgress(method, p, 'samples') });
    const map = $<XaiHeatmap>('#smoothgrad-map');
    map.attribution = a;
    map.label = `SmoothGrad · ${label(s, a)}`;
    const what = `${settings.samples} samples, σ = ${settings.noise}`;
    recordTime(method, what, a.milliseconds);
    return `${what}: ${formatMs(a.milliseconds)}.`;
  }
  if (method === 'faithful') return measureFaithfulness(s, settings, signal);
  if (method === 'embedding') return showEmbedding(s, signal);
  if (method === 'classes') return showClasses(s, settings, signal);
  if (method === 'integrated-gradients') {
    const a = await explainer.integratedGradients(input, { steps: settings.steps, baseline: settings.baseline, signal, onProgress: (p) => showProgress(method, p, 'steps') });
    const map = $<XaiHeatmap>('#ig-map');
    map.attribution = a;
    map.label = `Integrated Gradients · ${label(s, a)}`;
    showCompleteness(a, settings.steps);
    const what = `${settings.steps} steps, ${settings.baseline} baseline`;
    recordTime(method, what, a.milliseconds);
    return `${what}: ${formatMs(a.milliseconds)}.`;
  }
  // the gallery runs it, with its own layer, steps and live previews; its xai-visualized event records the time
  const gallery = $<XaiFilterGallery>('#gallery');
  gallery.channels = filterChannels(explainer, gallery.layer, settings.filters);
  const stop = () => gallery.stop();
  signal.addEventListener('abort', stop);
  try {
    const v = await gallery.run();
    return `${v.channels.length} filters × ${v.steps} steps of ${shortName(v.node)}: ${formatMs(v.milliseconds)}.`;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

function showCompleteness(a: Attribution, steps: number): void {
  const box = $('.completeness');
  if (!a.scores || a.completenessError === undefined) {
    box.hidden = true;
    return;
  }
  let sum = 0;
  for (const v of a.values) sum += v;
  box.hidden = false;
  $('[data-field="sum"]', box).textContent = formatNumber(sum);
  $('[data-field="difference"]', box).textContent = `${formatNumber(a.scores.input)} − ${formatNumber(a.scores.baseline)} = ${formatNumber(a.scores.input - a.scores.baseline)}`;
  $('[data-field="error"]', box).textContent = `${(a.completenessError * 100).toFixed(2)}% of the difference (the path integral is a ${steps}-step sum)`;
}

// ---- what each class looks like

/** Gradient ascent on each class's logit (Explainer.visualizeClass, up to 10 classes), one picture per class. */
async function showClasses(s: Subject, settings: MethodSettings, signal: AbortSignal): Promise<string> {
  const { explainer } = s;
  const count = Math.min(10, explainer.model.shapes(1).get(explainer.model.logitsName)?.at(-1) ?? 1);
  const classes = Array.from({ length: count }, (_, i) => i);
  const v = await explainer.visualizeClass({ target: classes, steps: settings.vizSteps, signal, onProgress: (p) => showProgress('classes', p, 'classes') });
  const [, height, width, channels] = v.shape;
  const figures = v.channels.map((c, i) => {
    const figure = document.createElement('figure');
    figure.className = 'filter';
    figure.dataset.class = String(c);
    const canvas = document.createElement('canvas');
    canvas.width = 128;
    canvas.height = 128;
    canvas.setAttribute('aria-label', `The picture that maximizes the logit of ${s.labels[c] ?? `class ${c}`}`);
    drawPixels(canvas, stretchedPixels(v.images.subarray(i * height * width * channels, (i + 1) * height * width * channels), width, height, channels));
    const caption = document.createElement('figcaption');
    caption.textContent = `${s.labels[c] ?? `class ${c}`} · logit ${formatNumber(v.activations.start[i])} → ${formatNumber(v.activations.final[i])}`;
    figure.append(canvas, caption);
    return figure;
  });
  $('#class-images').replaceChildren(...figures);
  const what = `${count} classes × ${v.steps} steps`;
  recordTime('classes', what, v.milliseconds);
  return `${what}: ${formatMs(v.milliseconds)}.`;
}

/** One image [H, W, C] (C 1 or 3) as RGBA, each stretched from its own minimum to its maximum. */
function stretchedPixels(values: Float32Array, width: number, height: number, channels: number): RgbaImage {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  const scale = high > low ? 255 / (high - low) : 0;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) data[p * 4 + c] = (values[p * channels + (channels === 3 ? c : 0)] - low) * scale;
    data[p * 4 + 3] = 255;
  }
  return { width, height, data };
}

// ---- a layer's view of many pictures

/**
 * The model's sheet of labelled held-out pictures (row c: class c) cut into pictures, their
 * activations at the chosen layer laid out by PCA on the GPU (Explainer.layerEmbedding), drawn by
 * <xai-embedding> coloured by class with each picture as its tooltip.
 */
async function showEmbedding(s: Subject, signal: AbortSignal): Promise<string> {
  const sheetInfo = s.sheet;
  if (!sheetInfo) throw new Error('This view needs labelled pictures the model knows: choose the handwritten-digit model above, whose held-out digits are bundled.');
  const sheet = await imageFromUrl(sheetInfo.url);
  if (signal.aborted) throw new AbortedError('Embedding cancelled');
  const { explainer } = s;
  const side = sheet.width / sheetInfo.columns;
  const rows = Math.floor(sheet.height / side);
  const pictures: RgbaImage[] = [];
  const labels: number[] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < sheetInfo.columns; column++) {
      pictures.push(cropImage(sheet, column * side, row * side, side, side));
      labels.push(row);
    }
  }
  const layer = $<HTMLSelectElement>('select[name="embedding-layer"]').value;
  const inputs = pictures.map((p) => imageToInput(p, { shape: explainer.model.inputShape, inputRange: explainer.inputRange }));
  const embedding = await explainer.layerEmbedding(inputs, { layer, method: 'pca' });
  const view = $<XaiEmbedding>('#embedding');
  Object.assign(view, { embedding, labels, labelNames: s.labels, thumbnails: pictures, label: `${shortName(layer)}: PCA of ${pictures.length} ${sheetInfo.caption}` });
  const what = `${pictures.length} pictures, ${shortName(layer)} (${embedding.featureDimension} features)`;
  recordTime('embedding', what, embedding.milliseconds.total);
  return `${what}: ${formatMs(embedding.milliseconds.total)}.`;
}

// ---- which map is faithful

/**
 * Deletion and insertion curves (Petsiuk, Das & Saenko 2018) of the maps <xai-compare> made for
 * this picture (it runs first when it has none), each curve an Explainer call; a row per map with
 * both curves as a small SVG and their AUCs (also kept in full on the row: data-deletion, data-insertion).
 */
async function measureFaithfulness(s: Subject, settings: MethodSettings, signal: AbortSignal): Promise<string> {
  const compare = $<XaiCompare>('#compare');
  if (comparedGeneration !== generation || !compare.results.some((e) => e.attribution)) {
    $('.status', section('faithful')).textContent = 'Computing the maps of the comparison first…';
    const stop = () => compare.cancel();
    signal.addEventListener('abort', stop);
    try {
      await compare.run();
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
  const maps = compare.results.filter((e) => e.attribution);
  if (!maps.length) throw new Error('The comparison made no map to measure');
  const body = $('#faithfulness tbody');
  body.replaceChildren();
  const started = performance.now();
  const total = maps.length * 2;
  let done = 0;
  const measured: { title: string; deletion: number; insertion: number }[] = [];
  for (const entry of maps) {
    const curve = async (mode: 'deletion' | 'insertion') => {
      const c = await s.explainer[mode](s.input, entry.attribution!, { steps: settings.curveSteps, signal });
      showProgress('faithful', { done: ++done, total, elapsed: performance.now() - started }, 'curves');
      return c;
    };
    const deletion = await curve('deletion');
    const insertion = await curve('insertion');
    body.append(curveRow(entry, deletion, insertion));
    measured.push({ title: methodTitle(entry.method), deletion: deletion.auc, insertion: insertion.auc });
  }
  recordTime('faithful', `${maps.length} maps × 2 curves × ${settings.curveSteps} steps`, performance.now() - started);
  const lowest = measured.reduce((a, b) => (b.deletion < a.deletion ? b : a));
  const highest = measured.reduce((a, b) => (b.insertion > a.insertion ? b : a));
  return `Lowest deletion AUC: ${lowest.title}; highest insertion AUC: ${highest.title}.`;
}

function curveRow(entry: CompareEntry, deletion: PerturbationCurve, insertion: PerturbationCurve): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.dataset.method = entry.method;
  row.dataset.deletion = String(deletion.auc);
  row.dataset.insertion = String(insertion.auc);
  const title = methodTitle(entry.method);
  const cells = [title, curvesSvg(`Deletion and insertion curves of ${title}`, deletion, insertion), deletion.auc.toFixed(3), insertion.auc.toFixed(3)];
  for (const content of cells) {
    const cell = document.createElement('td');
    cell.append(content);
    row.append(cell);
  }
  return row;
}

/** Both curves over the fraction of pixels taken (x, 0..1) and the class probability (y, 0..1). */
function curvesSvg(label: string, ...curves: PerturbationCurve[]): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 100 60');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const title = document.createElementNS(ns, 'title');
  title.textContent = `${label}: x the fraction of pixels deleted or inserted, y the probability of the class`;
  svg.append(title);
  for (const c of curves) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('class', c.mode);
    line.setAttribute('points', Array.from(c.fractions, (f, k) => `${(f * 100).toFixed(2)},${(60 - Math.max(0, Math.min(1, c.scores[k])) * 60).toFixed(2)}`).join(' '));
    svg.append(line);
  }
  return svg;
}

// ---- filter layers and the explore section

function shortName(layer: string): string {
  return layer.replace(/^StatefulPartitionedCall\/(model_\d+|sequential)\//, '');
}

/** Channels 0 .. count-1 of `layer` (as many as it has). */
function filterChannels(explainer: Explainer, layer: string | undefined, count: number): number[] {
  const channels = layer ? (explainer.model.shapes(1).get(layer)?.at(-1) ?? count) : count;
  return Array.from({ length: Math.max(1, Math.min(count, channels)) }, (_, i) => i);
}

/** Hands the subject to the components: the gallery, the feature maps, the comparison and the explorer. */
function updateComponents(s: Subject): void {
  const { explainer } = s;
  const { model: m } = explainer;
  const shapes = m.shapes(1);
  const spatial = m.order.filter((name) => name !== m.inputName && shapes.get(name)!.length === 4);
  const labels = s.labels;

  const gallery = $<XaiFilterGallery>('#gallery');
  gallery.explainer = explainer;
  gallery.layer = [options.layer, s.filterLayer].find((l) => l && spatial.includes(l)) ?? spatial[Math.floor(spatial.length / 3)];
  gallery.channels = filterChannels(explainer, gallery.layer, readSettings().filters);
  gallery.generator = s.generator;

  const maps = $<XaiActivations>('#activations');
  maps.explainer = explainer;
  maps.image = s.pixels;
  maps.layer = spatial[Math.min(spatial.length - 1, 1)];

  const compare = $<XaiCompare>('#compare');
  compare.explainer = explainer;
  compare.image = s.pixels;
  compare.labels = labels;
  compare.samples = options.settings.samples;
  compare.steps = options.settings.steps;

  const layers = $<HTMLSelectElement>('select[name="embedding-layer"]');
  const nodes = m.order.filter((name) => name !== m.inputName && name !== m.outputName);
  layers.replaceChildren(...nodes.map((name) => new Option(shortName(name), name)));
  // the layer that feeds the logits: the representation the classifier reads
  layers.value = nodes[Math.max(0, nodes.indexOf(m.logitsName) - 1)] ?? '';

  const host = $('#explore');
  let explorer = host.querySelector<XaiExplainer>('xai-explainer');
  if (!explorer) {
    explorer = document.createElement('xai-explainer');
    host.append(explorer);
  }
  explorer.explainer = explainer;
  explorer.labels = labels;
  explorer.image = s.pixels;
  explorer.samples = options.settings.samples;
  explorer.steps = options.settings.steps;
}

// ---- controls

function wireControls(): void {
  const s = options.settings;
  const set = (name: string, value: number) => ($<HTMLInputElement>(`input[name="${name}"]`).value = String(value));
  set('samples', s.samples);
  set('noise', s.noise);
  set('steps', s.steps);
  set('filters', s.filters);
  const gallery = $<XaiFilterGallery>('#gallery');
  gallery.steps = s.vizSteps;
  gallery.addEventListener('xai-visualized', (event) => {
    const v = event.detail.result;
    recordTime('filters', `${v.channels.length} filters × ${v.steps} steps`, v.milliseconds);
  });
  $<HTMLInputElement>('input[name="filters"]').addEventListener('change', () => {
    if (subject) gallery.channels = filterChannels(subject.explainer, gallery.layer, readSettings().filters);
  });
  $<HTMLSelectElement>('select[name="baseline"]').value = s.baseline;

  $<XaiCompare>('#compare').addEventListener('xai-compared', () => (comparedGeneration = generation));
  for (const method of SECTIONS) {
    const el = section(method);
    el.querySelector('button.run')?.addEventListener('click', () => void run(method));
    el.querySelector('button.cancel')?.addEventListener('click', () => controllers.get(method)?.abort('cancelled by the user'));
  }
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="model"]')) {
    radio.checked = radio.value === options.model;
    radio.addEventListener('change', () => {
      if (radio.checked) useBundled(BUNDLED[radio.value]).catch(showLoadError);
    });
  }
  const range = (): [number, number] => $<HTMLSelectElement>('#input-range').value.split(' ').map(Number) as [number, number];
  const labels = () => $<HTMLInputElement>('#labels').value.split(',').map((l) => l.trim()).filter(Boolean);
  const custom = (title: string) => {
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="model"]')) radio.checked = false;
    $('#model-about').textContent = `${title}: maps explain the predicted class.`;
    return { title, labels: labels() };
  };
  $('#model-url-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const url = $<HTMLInputElement>('#model-url').value.trim();
    if (url) useModel(() => modelFromUrl(url), custom(url), range()).catch(showLoadError);
  });
  const loadModelFiles = (files: File[]) => useModel(() => modelFromFiles(files), custom(files.find((f) => f.name.endsWith('.json'))?.name ?? 'model.json'), range()).catch(showLoadError);
  $<HTMLInputElement>('#model-files').addEventListener('change', (event) => {
    const files = [...((event.target as HTMLInputElement).files ?? [])];
    if (files.length) void loadModelFiles(files);
  });
  const loadPictureFile = (file: File) => imageFromFile(file).then((pixels) => usePicture(pixels, file.name)).catch(showLoadError);
  $<HTMLInputElement>('#image-file').addEventListener('change', (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) void loadPictureFile(file);
  });
  $('#face-button').addEventListener('click', () => void loadFace());
  const drop = $('#drop');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    const files = [...(event.dataTransfer?.files ?? [])];
    const image = files.find((f) => f.type.startsWith('image/'));
    if (files.some((f) => f.name.endsWith('.json'))) void loadModelFiles(files.filter((f) => f !== image));
    if (image) void loadPictureFile(image);
  });
}

const FACE_CAPTION = 'The astronaut Eileen Collins (NASA)';

function loadFace(): Promise<void> {
  return imageFromUrl(FACE_URL).then(
    (pixels) => usePicture(pixels, FACE_CAPTION),
    (error) => showLoadError(new Error(`${error instanceof Error ? error.message : String(error)}: run 'npm run copy-models' (needs python3-skimage), or drop a picture`)),
  );
}

// ---- start

async function start(): Promise<void> {
  setPageState('loading');
  let device: GPUDevice;
  try {
    device = await requestBrowserDevice();
  } catch (error) {
    if (error instanceof GpuUnavailableError) return showNoWebGpu(error.message);
    throw error;
  }
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') showLoadError(new Error(`The GPU device was lost (${info.message}); reload the page.`));
  });
  const adapter = adapterLine(device);
  $('#adapter').textContent = adapter.text;
  options = pageOptions(location.search, adapter.software);
  rt = new Runtime(device);
  wireControls();
  await useBundled(BUNDLED[options.model]).catch(showLoadError); // and its picture
  if (!model) setPageState('error');
}

start().catch((error) => {
  setPageState('error');
  showLoadError(error);
});
