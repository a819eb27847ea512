/**
 * Typed errors. Each says what was wrong and what to do about it; callers can branch on the class
 * (or on `code`, which survives structured cloning across workers).
 */
export class XaiError extends Error {
  readonly code: string = 'XAI_ERROR';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No WebGPU adapter or device could be obtained. */
export class GpuUnavailableError extends XaiError {
  override readonly code = 'GPU_UNAVAILABLE';
}

/** The GPUDevice was lost (driver reset, `device.destroy()`, out of memory on some drivers). */
export class DeviceLostError extends XaiError {
  override readonly code = 'DEVICE_LOST';
}

/** WebGPU reported a validation or out-of-memory error for work this library submitted. */
export class GpuValidationError extends XaiError {
  override readonly code = 'GPU_VALIDATION';
}

/** A WGSL shader failed to compile; the message carries line, column and the source line. */
export class ShaderCompilationError extends XaiError {
  override readonly code = 'SHADER_COMPILATION';
}

/** Tensor shapes do not fit an operation. */
export class ShapeError extends XaiError {
  override readonly code = 'SHAPE';
}

/** An option or argument is out of range or of the wrong kind. */
export class OptionError extends XaiError {
  override readonly code = 'OPTION';
}

/** Work needs more memory than the device's limits allow even when split. */
export class LimitError extends XaiError {
  override readonly code = 'LIMIT';
}

/** An input image or file is unusable: unreadable, undecodable, wrong shape, NaN/Inf. */
export class InputError extends XaiError {
  override readonly code = 'INPUT';
}

/**
 * A value that must be finite is NaN or infinite: a model weight (checked once, when the Model is
 * created) or an explanation's result (an overflow inside the model). `node` and `weight` name
 * the weight at fault when there is one.
 */
export class NonFiniteError extends XaiError {
  override readonly code = 'NON_FINITE';
  readonly node: string | undefined;
  readonly weight: string | undefined;
  constructor(message: string, where: { node?: string; weight?: string } = {}, options?: ErrorOptions) {
    super(message, options);
    this.node = where.node;
    this.weight = where.weight;
  }
}
