/**
 * The ops as a public surface ('webgpu-xai/ops'): each takes the Runtime first, records its work
 * and returns output tensors (NHWC, TensorFlow's weight layouts); backward functions return the
 * gradients a layer needs. Nothing is read back until `rt.read()`.
 */
export { activation, activationBackward, activationInputGradient, type Activation, type ActivationFunction, type BackwardRule } from './activation.js';
export { add } from './add.js';
export { avgPool, avgPoolBackward } from './avg_pool.js';
export { gatherBatch, type Augmentation } from './batch_gather.js';
export { binary, binaryBackward, broadcastShape, type BinaryGradients, type BinaryOp } from './binary.js';
export { gaussianBlur } from './blur.js';
export { centerColumns, columnStats } from './center_columns.js';
export { channelAffine, channelAffineBackward, foldBatchNorm, type BatchNormParameters, type ChannelAffineGradients } from './channel_affine.js';
export { clip, clipBackward, type ClipGradients } from './clip.js';
export { concat, concatBackward, concatShape } from './concat.js';
export {
  conv2d, conv2dBackward, conv2dBackwardFilter, conv2dBackwardInput, type Conv2dGradients, type Conv2dOptions, type InputGradientEpilogue,
} from './conv2d.js';
export { conv2dTranspose, conv2dTransposeBackward, conv2dTransposeShape, type Conv2dTransposeOptions } from './conv2d_transpose.js';
export { depthToSpace, depthToSpaceBackward, spaceToDepth, spaceToDepthBackward } from './depth_to_space.js';
export { dense, denseBackward, denseBackwardInput, denseBackwardWeights, type DenseGradients, type DenseOptions, type DenseSaved } from './dense.js';
export {
  depthwiseConv2d, depthwiseConv2dBackward, depthwiseConv2dBackwardFilter, depthwiseConv2dBackwardInput,
  type DepthwiseConv2dGradients, type DepthwiseConv2dOptions,
} from './depthwise_conv2d.js';
export { dftTwiddles, halfSpectrumWidth, irfft2d, irfft2dBackward, spectrumScale, type Irfft2dOptions } from './irfft2d.js';
export { globalAvgPool, globalAvgPoolBackward } from './global_avg_pool.js';
export { accumulateLossStats, accumulateLossSum, gaussianKlWithGradient, lossWithGradient, type LossKind, type LossResult } from './loss.js';
export { maxPool, maxPoolBackward, type PoolOptions } from './max_pool.js';
export { activationRescale, maxPoolRescale, rescaleBackward, rescaleEpsilon } from './rescale.js';
export { adamStep, sgdStep, type AdamStep, type SgdStep } from './optimizer.js';
export { pad, padBackward, type PadMode, type PadOptions } from './pad.js';
export { prelu, preluBackward, type PreluGradients } from './prelu.js';
export { addGaussianNoise, randomNormal, randomUniform, type RandomStream } from './random.js';
export { reduceAxes, reduceAxesBackward, type Reduction } from './reduce_axes.js';
export { reparameterize, reparameterizeBackward } from './reparameterize.js';
export { flatten, reshape, reshapeBackward } from './reshape.js';
export { resize, resizeBackward, type ResizeMethod, type ResizeOptions } from './resize.js';
export { roll } from './roll.js';
export type { ExplicitPadding, Padding } from './shapes.js';
export { checkSlicOptions, enforceConnectivity, slic, slicGrid, type SlicOptions } from './slic.js';
export { slice, sliceBackward, type SliceWindow } from './slice.js';
export { softmax, softmaxBackward } from './softmax.js';
export { transpose, transposeBackward } from './transpose.js';
export { colorDecorrelation, validImage, validImageBackward, type ValidImageOptions } from './valid_image.js';
