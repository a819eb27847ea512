/**
 * A VAE's reparameterized sample (Kingma and Welling 2014, section 2.4): z = mu + exp(logvar / 2) * eps
 * from an encoder's output [N, 2L] = [mu, logvar] per row and noise eps [N, L] (e.g. `randomNormal`),
 * and its backward to the encoder's output, which is what lets the encoder learn from a sample.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;
const spec = (entry: string) => ({ shader: 'reparameterize', entry, constants: { WORKGROUP_SIZE } });

function checkShapes(stats: Tensor, eps: Tensor, what: string): { rows: number; latent: number } {
  if (stats.shape.length !== 2 || stats.shape[1] % 2 !== 0) throw new ShapeError(`${what}: the encoder's output must be [N, 2 * latent] (mu, then log-variance), got ${formatShape(stats.shape)}`);
  const [rows, columns] = stats.shape;
  const latent = columns / 2;
  if (formatShape(eps.shape) !== formatShape([rows, latent])) throw new ShapeError(`${what}: the noise must be ${formatShape([rows, latent])} for an encoder output ${formatShape(stats.shape)}, got ${formatShape(eps.shape)}`);
  return { rows, latent };
}

/** z [N, L] = mu + exp(logvar / 2) * eps. */
export function reparameterize(rt: Runtime, stats: Tensor, eps: Tensor): Tensor {
  const { rows, latent } = checkShapes(stats, eps, 'reparameterize');
  const z = rt.empty([rows, latent], 'reparameterize.z');
  rt.dispatch(spec('forward'), { bindings: { stats, eps, z }, uniforms: { rows, latent }, workgroups: rt.grid(z.size, WORKGROUP_SIZE) });
  return z;
}

/** d score / d stats [N, 2L] from d score / d z [N, L] (the same `stats` and `eps` as the forward). */
export function reparameterizeBackward(rt: Runtime, stats: Tensor, eps: Tensor, zGrad: Tensor): Tensor {
  const { rows, latent } = checkShapes(stats, eps, 'reparameterizeBackward');
  if (formatShape(zGrad.shape) !== formatShape(eps.shape)) throw new ShapeError(`reparameterizeBackward: the gradient must be ${formatShape(eps.shape)}, got ${formatShape(zGrad.shape)}`);
  const statsGrad = rt.empty(stats.shape, 'reparameterize.stats_grad');
  rt.dispatch(spec('backward'), { bindings: { stats, eps, z_grad: zGrad, stats_grad: statsGrad }, uniforms: { rows, latent }, workgroups: rt.grid(eps.size, WORKGROUP_SIZE) });
  return statsGrad;
}
