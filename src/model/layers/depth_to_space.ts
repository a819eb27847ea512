/** DepthToSpace and SpaceToDepth (TF, NHWC, DCR order): each the other's gradient. */
import { depthToSpace, depthToSpaceShape, spaceToDepth, spaceToDepthShape } from '../../ops/depth_to_space.js';
import type { Layer, SpecOf } from '../layers.js';

export function depthToSpaceLayer(_rt: unknown, spec: SpecOf<'depthToSpace'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => depthToSpaceShape(shapes[0], spec.blockSize, `depthToSpace '${spec.name}'`),
    forward: (rt, [x]) => depthToSpace(rt, x, spec.blockSize),
    backward: (rt, _record, dy) => ({ inputs: [spaceToDepth(rt, dy, spec.blockSize)], weights: {} }),
    flops: () => 0,
  };
}

export function spaceToDepthLayer(_rt: unknown, spec: SpecOf<'spaceToDepth'>): Layer {
  return {
    spec, weights: {}, saves: { inputs: false, output: false },
    outputShape: (shapes) => spaceToDepthShape(shapes[0], spec.blockSize, `spaceToDepth '${spec.name}'`),
    forward: (rt, [x]) => spaceToDepth(rt, x, spec.blockSize),
    backward: (rt, _record, dy) => ({ inputs: [depthToSpace(rt, dy, spec.blockSize)], weights: {} }),
    flops: () => 0,
  };
}
