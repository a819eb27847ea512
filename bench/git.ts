/** The working tree's commit and whether it has uncommitted changes to tracked files (Node only). */
import { execFileSync } from 'node:child_process';

export function gitInfoSync(cwd = process.cwd()): { commit?: string; dirty?: boolean } {
  try {
    const run = (args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit: run(['rev-parse', 'HEAD']).trim(), dirty: run(['status', '--porcelain', '--untracked-files=no']).trim().length > 0 };
  } catch {
    return {};
  }
}
