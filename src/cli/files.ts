/**
 * Output files that survive a crash: each is written under a temporary name and renamed into
 * place (rename is atomic within a file system), so a file that exists is complete. The out dir
 * is checked before any model is loaded, so a typo costs no GPU time.
 */
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { XaiError } from '../index.js';

/** An output folder or file cannot be created or written. */
export class OutputError extends XaiError {
  override readonly code = 'OUTPUT';
}

/** A name no other process picks: pods of one Job often all run as pid 1 on one shared volume. */
const unique = () => `${process.pid}-${randomBytes(6).toString('hex')}`;

export async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${unique()}`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** Creates `dir` if needed and proves that a file can be written in it (access() ignores read-only mounts and ACLs). */
export async function ensureWritableDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = join(dir, `.webgpu-xai-probe-${unique()}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (cause) {
    throw new OutputError(`--out-dir ${dir} is not a writable folder (${(cause as Error).message}); choose another --out-dir`, { cause });
  }
}
