/** Command-line flags of the benchmark, shared by `npm run bench` and `npm run bench:browser`. */
import { parseArgs } from 'node:util';
import { PEER_NAMES, type PeerName } from './peers/peer.js';
import { DEFAULT_OPTIONS, KERNEL_CHOICES, METHOD_IDS, QUICK_OPTIONS, WORKLOAD_IDS, type BenchOptions, type MethodId, type WorkloadId } from './options.js';

export const BENCH_HELP = `npm run bench -- [options]   (in a clone of the repository; npm run bench:browser -- [options] for Chromium)

Times explanation methods on the engine and on its peers (each checked against the engine first),
prints a table and writes a JSON report. See bench/README.md for how to read it.

  --quick               tiny CNN, small methods, few repeats: minutes on a CPU adapter (lavapipe)
  --models a,b          ${WORKLOAD_IDS.join(', ')} (default: ${DEFAULT_OPTIONS.workloads.join(',')}; --quick: tiny)
  --methods a,b         ${METHOD_IDS.join(', ')} (default: all)
  --peers a,b           ${PEER_NAMES.join(', ')} (default: all) | none
  --kernels K           the engine's conv2d/dense kernels: auto (default: register on software adapters,
                        tiled on hardware) | register | tiled
  --samples N           SmoothGrad copies (default 50)
  --steps N             IG steps (default 64)
  --peak TFLOPS         fp32 peak of the device, for the %peak column (e.g. 67 for an H100 SXM)
  --warmup N            untimed runs per row (default ${DEFAULT_OPTIONS.warmup}; --quick ${QUICK_OPTIONS.warmup})
  --repeats N           timed runs per row (default ${DEFAULT_OPTIONS.repeats}; --quick ${QUICK_OPTIONS.repeats})
  --min-repeats N       at least this many timed runs even past the budget (default ${DEFAULT_OPTIONS.minRepeats})
  --budget-ms MS        stop repeating a row once its timed runs took this long (default ${DEFAULT_OPTIONS.budgetMs}; --quick ${QUICK_OPTIONS.budgetMs})
  --tolerance X         largest relative L2 of a peer's output vs ours for it to be timed (default ${DEFAULT_OPTIONS.tolerance})
  --wall                wall time only (no timestamp queries)
  --profile             one more engine run per row with every kernel timed: GPU ms per kernel in the
                        JSON (rows[].kernels) and its top kernels under the table
  --out PATH            JSON report path (default bench/results/<adapter>-<quick|full>-<date>[-browser].json);
                        Node rewrites it after each row, so a run cut short keeps what it measured
  --no-save             print only
  --table a.json ...    print one table from saved reports (e.g. ours and bench/reference/pytorch_reference.py's)
                        with every row compared with webgpu-xai's; runs nothing`;

export class BenchUsageError extends Error {}

export interface ParsedBenchArgs {
  help: boolean;
  options: BenchOptions;
  out?: string;
  save: boolean;
  /** --table: reports to print together instead of running. */
  tables: string[];
}

function list<T extends string>(value: string | undefined, name: string, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new BenchUsageError(`--${name}: unknown '${item}' (use ${allowed.join(', ')})`);
  if (!items.length) throw new BenchUsageError(`--${name} is empty`);
  return items as T[];
}

function number(value: string | undefined, name: string, integer: boolean, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) throw new BenchUsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got '${value}'`);
  return n;
}

export function parseBenchArgs(argv: string[]): ParsedBenchArgs {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        quick: { type: 'boolean' }, models: { type: 'string' }, methods: { type: 'string' }, peers: { type: 'string' }, table: { type: 'boolean' }, kernels: { type: 'string' }, peak: { type: 'string' },
        warmup: { type: 'string' }, repeats: { type: 'string' }, 'min-repeats': { type: 'string' }, 'budget-ms': { type: 'string' },
        tolerance: { type: 'string' }, samples: { type: 'string' }, steps: { type: 'string' }, wall: { type: 'boolean' }, profile: { type: 'boolean' }, out: { type: 'string' }, 'no-save': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  const tables = values.table ? positionals : [];
  if (values.table && !tables.length) throw new BenchUsageError('--table needs one or more report files');
  if (!values.table && positionals.length) throw new BenchUsageError(`unexpected argument '${positionals[0]}'`);
  const options: BenchOptions = { ...DEFAULT_OPTIONS, ...(values.quick ? QUICK_OPTIONS : {}) };
  const kernels = values.kernels;
  if (kernels !== undefined && !KERNEL_CHOICES.includes(kernels as BenchOptions['kernels'])) throw new BenchUsageError(`--kernels must be ${KERNEL_CHOICES.join(', ')}, got '${kernels}'`);
  const set = <K extends keyof BenchOptions>(key: K, value: BenchOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value;
  };
  set('workloads', list<WorkloadId>(values.models, 'models', WORKLOAD_IDS));
  set('methods', list<MethodId>(values.methods, 'methods', METHOD_IDS));
  set('peers', values.peers === 'none' ? [] : list<PeerName>(values.peers, 'peers', PEER_NAMES));
  set('kernels', kernels as BenchOptions['kernels'] | undefined);
  set('peak', number(values.peak, 'peak', false, 0));
  set('warmup', number(values.warmup, 'warmup', true, 0));
  set('repeats', number(values.repeats, 'repeats', true, 1));
  set('minRepeats', number(values['min-repeats'], 'min-repeats', true, 1));
  set('budgetMs', number(values['budget-ms'], 'budget-ms', false, 0));
  set('tolerance', number(values.tolerance, 'tolerance', false, 0));
  set('samples', number(values.samples, 'samples', true, 1));
  set('steps', number(values.steps, 'steps', true, 1));
  if (values.wall) options.gpuTiming = false;
  if (values.profile) options.profile = true;
  return { help: !!values.help, options, out: values.out, save: !values['no-save'], tables };
}

/** bench/results/<adapter>-<quick|full>-<YYYY-MM-DD>[-<suffix>].json */
export function defaultReportPath(adapter: string, quick: boolean, date: string, suffix = ''): string {
  let name: string;
  if (/llvmpipe/i.test(adapter)) name = 'lavapipe';
  else if (/swiftshader/i.test(adapter)) name = 'swiftshader';
  else name = adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'adapter';
  return `bench/results/${name}-${quick ? 'quick' : 'full'}-${date.slice(0, 10)}${suffix ? `-${suffix}` : ''}.json`;
}
