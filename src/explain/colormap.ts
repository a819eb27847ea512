/**
 * Colormaps for display on the CPU (the components do the same in a shader). Sequential maps
 * show magnitudes in [0, 1]; the diverging map shows signed values in [-1, 1] with white at 0,
 * so that the sign of an attribution is never hidden by the palette.
 */

/** Matplotlib's 'inferno' through its 5-stop piecewise-linear approximation, t in [0, 1]. */
const INFERNO: [number, number, number][] = [
  [0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164],
];
/** Blue - white - red, t in [-1, 1]. */
const DIVERGING: [number, number, number][] = [
  [33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43],
];

function interpolate(stops: [number, number, number][], t: number): [number, number, number] {
  const x = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(stops[i][c] * (1 - f) + stops[i + 1][c] * f)) as [number, number, number];
}

export function sequentialColor(t: number): [number, number, number] {
  return interpolate(INFERNO, t);
}

export function divergingColor(t: number): [number, number, number] {
  return interpolate(DIVERGING, (t + 1) / 2);
}
