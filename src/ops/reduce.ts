/** Sums over every axis but the last: the gradient of a per-channel bias or scale. */
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';

const WORKGROUP_SIZE = 64;
const SPEC = { shader: 'reduce', entry: 'column_sum', constants: { WORKGROUP_SIZE } };
/** Rows one invocation sums in the first pass of a tall reduction. */
const CHUNK_ROWS = 256;

function columnSum(rt: Runtime, input: Tensor, rows: number, columns: number, chunkRows: number): Tensor {
  const output = rt.empty([Math.ceil(rows / chunkRows), columns], 'column_sum');
  rt.dispatch(SPEC, { bindings: { input, output }, uniforms: { rows, columns, chunk_rows: chunkRows }, workgroups: rt.grid(output.size, WORKGROUP_SIZE) });
  return output;
}

/** [..., C] -> [C]: sum over all leading axes. */
export function sumToChannels(rt: Runtime, x: Tensor): Tensor {
  const columns = x.shape[x.shape.length - 1];
  const rows = x.size / columns;
  if (rows <= CHUNK_ROWS) {
    const sum = columnSum(rt, x, rows, columns, rows);
    return sum.reshapeMove([columns]);
  }
  const partial = columnSum(rt, x, rows, columns, CHUNK_ROWS);
  const total = columnSum(rt, partial, partial.shape[0], columns, partial.shape[0]);
  partial.dispose();
  return total.reshapeMove([columns]);
}
