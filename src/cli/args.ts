/** Option parsing helpers: every bad value becomes one clear line for the user. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
import { XaiError } from '../index.js';

export class UsageError extends XaiError {
  override readonly code = 'USAGE';
}

/** A negative number (or a list starting with one) given as an option's value: '-1,1', '-0.5'. */
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * node:util parseArgs with the CLI's two rules: a value that starts with a negative number
 * (`--input-range -1,1`, as the help writes it) belongs to the option before it, and an option
 * given twice is an error instead of the last one silently winning.
 */
export function parseOptions<const O extends OptionsConfig>(argv: string[], options: O) {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (options[name]?.type === 'string' && i + 1 < argv.length && NEGATIVE_NUMBER.test(argv[i + 1])) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true });
  } catch (cause) {
    throw new UsageError((cause as Error).message.split('\n')[0], { cause });
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name)) {
      const hint = token.name === 'image' ? ': one run explains one image (for several, use --images)' : ': give it once';
      throw new UsageError(`--${token.name} is given more than once${hint}`);
    }
    seen.add(token.name);
  }
  return parsed.values;
}

/** "x,y,w,h" -> four integers. */
export function cropOption(value: string | undefined): [number, number, number, number] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',');
  if (parts.length !== 4 || !parts.every((p) => /^\s*\d+\s*$/.test(p))) {
    throw new UsageError(`--crop takes x,y,width,height as four whole numbers of pixels (e.g. 170,20,160,200); got '${value}'`);
  }
  return parts.map(Number) as [number, number, number, number];
}

/** "a,b,c" -> names; empty names are an error. */
export function labelsOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const labels = value.split(',').map((l) => l.trim());
  if (labels.some((l) => !l)) throw new UsageError(`--labels takes comma-separated class names with none empty; got '${value}'`);
  return labels;
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

/** "top", a class index, or a class name from the labels. */
export function targetOption(value: string | undefined, labels: readonly string[] | undefined): 'top' | number {
  if (value === undefined || value === 'top') return 'top';
  if (/^\d+$/.test(value)) return Number(value);
  const index = labels?.indexOf(value) ?? -1;
  if (index >= 0) return index;
  const known = labels ? `one of the labels (${labels.join(', ')})` : 'a class name (with --labels naming the classes)';
  throw new UsageError(`--target must be 'top', a class index >= 0 or ${known}; got '${value}'`);
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
