/** Float64 references of the training losses (per example) and of d(mean loss)/d logits. */
import { refTensor, type RefTensor } from './tensor.js';

/** logits [N, K], labels [N] class indices. */
export function softmaxCrossEntropyRef(logits: RefTensor, labels: ArrayLike<number>): { loss: RefTensor; grad: RefTensor } {
  const [n, k] = logits.shape;
  const loss = refTensor([n]);
  const grad = refTensor([n, k]);
  for (let r = 0; r < n; r++) {
    const row = Array.from({ length: k }, (_, j) => logits.data[r * k + j]);
    const max = Math.max(...row);
    const sum = row.reduce((s, z) => s + Math.exp(z - max), 0);
    loss.data[r] = Math.log(sum) + max - row[labels[r]];
    for (let j = 0; j < k; j++) grad.data[r * k + j] = (Math.exp(row[j] - max) / sum - (j === labels[r] ? 1 : 0)) / n;
  }
  return { loss, grad };
}

/** logits [N, K], targets [N, K] in [0, 1]: -t log s(z) - (1 - t) log(1 - s(z)), summed per row. */
export function sigmoidCrossEntropyRef(logits: RefTensor, targets: ArrayLike<number>): { loss: RefTensor; grad: RefTensor } {
  const [n, k] = logits.shape;
  const loss = refTensor([n]);
  const grad = refTensor([n, k]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const z = logits.data[r * k + j];
      const t = targets[r * k + j];
      // log s(z) = -log(1 + e^-z); log(1 - s(z)) = -z - log(1 + e^-z), written to stay finite
      const softplusNeg = Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
      loss.data[r] += t * softplusNeg + (1 - t) * (z + softplusNeg);
      grad.data[r * k + j] = (1 / (1 + Math.exp(-z)) - t) / n;
    }
  }
  return { loss, grad };
}

/** Mean loss of a batch as a function of the logits (for finite differences of the gradient). */
export function meanLoss(loss: (logits: RefTensor) => { loss: RefTensor }): (logits: RefTensor) => RefTensor {
  return (logits) => {
    const l = loss(logits).loss;
    return refTensor([1], [l.data.reduce((a, b) => a + b, 0) / l.shape[0]]);
  };
}

/** stats [N, 2L] = [mu, logvar] per row: KL(N(mu, e^logvar) || N(0, I)) per row, and d(mean KL)/d stats. */
export function gaussianKlRef(stats: RefTensor): { loss: RefTensor; grad: RefTensor } {
  const [n, columns] = stats.shape;
  const latent = columns / 2;
  const loss = refTensor([n]);
  const grad = refTensor([n, columns]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < latent; j++) {
      const mu = stats.data[r * columns + j];
      const logvar = stats.data[r * columns + latent + j];
      loss.data[r] += -0.5 * (1 + logvar - mu * mu - Math.exp(logvar));
      grad.data[r * columns + j] = mu / n;
      grad.data[r * columns + latent + j] = (0.5 * (Math.exp(logvar) - 1)) / n;
    }
  }
  return { loss, grad };
}
