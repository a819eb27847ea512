/**
 * NumPy .npy files (format version 1.0): a magic string, a header dict padded so that the data
 * starts on a 64-byte boundary, then little-endian float32 values in C order.
 * https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
export function encodeNpy(values: Float32Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== values.length) throw new Error(`.npy: shape [${shape.join(', ')}] holds ${size} values, got ${values.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const preamble = 10; // magic (6) + version (2) + header length (2)
  const padded = Math.ceil((preamble + header.length + 1) / 64) * 64;
  header = header.padEnd(padded - preamble - 1, ' ') + '\n';
  const bytes = new Uint8Array(padded + values.byteLength);
  bytes.set([0x93, ...'NUMPY'].map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c)), 0);
  bytes[6] = 1;
  bytes[7] = 0;
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[preamble + i] = header.charCodeAt(i);
  const data = new Float32Array(bytes.buffer, padded, values.length);
  data.set(values); // typed arrays are little-endian on every platform WebGPU runs on
  return bytes;
}
