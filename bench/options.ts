/** The benchmark's options and their defaults (no engine imports: the browser driver reads these too). */
import type { KernelPreference } from '../src/gpu/variants.js';
import type { PeerName } from './peers/peer.js';

export type WorkloadId = 'pokemon' | 'pokemon48' | 'antispoof' | 'emotion' | 'mobilenetv2' | 'handlandmark' | 'centernet' | 'iris' | 'tiny';
export const WORKLOAD_IDS: readonly WorkloadId[] = ['pokemon', 'pokemon48', 'antispoof', 'emotion', 'mobilenetv2', 'handlandmark', 'centernet', 'iris', 'tiny'];

export type MethodId = 'saliency' | 'smoothgrad' | 'ig' | 'filters' | 'occlusion';
export const METHOD_IDS: readonly MethodId[] = ['saliency', 'smoothgrad', 'ig', 'filters', 'occlusion'];

/** The engine's kernel variants (RuntimeOptions.kernels; src/gpu/variants.ts). */
export const KERNEL_CHOICES: readonly KernelPreference[] = ['auto', 'register', 'tiled'];

export interface BenchOptions {
  quick: boolean;
  workloads: WorkloadId[];
  methods: MethodId[];
  /** The peers to run (none: the engine alone). */
  peers: PeerName[];
  warmup: number;
  repeats: number;
  minRepeats: number;
  /** Per row: stop repeating (after minRepeats) once the timed runs took this long. */
  budgetMs: number;
  /** Largest relative L2 between peer and engine outputs for the peer to be timed. */
  tolerance: number;
  /** fp32 peak of the device in TFLOPS, for the %peak column. */
  peak?: number;
  /** Time with timestamp queries where the device has them (else wall time only). */
  gpuTiming: boolean;
  /** The engine's kernel variant: 'auto' lets the runtime pick from the adapter (the report says which it used). */
  kernels: KernelPreference;
  /** SmoothGrad copies and IG steps instead of the defaults (50 and 64), e.g. to match a peer's published run. */
  samples?: number;
  steps?: number;
  /** One more engine run per row with every kernel timed (Runtime.beginProfile): where the time goes. */
  profile: boolean;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  quick: false,
  workloads: ['pokemon', 'antispoof', 'emotion', 'mobilenetv2'],
  methods: [...METHOD_IDS],
  peers: ['tfjs-webgpu', 'tfjs-wasm', 'jax-webgpu'],
  warmup: 2,
  repeats: 10,
  minRepeats: 3,
  budgetMs: 20_000,
  tolerance: 1e-2,
  gpuTiming: true,
  kernels: 'auto',
  profile: false,
};

/** --quick: the tiny model, small methods, few repeats: minutes on a CPU adapter. */
export const QUICK_OPTIONS: Partial<BenchOptions> = { quick: true, workloads: ['tiny'], warmup: 1, repeats: 5, budgetMs: 5_000 };
