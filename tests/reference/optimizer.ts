/** Float64 references of one optimizer step (formulas as in shaders/optimizer.wgsl). */

export function sgdRef(w: number[], g: number[], v: number[], lr: number, momentum: number, weightDecay: number): { w: number[]; v: number[] } {
  const velocity = v.map((vi, i) => momentum * vi + g[i] + weightDecay * w[i]);
  return { w: w.map((wi, i) => wi - lr * velocity[i]), v: velocity };
}

/** Adam (Kingma and Ba 2015, Algorithm 1, textbook form) with decoupled weight decay. */
export function adamRef(w: number[], g: number[], m: number[], v: number[], o: { lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number; step: number }): { w: number[]; m: number[]; v: number[] } {
  const m1 = m.map((mi, i) => o.beta1 * mi + (1 - o.beta1) * g[i]);
  const v1 = v.map((vi, i) => o.beta2 * vi + (1 - o.beta2) * g[i] * g[i]);
  const w1 = w.map((wi, i) => {
    const mHat = m1[i] / (1 - o.beta1 ** o.step);
    const vHat = v1[i] / (1 - o.beta2 ** o.step);
    return wi - (o.lr * mHat) / (Math.sqrt(vHat) + o.epsilon) - o.lr * o.weightDecay * wi;
  });
  return { w: w1, m: m1, v: v1 };
}
