/**
 * `npm run bench:browser -- [flags]`: the benchmark in headless Chromium. Builds the page
 * (bench/browser/index.html) with Vite, serves it and the models' npm files from 127.0.0.1,
 * launches Debian's Chromium with the browser test's flags (tests/browser/harness.ts) plus
 * --enable-webgpu-developer-features (unquantized timestamp queries), runs `window.runBench` and
 * prints and saves the report like the Node run (file name suffix -browser).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer';
import { build } from 'vite';
import { CHROMIUM, CHROMIUM_FLAGS, closeBrowser, openPage } from '../../tests/browser/harness.js';
import { BENCH_HELP, BenchUsageError, defaultReportPath, parseBenchArgs } from '../args.js';
import { gitInfoSync } from '../git.js';
import { formatTable, type Report } from '../report.js';

const ROOT = process.cwd();
const OUT = join(ROOT, 'dist-bench', 'browser');
const PAGE = '/bench/browser/index.html';
/** The only npm files the page may fetch: the workloads' models and the TF.js wasm backend's binaries. */
const SERVED_PACKAGES = ['/node_modules/@vladmandic/human/models/', '/node_modules/nsfwjs/dist/models/', '/node_modules/@tensorflow/tfjs-backend-wasm/dist/'];
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.map': 'application/json', '.css': 'text/css', '.wasm': 'application/wasm' };

async function buildPage(): Promise<void> {
  await build({
    configFile: false,
    root: ROOT,
    base: '/',
    logLevel: 'warn',
    build: { outDir: OUT, emptyOutDir: true, target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 8192, rollupOptions: { input: join(ROOT, PAGE.slice(1)) } },
  });
}

/** A static server for the built page and the whitelisted model folders. */
async function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = SERVED_PACKAGES.some((p) => path.startsWith(p)) ? join(ROOT, normalize(path)) : join(OUT, normalize(path));
    const base = file.startsWith(join(ROOT, 'node_modules') + sep) ? join(ROOT, 'node_modules') : OUT;
    if (!file.startsWith(base + sep)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseBenchArgs(argv);
  } catch (error) {
    if (error instanceof BenchUsageError) {
      console.error(`bench:browser: ${error.message}\n\n${BENCH_HELP}`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  if (parsed.help) return void console.log(BENCH_HELP);
  if (parsed.tables.length) {
    console.error('bench:browser: --table runs nothing in the browser; use npm run bench -- --table');
    process.exitCode = 2;
    return;
  }
  if (!existsSync(CHROMIUM)) throw new Error(`bench:browser needs Debian's Chromium at ${CHROMIUM} (apt-get install chromium)`);
  console.error('[bench:browser] building the page ...');
  await buildPage();
  const { server, origin } = await serve();
  let browser: Browser | undefined;
  let profile: string | undefined;
  try {
    profile = await mkdtemp(join(tmpdir(), 'webgpu-xai-bench-'));
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: false, // the flags already say --headless=new
      args: [...CHROMIUM_FLAGS, '--enable-webgpu-developer-features', `--user-data-dir=${profile}`],
      protocolTimeout: 6 * 3600_000, // runBench is one long page.evaluate
    });
    const { page, problems } = await openPage(browser, `${origin}${PAGE}`);
    await page.waitForFunction(() => window.benchLoaded === true, { timeout: 60_000 });
    const report = (await page.evaluate((options, git) => window.runBench(options, git), parsed.options, gitInfoSync(ROOT))) as Report;
    report.environment = { ...report.environment, chromium: await browser.version(), flags: [...CHROMIUM_FLAGS, '--enable-webgpu-developer-features'] };
    console.log(formatTable(report));
    if (parsed.save) {
      const adapter = [report.device.description, report.device.device, report.device.architecture, report.device.vendor].filter(Boolean).join(' ');
      const path = resolve(ROOT, parsed.out ?? defaultReportPath(adapter, parsed.options.quick, report.date, 'browser'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `${JSON.stringify(report, null, 1)}\n`);
      console.log(`\nreport: ${path}`);
    }
    if (problems.length) console.error(`[bench:browser] page problems:\n  ${problems.join('\n  ')}`);
    if (report.rows.some((r) => r.status === 'error')) process.exitCode = 1;
  } finally {
    await closeBrowser(browser, undefined);
    if (profile) await rm(profile, { recursive: true, force: true });
    server.close();
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
