/** Dataset progress: a bar with the time left on a terminal, one log line per N images elsewhere (no GPU). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { itemProgress } from '../../src/cli/progress-bar.js';

const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');

afterEach(() => {
  vi.restoreAllMocks();
  if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
  else delete (process.stderr as { isTTY?: boolean }).isTTY;
});

describe('itemProgress', () => {
  it('off a terminal: a line every 2 of 5 images and at the end, with the rate and the time left', () => {
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    const progress = itemProgress('explain saliency', 2);
    for (let done = 1; done <= 5; done++) progress({ done, total: 5, elapsed: done * 500 });
    expect(lines).toEqual([
      'explain saliency: 2/5 images, 2.00 images/s, about 2 s left',
      'explain saliency: 4/5 images, 2.00 images/s, about 1 s left',
      'explain saliency: 5/5 images, 2.00 images/s, about 0 s left',
    ]);
  });

  it('on a terminal: one bar redrawn in place, with the time left', () => {
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (writes.push(String(chunk)), true));
    const progress = itemProgress('explain', 10);
    progress({ done: 1, total: 4, elapsed: 1000 });
    progress({ done: 4, total: 4, elapsed: 4000 });
    expect(writes[0]).toMatch(/^\rexplain \[#+\.+\] 1\/4 {2}3\.0 s left $/);
    expect(writes.slice(1)).toEqual([`\rexplain [${'#'.repeat(30)}] 4/4  0.0 s left `, '\n']);
  });
});
