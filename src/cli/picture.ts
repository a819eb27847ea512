/**
 * The overlay PNG of one explained picture, for `explain --image` and every picture of a dataset
 * run: the map over the photo and a legend (method, class and its score, the colour bar in
 * attribution units, how values became colours, Integrated Gradients' completeness).
 */
import { absPercentile, normalizeByPercentile, reduceChannels, type AdaptiveAttribution, type Attribution, type OcclusionAttribution, type RgbaImage } from '../index.js';
import { isSigned, type Method, type MethodRequest } from './explain-batch.js';
import { formatValue, overlay, withLegend } from './overlay.js';

const METHOD_NAMES: Record<Method, string> = {
  saliency: 'Saliency', smoothgrad: 'SmoothGrad', ig: 'Integrated Gradients', gradientshap: 'GradientSHAP', deeplift: 'DeepLIFT', gradcam: 'Grad-CAM', occlusion: 'Occlusion',
  'guided-backprop': 'Guided backprop', layercam: 'LayerCAM', scorecam: 'Score-CAM', rise: 'RISE', lime: 'LIME', kernelshap: 'KernelSHAP',
};

/** How the map's values became colours, in words, for the legend. */
function scaleRule(method: Method, score: string, result: Attribution): string {
  const clip = 'clipped at the 99th percentile of |value| (the bar\'s end)';
  switch (method) {
    case 'saliency': return `colour: |d ${score} / d pixel|, max over channels, ${clip}`;
    case 'smoothgrad': return `colour: |mean d ${score} / d pixel| over noisy copies, max over channels, ${clip}`;
    case 'ig':
    case 'gradientshap':
    case 'deeplift': return `colour: attribution summed over channels (red: raises the ${score}, blue: lowers it), ${clip}`;
    case 'gradcam': return `colour: Grad-CAM of layer ${(result as { layer?: string }).layer ?? '?'} (ReLU, upsampled), ${clip}`;
    case 'occlusion': {
      const { window, stride } = result as OcclusionAttribution;
      return `colour: drop of the ${score} when a ${window.join('x')} window (stride ${stride.join('x')}) covers the pixel (red: it falls, blue: it rises), ${clip}`;
    }
    case 'guided-backprop': return `colour: |guided d ${score} / d pixel| (ReLUs pass positive gradients only), max over channels, ${clip}`;
    case 'layercam':
    case 'scorecam': return `colour: ${METHOD_NAMES[method]} of layer ${(result as { layer?: string }).layer ?? '?'} (upsampled), ${clip}`;
    case 'rise': return `colour: mean ${score} over random masks that keep the pixel, ${clip}`;
    case 'lime':
    case 'kernelshap': return `colour: ${method === 'lime' ? 'surrogate weight' : 'Shapley value'} of the pixel's superpixel (red: raises the ${score}, blue: lowers it), ${clip}`;
  }
}

/** IG's steps; adaptive IG's steps used, its tolerance and whether it met it. */
export function stepsText(requested: number, result: Attribution): string {
  const { steps, converged, tolerance } = result as Partial<AdaptiveAttribution>;
  if (converged === undefined) return `${requested} steps`;
  return `${steps} steps, adaptive: tolerance ${tolerance} ${converged ? 'met' : 'not met within the step limit'}`;
}

/** The model's output for the explained class, as the legend and the console line say it. */
export function predictionText(output: Float32Array, target: number, squashed: boolean): string {
  return squashed ? `p = ${output[target].toFixed(3)}` : `output ${formatValue(output[target])}`;
}

/**
 * `result` over `photo` with its legend. `output` is the model's output for the picture
 * (`squashed`: probabilities, from a softmax or sigmoid).
 */
export function explainedPicture(photo: RgbaImage, result: Attribution, request: MethodRequest, prediction: { output: Float32Array; squashed: boolean; label: string | undefined }): RgbaImage {
  const { method, score } = request;
  const [h, w, c] = result.shape;
  // gradients: magnitude per pixel; IG and occlusion: signed contributions
  const signed = isSigned(method);
  const reduced = c === 1 ? result.values : reduceChannels(result, signed ? 'sum' : 'abs-max');
  const notes: string[] = [];
  if (request.method === 'ig' && result.completenessError !== undefined && result.scores) {
    const sum = result.values.reduce((a, v) => a + v, 0);
    const { input, baseline } = result.scores;
    notes.push(`completeness: sum of attributions ${formatValue(sum)} vs ${score} f(x) - f(baseline) = ${formatValue(input)} - ${formatValue(baseline)} = ${formatValue(input - baseline)}: relative error ${result.completenessError.toExponential(1)} (${stepsText(request.steps, result)}, ${request.rule}, ${request.baseline} baseline)`);
  }
  if ((request.method === 'deeplift' || request.method === 'gradientshap') && result.completenessError !== undefined && result.scores) {
    const sum = result.values.reduce((a, v) => a + v, 0);
    const { input, baseline } = result.scores;
    // DeepLIFT adds up exactly (summation-to-delta); GradientSHAP only in expectation over its samples
    const what = request.method === 'deeplift' ? 'summation-to-delta' : 'expected completeness';
    const mean = result.method === 'deepshap' || request.method === 'gradientshap' ? 'mean ' : '';
    const setting = request.method === 'deeplift' ? `${request.baseline} reference` : `${request.samples} samples, ${request.baseline} baselines`;
    notes.push(`${what}: sum of attributions ${formatValue(sum)} vs ${score} f(x) - ${mean}f(baseline) = ${formatValue(input)} - ${formatValue(baseline)} = ${formatValue(input - baseline)}: relative error ${result.completenessError.toExponential(1)} (${setting})`);
  }
  return withLegend(overlay(photo, normalizeByPercentile(reduced, 99), h, w, signed), {
    title: `${METHOD_NAMES[method]} - class ${result.target}${prediction.label ? ` '${prediction.label}'` : ''}, ${predictionText(prediction.output, result.target, prediction.squashed)}`,
    signed,
    scale: absPercentile(reduced, 99) || 1,
    rule: scaleRule(method, score, result),
    notes,
  });
}
