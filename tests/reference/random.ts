/**
 * Philox4x32-10 in JavaScript, bit for bit the generator of shaders/random.wgsl, so that tests can
 * replay the GPU's noise in the float64 reference.
 */
function mulHiLo(a: number, b: number): [number, number] {
  const product = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(product >> 32n) >>> 0, Number(product & 0xffffffffn) >>> 0];
}

export function philox(counter: [number, number, number, number], key: [number, number]): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  for (let round = 0; round < 10; round++) {
    const [hi0, lo0] = mulHiLo(0xd2511f53, c0);
    const [hi1, lo1] = mulHiLo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** The four uniforms in (0, 1] of element `index` of copy `copy`. */
export function uniforms(seed: number, stream: number, copy: number, index: number): number[] {
  return philox([index, copy, stream, 0], [seed, 0x5eed]).map((bits) => ((bits >>> 8) + 1) / 16777216);
}

export function gaussian(seed: number, stream: number, copy: number, index: number): number {
  const [u1, u2] = uniforms(seed, stream, copy, index);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
