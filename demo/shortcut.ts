/**
 * The shortcut study page: trains the small CNN on background-biased and on balanced pictures
 * (src/train/shortcut_study.ts), then shows accuracy with normal and swapped backgrounds and the
 * saliency maps of both models side by side. State for tests: <body data-demo="running|done|error|cancelled">.
 */
import '../src/components/index.js';
import type { XaiHeatmap } from '../src/components/index.js';
import { AbortedError, Runtime, requestBrowserDevice, type RgbaImage } from '../src/index.js';
import { shortcutStudy, type ShortcutStudyReport, type StudyModelReport } from '../src/train/shortcut_study.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const percent = (v: number) => `${(100 * v).toFixed(1)}%`;

function setState(state: string): void {
  document.body.dataset.demo = state;
}

/** One [size, size, 3] picture in [0, 1] as RGBA bytes for the heatmap's underlay. */
function picture(report: ShortcutStudyReport, n: number): RgbaImage {
  const { size, images } = report.examples;
  const data = new Uint8ClampedArray(size * size * 4);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) data[4 * p + c] = Math.round(255 * images[(n * size * size + p) * 3 + c]);
    data[4 * p + 3] = 255;
  }
  return { width: size, height: size, data };
}

function row(name: string, r: StudyModelReport): string {
  return `<tr><th scope="row">${name}</th><td>${r.bias.toFixed(2)}</td><td>${percent(r.testAccuracy)}</td><td>${percent(r.swappedAccuracy)}</td>` +
    `<td>${r.saliencyBackgroundMass.toFixed(2)}</td><td>${r.smoothGradBackgroundMass.toFixed(2)}</td><td>${r.saliencyTopBackground.toFixed(2)}</td></tr>`;
}

function show(report: ShortcutStudyReport, device: GPUDevice): void {
  const { shortcut, balanced } = report;
  $('table').querySelector('tbody')!.innerHTML = row('Shortcut model', shortcut) + row('Balanced model', balanced);
  const learnedBackground = shortcut.testAccuracy - shortcut.swappedAccuracy > 0.2;
  $('reading').textContent = (learnedBackground
    ? `The shortcut model scores ${percent(shortcut.testAccuracy)} on new pictures like its training data, and ${percent(shortcut.swappedAccuracy)} ` +
      `when the backgrounds are swapped: it learned the background. The balanced model keeps ${percent(balanced.swappedAccuracy)}. `
    : `With these settings the shortcut model's accuracy hardly changes when the backgrounds swap (${percent(shortcut.testAccuracy)} against ${percent(shortcut.swappedAccuracy)}): ` +
      'it did not come to rely on the background, or did not learn enough to show it. Train on more pictures or for more epochs. ') +
    `Background is ${(100 * shortcut.backgroundArea).toFixed(0)}% of each picture: a map that points at the figure puts less of its mass there.`;
  const maps = $('maps');
  maps.replaceChildren();
  const count = Math.min(8, report.examples.labels.length);
  for (let n = 0; n < count; n++) {
    for (const [name, r] of [['shortcut', shortcut], ['balanced', balanced]] as const) {
      const heatmap = document.createElement('xai-heatmap') as XaiHeatmap;
      heatmap.device = device;
      heatmap.image = picture(report, n);
      heatmap.attribution = r.saliencyMaps[n];
      heatmap.label = `${name}: ${report.examples.labels[n] === 0 ? 'plus' : 'cross'}`;
      maps.append(heatmap);
    }
  }
}

async function main(): Promise<void> {
  let device: GPUDevice;
  try {
    device = await requestBrowserDevice();
  } catch (error) {
    $('adapter').textContent = `No WebGPU here: ${(error as Error).message}`;
    setState('no-webgpu');
    return;
  }
  const info = device.adapterInfo as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ');
  const software = Boolean(info.isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|software|warp/i.test(name);
  $('adapter').textContent = `Adapter: ${name || 'unknown'}${software ? ' (software: smaller settings)' : ''}`;
  const query = new URLSearchParams(location.search);
  if (software) {
    ($('train-count') as HTMLInputElement).value = '400';
    ($('epochs') as HTMLInputElement).value = '4';
  }
  for (const key of ['bias', 'train-count', 'epochs']) {
    const value = query.get(key);
    if (value !== null) ($(key) as HTMLInputElement).value = value;
  }
  const rt = new Runtime(device);
  let controller: AbortController | undefined;
  $('cancel').addEventListener('click', () => controller?.abort('cancelled on the page'));
  const run = async () => {
    controller = new AbortController();
    ($('run') as HTMLButtonElement).disabled = true;
    ($('cancel') as HTMLButtonElement).disabled = false;
    const progress = $('progress') as HTMLProgressElement;
    progress.hidden = false;
    setState('running');
    const started = performance.now();
    try {
      const report = await shortcutStudy(rt, {
        bias: Number(($('bias') as HTMLInputElement).value), trainCount: Number(($('train-count') as HTMLInputElement).value),
        epochs: Number(($('epochs') as HTMLInputElement).value), testCount: software ? 200 : 400, explainCount: software ? 8 : 24,
        samples: software ? 8 : 16, signal: controller.signal,
        onProgress: (stage, p) => {
          $('stage').textContent = p ? `${stage}: step ${p.step} of ${p.steps}, loss ${p.loss.toFixed(3)}, accuracy ${percent(p.accuracy)}, about ${Math.ceil(p.eta / 1000)} s left` : `${stage}…`;
          if (p) progress.value = p.step / p.steps;
        },
      });
      $('stage').textContent = `Done in ${((performance.now() - started) / 1000).toFixed(0)} s.`;
      $('results').hidden = false;
      show(report, device);
      console.log(`[demo] shortcut study ${Math.round(performance.now() - started)} ms`);
      setState('done');
    } catch (error) {
      const cancelled = error instanceof AbortedError;
      $('stage').textContent = cancelled ? 'Cancelled.' : `Failed: ${(error as Error).message}`;
      setState(cancelled ? 'cancelled' : 'error');
    } finally {
      progress.hidden = true;
      ($('run') as HTMLButtonElement).disabled = false;
      ($('cancel') as HTMLButtonElement).disabled = true;
    }
  };
  $('settings').addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });
  setState('idle');
  if (query.has('auto-run')) void run();
}

void main();
