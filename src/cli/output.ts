/**
 * Output paths checked before anything is computed: a directory, a path under a file or an
 * unwritable directory fails at once with one line, not after minutes of GPU work with a stack.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './args.js';

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** Throws a UsageError unless a file can be written at `path` (its missing directories are made later). */
export async function checkWritable(path: string, flag: string): Promise<void> {
  const target = resolve(path);
  try {
    const found = await stat(target);
    if (found.isDirectory()) throw new UsageError(`--${flag} ${path} is a directory: give the path of a file to write`);
    await access(target, constants.W_OK).catch(() => {
      throw new UsageError(`--${flag} ${path} exists and is not writable`);
    });
    return;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    if (code(error) !== 'ENOENT' && code(error) !== 'ENOTDIR') throw new UsageError(`--${flag} ${path}: ${(error as Error).message}`);
  }
  // the nearest existing ancestor must be a writable directory
  for (let directory = dirname(target); ; directory = dirname(directory)) {
    let found;
    try {
      found = await stat(directory);
    } catch (error) {
      if ((code(error) === 'ENOENT' || code(error) === 'ENOTDIR') && directory !== dirname(directory)) continue;
      throw new UsageError(`--${flag} ${path}: ${(error as Error).message}`);
    }
    if (!found.isDirectory()) throw new UsageError(`--${flag} ${path} lies under ${directory}, which is a file, not a directory`);
    await access(directory, constants.W_OK).catch(() => {
      throw new UsageError(`--${flag} ${path}: the directory ${directory} is not writable`);
    });
    return;
  }
}
