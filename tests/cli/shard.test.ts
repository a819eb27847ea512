/**
 * Shards of a sorted image list: from --shard i/n, a Kubernetes Indexed Job's environment and a
 * Slurm job array's, each cut checked to cover the list once (no GPU).
 */
import { describe, expect, it } from 'vitest';
import { parseShard, resolveShard, shardItems, WHOLE } from '../../src/cli/shard.js';

const items = Array.from({ length: 11 }, (_, i) => `img${String(i).padStart(2, '0')}`);

describe('shards', () => {
  it.each([1, 2, 3, 4, 11, 12])('%i shards of 11 images: union = the list in order, each image once, sizes differ by at most 1', (count) => {
    const parts = Array.from({ length: count }, (_, index) => shardItems(items, { index, count, source: '--shard' }));
    expect(parts.flat()).toEqual(items);
    const sizes = parts.map((p) => p.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('--shard i/n is 0-based; malformed or out-of-range values are UsageErrors', () => {
    expect(parseShard('1/2')).toEqual({ index: 1, count: 2, source: '--shard' });
    expect(() => parseShard('3/2')).toThrow(/shard index 3 is not in 0..1/);
    expect(() => parseShard('2/2')).toThrow(/shard index 2 is not in 0..1 \(shards are numbered from 0\)/);
    expect(() => parseShard('0/0')).toThrow(/shard count must be at least 1/);
    expect(() => parseShard('a/b')).toThrow(/--shard must be 'i\/n' with 0 <= i < n/);
    expect(() => parseShard('-1/2')).toThrow(/--shard must be 'i\/n'/);
    expect(() => parseShard('1')).toThrow(/--shard must be 'i\/n'/);
  });

  it('Kubernetes Indexed Job: JOB_COMPLETION_INDEX with --shards or JOB_COMPLETIONS', () => {
    expect(resolveShard(undefined, '4', { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4, source: 'Kubernetes' });
    expect(resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' })).toEqual({ index: 0, count: 2, source: 'Kubernetes' });
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0' })).toThrow(/pass --shards N or set JOB_COMPLETIONS/);
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '2', JOB_COMPLETIONS: '2' })).toThrow(/shard index 2 is not in 0..1/);
    expect(() => resolveShard(undefined, 'x', { JOB_COMPLETION_INDEX: '0' })).toThrow(/--shards must be an integer >= 1/);
    expect(() => resolveShard(undefined, '2', {})).toThrow(/--shards is the shard count of a Kubernetes Indexed Job, but JOB_COMPLETION_INDEX is not set/);
    // --shard wins over the environment
    expect(resolveShard('1/3', undefined, { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '2' })).toEqual({ index: 1, count: 3, source: '--shard' });
  });

  it('Slurm job array: (ID - MIN) / STEP of COUNT, for --array=1-4 and --array=0-6:2 too', () => {
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' })).toEqual({ index: 1, count: 2, source: 'Slurm' });
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' })).toEqual({ index: 3, count: 4, source: 'Slurm' });
    expect(resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_STEP: '2' })).toEqual({ index: 3, count: 4, source: 'Slurm' });
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '1' })).toThrow(/use a range like --array=0-2/);
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '3' })).toThrow(/SLURM_ARRAY_TASK_COUNT is not/);
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '2' })).toThrow(/SLURM_ARRAY_TASK_ID must be a non-negative integer/);
    expect(resolveShard(undefined, undefined, {})).toEqual(WHOLE);
  });
});
