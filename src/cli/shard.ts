/**
 * Which part of a dataset this process explains: `--shard i/n` (0-based), or the index and count
 * an existing scheduler puts in the environment, so that one container image serves every task:
 *
 * - Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX (0..completions-1) in every pod; the count is
 *   not in the pod's environment, so it comes from `--shards` or JOB_COMPLETIONS (set it in the
 *   manifest to spec.completions).
 * - Slurm job arrays set SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN and
 *   SLURM_ARRAY_TASK_STEP; `--array=1-8` numbers tasks from 1 and `--array=0-14:2` in steps of 2,
 *   so the shard is (ID - MIN) / STEP.
 *
 * The sorted image list is cut into n contiguous runs whose lengths differ by at most one, so the
 * shards' union is the whole list and every image is in exactly one shard.
 */
import { UsageError } from './args.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
  /** Where the shard came from, for messages: '--shard', 'Kubernetes', 'Slurm', or 'none'. */
  source: 'none' | '--shard' | 'Kubernetes' | 'Slurm';
}

export const WHOLE: Shard = { index: 0, count: 1, source: 'none' };

const isCount = (s: string) => /^\d+$/.test(s);

function checked(index: number, count: number, source: Shard['source'], what: string): Shard {
  if (!(count >= 1)) throw new UsageError(`${what}: the shard count must be at least 1, got ${count}`);
  if (!(index >= 0 && index < count)) throw new UsageError(`${what}: shard index ${index} is not in 0..${count - 1} (shards are numbered from 0)`);
  return { index, count, source };
}

/** "i/n" with 0 <= i < n. */
export function parseShard(value: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!match) throw new UsageError(`--shard must be 'i/n' with 0 <= i < n (e.g. 0/4), got '${value}'`);
  return checked(Number(match[1]), Number(match[2]), '--shard', `--shard ${value}`);
}

/** An environment variable that must hold a non-negative integer when set. */
function integerVariable(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (!isCount(value.trim())) throw new UsageError(`${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

/**
 * The shard to run: `--shard` first, then Kubernetes, then Slurm, else the whole set.
 * `shards` is the `--shards` option (the count for a Kubernetes Indexed Job).
 */
export function resolveShard(option: string | undefined, shards: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (option !== undefined) return parseShard(option);
  if (shards !== undefined && !(isCount(shards) && Number(shards) >= 1)) throw new UsageError(`--shards must be an integer >= 1, got '${shards}'`);
  const k8sIndex = integerVariable(env, 'JOB_COMPLETION_INDEX');
  if (k8sIndex !== undefined) {
    const count = shards !== undefined ? Number(shards) : integerVariable(env, 'JOB_COMPLETIONS');
    if (count === undefined) {
      throw new UsageError('JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the shard count: pass --shards N or set JOB_COMPLETIONS to the Job\'s spec.completions');
    }
    return checked(k8sIndex, count, 'Kubernetes', `JOB_COMPLETION_INDEX=${k8sIndex} with ${count} completions`);
  }
  if (shards !== undefined) throw new UsageError('--shards is the shard count of a Kubernetes Indexed Job, but JOB_COMPLETION_INDEX is not set; elsewhere use --shard i/n');
  const taskId = integerVariable(env, 'SLURM_ARRAY_TASK_ID');
  if (taskId !== undefined) {
    const count = integerVariable(env, 'SLURM_ARRAY_TASK_COUNT');
    if (count === undefined) throw new UsageError('SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (is this a Slurm job array?)');
    const min = integerVariable(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const step = integerVariable(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const what = `Slurm array task ${taskId} (min ${min}, step ${step}, count ${count})`;
    if (step < 1 || (taskId - min) % step !== 0) throw new UsageError(`${what}: the task is not on the array's grid; use a range like --array=0-${count - 1}`);
    return checked((taskId - min) / step, count, 'Slurm', `${what}: use a range like --array=0-${count - 1} or --shard`);
  }
  return WHOLE;
}

/** The shard's part of `items` (already sorted): a contiguous run, lengths differing by at most one. */
export function shardItems<T>(items: readonly T[], shard: Shard): T[] {
  const start = Math.floor((shard.index * items.length) / shard.count);
  const end = Math.floor(((shard.index + 1) * items.length) / shard.count);
  return items.slice(start, end);
}

/** "2/8", or "" for the whole set. */
export function shardLabel(shard: Shard): string {
  return shard.count === 1 ? '' : `${shard.index}/${shard.count}`;
}
