/** Float64 reference of the VAE reparameterization z = mu + exp(logvar / 2) * eps and its backward. */
import { refTensor, type RefTensor } from './tensor.js';

/** stats [N, 2L] = [mu, logvar] per row, eps [N, L] -> z [N, L]. */
export function reparameterizeRef(stats: RefTensor, eps: RefTensor): RefTensor {
  const [n, latent] = eps.shape;
  const z = refTensor([n, latent]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < latent; j++) {
      z.data[r * latent + j] = stats.data[r * 2 * latent + j] + Math.exp(stats.data[r * 2 * latent + latent + j] / 2) * eps.data[r * latent + j];
    }
  }
  return z;
}

/** d score / d stats from d score / d z. */
export function reparameterizeBackwardRef(stats: RefTensor, eps: RefTensor, zGrad: RefTensor): RefTensor {
  const [n, latent] = eps.shape;
  const grad = refTensor(stats.shape);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < latent; j++) {
      const i = r * latent + j;
      grad.data[r * 2 * latent + j] = zGrad.data[i];
      grad.data[r * 2 * latent + latent + j] = (zGrad.data[i] * eps.data[i] * Math.exp(stats.data[r * 2 * latent + latent + j] / 2)) / 2;
    }
  }
  return grad;
}
