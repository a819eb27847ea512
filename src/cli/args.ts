/** Option parsing helpers: every bad value becomes one clear line for the user. */
import { XaiError } from '../errors.js';

export class UsageError extends XaiError {
  override readonly code = 'USAGE';
}

export function integerOption(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export function numberOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${value}'`);
  return n;
}

export function choiceOption<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${value}'`);
  return value as T;
}

/** "0,1" -> [0, 1] */
export function rangeOption(value: string | undefined, name: string, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  const parts = value.split(',').map(Number);
  if (parts.length !== 2 || parts.some((p) => !Number.isFinite(p)) || !(parts[1] > parts[0])) {
    throw new UsageError(`--${name} must be 'low,high' with low < high, got '${value}'`);
  }
  return [parts[0], parts[1]];
}

/** "top" or a class index. */
export function targetOption(value: string | undefined): 'top' | number {
  if (value === undefined || value === 'top') return 'top';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--target must be 'top' or a class index >= 0, got '${value}'`);
  return n;
}

/** "0-15" or "3,5,9" -> channel list. */
export function channelsOption(value: string | undefined): 'all' | number[] {
  if (value === undefined || value === 'all') return 'all';
  const channels: number[] = [];
  for (const part of value.split(',')) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range) {
      const [from, to] = [Number(range[1]), Number(range[2])];
      if (to < from) throw new UsageError(`--channels range '${part}' runs backwards`);
      for (let c = from; c <= to; c++) channels.push(c);
    } else if (/^\d+$/.test(part)) channels.push(Number(part));
    else throw new UsageError(`--channels takes 'all', ranges like 0-15 or lists like 1,4,9; got '${value}'`);
  }
  return channels;
}
