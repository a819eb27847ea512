import { nhwc, refTensor, type RefTensor } from './tensor.js';

/** For every depthToSpace output element: (output index, input index), TF's DCR order. */
function* depthToSpacePairs(inputShape: number[], b: number): Generator<[number, number]> {
  const [n, h, w, c] = inputShape;
  const depth = c / (b * b);
  const outShape = [n, h * b, w * b, depth];
  for (let m = 0; m < n; m++)
    for (let y = 0; y < h * b; y++)
      for (let x = 0; x < w * b; x++)
        for (let d = 0; d < depth; d++) {
          const channel = ((y % b) * b + (x % b)) * depth + d;
          yield [nhwc(outShape, m, y, x, d), nhwc(inputShape, m, Math.floor(y / b), Math.floor(x / b), channel)];
        }
}

export function depthToSpaceRef(x: RefTensor, b: number): RefTensor {
  const [n, h, w, c] = x.shape;
  const y = refTensor([n, h * b, w * b, c / (b * b)]);
  for (const [out, from] of depthToSpacePairs(x.shape, b)) y.data[out] = x.data[from];
  return y;
}

export function depthToSpaceBackwardRef(dy: RefTensor, inputShape: number[], b: number): RefTensor {
  const dx = refTensor(inputShape);
  for (const [out, from] of depthToSpacePairs(inputShape, b)) dx.data[from] += dy.data[out];
  return dx;
}

/** y[n, h, w, (i b + j) C + c] = x[n, h b + i, w b + j, c]. */
export function spaceToDepthRef(x: RefTensor, b: number): RefTensor {
  const [n, h, w, c] = x.shape;
  const y = refTensor([n, h / b, w / b, c * b * b]);
  for (let m = 0; m < n; m++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < w; xx++)
        for (let d = 0; d < c; d++) {
          const channel = ((yy % b) * b + (xx % b)) * c + d;
          y.data[nhwc(y.shape, m, Math.floor(yy / b), Math.floor(xx / b), channel)] = x.data[nhwc(x.shape, m, yy, xx, d)];
        }
  return y;
}

/** The adjoint of spaceToDepth: each input element receives the gradient of the output it moved to. */
export function spaceToDepthBackwardRef(dy: RefTensor, inputShape: number[], b: number): RefTensor {
  const [n, h, w, c] = inputShape;
  const dx = refTensor(inputShape);
  for (let m = 0; m < n; m++)
    for (let yy = 0; yy < h; yy++)
      for (let xx = 0; xx < w; xx++)
        for (let d = 0; d < c; d++) {
          const channel = ((yy % b) * b + (xx % b)) * c + d;
          dx.data[nhwc(inputShape, m, yy, xx, d)] += dy.data[nhwc(dy.shape, m, Math.floor(yy / b), Math.floor(xx / b), channel)];
        }
  return dx;
}
