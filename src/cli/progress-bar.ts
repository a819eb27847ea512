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
