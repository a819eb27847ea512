/**
 * Column statistics and centering of a data matrix x [rows, cols] (one feature vector per row),
 * `shaders/linalg.wgsl`: the first step of PCA. No backward: PCA is an analysis of activations,
 * never differentiated through.
 */
import { ShapeError } from '../errors.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { formatShape } from './shapes.js';

const WORKGROUP_SIZE = 64;

function checkMatrix(x: Tensor, what: string): [number, number] {
  if (x.shape.length !== 2) throw new ShapeError(`${what}: expected a matrix [rows, cols] (one feature vector per row), got ${formatShape(x.shape)}`);
  return [x.shape[0], x.shape[1]];
}

/** x [rows, cols] -> [2, cols]: each column's mean, then its unbiased variance (0 for one row). */
export function columnStats(rt: Runtime, x: Tensor): Tensor {
  const [rows, cols] = checkMatrix(x, 'columnStats');
  const stats = rt.empty([2, cols], 'columnStats.output');
  rt.dispatch({ shader: 'linalg', entry: 'column_stats', constants: { WORKGROUP_SIZE } }, {
    bindings: { x, stats },
    uniforms: { rows, cols },
    workgroups: rt.grid(cols, WORKGROUP_SIZE),
  });
  return stats;
}

/** x [rows, cols] minus its column means (row 0 of `stats`, as columnStats returns them). */
export function centerColumns(rt: Runtime, x: Tensor, stats: Tensor): Tensor {
  const [rows, cols] = checkMatrix(x, 'centerColumns');
  if (stats.shape.length !== 2 || stats.shape[0] !== 2 || stats.shape[1] !== cols) {
    throw new ShapeError(`centerColumns: stats ${formatShape(stats.shape)} must be [2, ${cols}] for x ${formatShape(x.shape)}`);
  }
  const output = rt.empty([rows, cols], 'centerColumns.output');
  rt.dispatch({ shader: 'linalg', entry: 'center', constants: { WORKGROUP_SIZE } }, {
    bindings: { x, stats, output },
    uniforms: { rows, cols },
    workgroups: rt.grid(rows * cols, WORKGROUP_SIZE),
  });
  return output;
}
