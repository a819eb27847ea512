/**
 * Mini-batches for training, assembled on the GPU from a dataset tensor uploaded once: rows picked
 * by index, optionally flipped and shifted (shaders/batch_gather.wgsl for the rule).
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

export interface Augmentation {
  /** [B, 3] uniforms in [0, 1): flip decision, vertical and horizontal shift. */
  uniforms: Tensor;
  flip: boolean;
  /** Largest shift in pixels along each axis. */
  maxShift: number;
}

/** [B, H, W, C] from `source` [N, H, W, C] rows `indices` ([B], as float values). */
export function gatherBatch(rt: Runtime, source: Tensor, indices: Tensor, augmentation?: Augmentation): Tensor {
  if (source.shape.length !== 4) throw new ShapeError(`gatherBatch: the dataset must be [N, H, W, C], got ${formatShape(source.shape)}`);
  if (indices.shape.length !== 1) throw new ShapeError(`gatherBatch: indices must be [B], got ${formatShape(indices.shape)}`);
  const [, height, width, channels] = source.shape;
  const batch = indices.shape[0];
  const augment = augmentation?.uniforms ?? indices; // read only when flips or shifts are on
  if (augmentation && augment.size !== 3 * batch) throw new ShapeError(`gatherBatch: augmentation uniforms must be [${batch}, 3], got ${formatShape(augment.shape)}`);
  const output = rt.empty([batch, height, width, channels], 'batch');
  rt.dispatch({ shader: 'batch_gather', entry: 'gather', constants: { WORKGROUP_SIZE } }, {
    bindings: { source, indices, augment, output },
    uniforms: { batch, height, width, channels, flip_enabled: augmentation?.flip ? 1 : 0, max_shift: augmentation?.maxShift ?? 0 },
    workgroups: rt.grid(output.size, WORKGROUP_SIZE),
  });
  return output;
}
