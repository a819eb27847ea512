/**
 * The benchmark in Node: `npm run bench -- [flags]` (bench/node.ts), in a clone of the repository
 * (its peers are development dependencies; the package's bin points here). Prints the table and
 * writes the JSON report.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filesFromPath } from '../src/model/loaders/files.js';
import { BENCH_HELP, BenchUsageError, defaultReportPath, parseBenchArgs } from './args.js';
import { benchNodeDevices } from './device-node.js';
import { gitInfoSync } from './git.js';
import type { ModelSource } from './models.js';
import { formatMergedTable, formatTable, type Report } from './report.js';
import { ENGINE, runBench } from './run.js';

/** Installed npm packages' files, under ./node_modules. */
export function nodeModelSource(root = process.cwd()): ModelSource {
  return {
    files: (path) => filesFromPath(join(root, 'node_modules', path)),
    readText: (path) => readFile(join(root, 'node_modules', path), 'utf8'),
  };
}

/** tfjs-backend-wasm's .wasm files: next to this script in the single-file GPU build (vite.gpu.config.ts copies them), else in node_modules. */
function tfjsWasmFiles(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'tfjs-backend-wasm-simd.wasm'))) return `${here}/`;
  return `${join(process.cwd(), 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist')}/`;
}

async function packageVersion(name: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(process.cwd(), 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export async function runBenchCli(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseBenchArgs(argv);
  } catch (error) {
    if (error instanceof BenchUsageError) {
      console.error(`webgpu-xai bench: ${error.message}\n\n${BENCH_HELP}`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  if (parsed.help) {
    console.log(BENCH_HELP);
    return;
  }
  if (parsed.tables.length) {
    const reports: Report[] = [];
    for (const path of parsed.tables) {
      try {
        reports.push(JSON.parse(await readFile(path, 'utf8')) as Report);
      } catch (error) {
        console.error(`webgpu-xai bench: cannot read report '${path}': ${(error as Error).message.split('\n')[0]}`);
        process.exitCode = 2;
        return;
      }
    }
    console.log(formatMergedTable(reports, ENGINE));
    return;
  }
  const { device, gpu, adapter } = await benchNodeDevices();
  const log = (line: string) => console.error(`[bench] ${line}`);
  log(`adapter: ${adapter}`);
  const path = parsed.out ?? defaultReportPath(adapter, parsed.options.quick, new Date().toISOString());
  const save = async (report: Report) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify(report, null, 1)}\n`);
  };
  const report = await runBench({
    info: {
      runtime: `node ${process.version}`,
      platform: `${process.platform} ${release()} ${process.arch}`,
      cpu: `${cpus()[0]?.model ?? '?'} x ${cpus().length}`,
      dawn: `webgpu (npm) ${(await packageVersion('webgpu')) ?? '?'}`,
      vulkanIcd: process.env.VK_ICD_FILENAMES,
    },
    git: gitInfoSync(),
    source: nodeModelSource(),
    device,
    platform: { gpu, tfjsWasmFiles: tfjsWasmFiles() },
    log,
    checkpoint: parsed.save ? save : undefined,
  }, parsed.options);
  console.log(formatTable(report));
  if (parsed.save) {
    await save(report);
    console.log(`\nreport: ${path}`);
  }
  device.destroy();
  if (report.rows.some((r) => r.status === 'error')) process.exitCode = 1;
}
