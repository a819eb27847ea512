/** A one-line progress bar on stderr (only when stderr is a terminal, so logs stay clean). */
import type { Progress } from '../explain/progress.js';

export function progressBar(label: string): (progress: Progress) => void {
  const tty = process.stderr.isTTY;
  return ({ done, total, elapsed }) => {
    if (!tty) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const left = done > 0 ? ((elapsed / done) * (total - done)) / 1000 : 0;
    process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  ${left.toFixed(1)} s left `);
    if (done >= total) process.stderr.write('\n');
  };
}

/** Progress over many items (images, maps): the bar on a terminal; otherwise (logs) one line every `every` items and at the end. */
export function itemProgress(label: string, every: number, unit = 'images'): (progress: Progress) => void {
  if (process.stderr.isTTY) return progressBar(label);
  return ({ done, total, elapsed }) => {
    if (done % every !== 0 && done !== total) return;
    const rate = done / (elapsed / 1000);
    console.error(`${label}: ${done}/${total} ${unit}, ${rate.toFixed(2)} ${unit}/s, about ${((total - done) / rate).toFixed(0)} s left`);
  };
}
