#!/usr/bin/env node
/**
 * The package as a user meets it: `npm pack` (which builds it), the tarball installed into a fresh
 * project with only the documented dependencies (lit and @lit/task for the components, TypeScript
 * for the consumer), then
 *   1. the tarball's contents: no source maps, no repository scripts, one copy of the engine, a LICENSE;
 *   2. the bin: --version, --help, one `explain` on the emotion model (from the repository's dev
 *      dependency @vladmandic/human), and an unwritable --out failing with exit 2 and no stack trace;
 *   3. the entry points from Node ESM ('.', './node', './ops' import; './components' imports or fails
 *      only for want of a DOM) and require() failing with the ESM-only message;
 *   4. a strict TypeScript consumer (skipLibCheck false) under moduleResolution bundler and node16,
 *      compiling every ```ts block of README.md and docs/*.md, and running in Node the blocks marked
 *      `<!-- smoke-test: run -->` (the project holds models/emotion.json and face.png for them).
 * Needs the npm registry (or its cache: installs prefer the cache) and a WebGPU adapter for the
 * `explain` and the runnable blocks (a software one will do). `npm run smoke:package`; CI runs it.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = join(ROOT, 'node_modules/@vladmandic/human/models');
const PHOTO = '/usr/lib/python3/dist-packages/skimage/data/astronaut.png';
const started = performance.now();
const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));

const step = (what) => console.log(`\n==> ${what} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
function fail(message) {
  console.error(`smoke-package: ${message}`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) fail(message);
}
/** Runs a command; returns { status, stdout, stderr } and fails the test on an unexpected status. */
function run(command, args, { cwd, expect = 0, timeout = 300_000 } = {}) {
  console.log(`+ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  const out = { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
  if (result.error) fail(`${command} could not run: ${result.error.message}`);
  if (out.status !== expect) fail(`${command} ${args.join(' ')} exited ${out.status} (expected ${expect})\n${out.stdout}\n${out.stderr}`);
  return out;
}
const versionOf = async (name) => JSON.parse(await readFile(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

const work = await mkdtemp(join(tmpdir(), 'webgpu-xai-smoke-'));
const app = join(work, 'app');
try {
  step('npm pack (builds the package)');
  const packOutput = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT }).stdout;
  const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[\s*\{/m))); // the build's output comes first
  const tarball = join(work, packed[0].filename);
  const files = packed[0].files.map((f) => f.path);
  console.log(`${files.length} files, ${(packed[0].size / 1024).toFixed(0)} kB packed, ${(packed[0].unpackedSize / 1024).toFixed(0)} kB unpacked`);
  check(!files.some((f) => f.endsWith('.map')), `source maps are shipped: ${files.filter((f) => f.endsWith('.map')).join(', ')}`);
  check(!files.some((f) => /check-models|dist-scripts|dist-bench/.test(f)), 'repository scripts are shipped');
  for (const needed of ['LICENSE', 'README.md', 'cjs/esm-only.cjs', 'dist-node/cli.js', 'dist/index.js', 'dist/types/index.d.ts']) check(files.includes(needed), `${needed} is not in the tarball`);
  const engineCopies = [];
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    if (/\bRuntime = class\b|\bclass Runtime\b/.test(await readFile(join(ROOT, file), 'utf8'))) engineCopies.push(file);
  }
  check(engineCopies.length === 1, `the engine (class Runtime) is bundled ${engineCopies.length} times: ${engineCopies.join(', ')}`);
  check(((await stat(join(ROOT, 'dist-node/cli.js'))).mode & 0o111) !== 0, 'the built bin dist-node/cli.js is not executable after npm run build');
  // what npm's page shows: links, and a README whose pictures load from outside the tarball
  for (const field of ['repository', 'homepage', 'bugs', 'keywords', 'license']) check(pkg[field], `package.json has no ${field}`);
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
  check(images.every((src) => /^https:\/\//.test(src) || files.includes(src)), `README images that npm cannot show: ${images.join(', ')}`);
  check(/`lit` and `@lit\/task`|lit @lit\/task/.test(readme), 'the README does not name the components\' peer dependencies');

  step('a fresh project installs the tarball with the documented dependencies');
  await mkdir(join(app, 'models'), { recursive: true });
  await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'smoke-consumer', private: true, type: 'module' }, null, 2)}\n`);
  const peers = await Promise.all(['lit', '@lit/task', 'typescript'].map(async (name) => `${name}@${await versionOf(name)}`));
  run('npm', ['install', tarball, ...peers, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app });
  for (const ext of ['json', 'bin']) await copyFile(join(MODELS, `emotion.${ext}`), join(app, 'models', `emotion.${ext}`));

  step('Node ESM: the entry points, require(), and a face for the samples');
  await writeFile(join(app, 'entries.mjs'), `
import { createRequire } from 'node:module';
import { writeFile } from 'node:fs/promises';
const core = await import('webgpu-xai');
const node = await import('webgpu-xai/node');
const ops = await import('webgpu-xai/ops');
for (const [name, value] of Object.entries({ Explainer: core.Explainer, requestNodeDevice: node.requestNodeDevice, conv2d: ops.conv2d })) {
  if (typeof value !== 'function') throw new Error(name + ' is not exported');
}
let components;
try {
  const module = await import('webgpu-xai/components');
  components = 'imported: ' + Object.keys(module).filter((k) => k.startsWith('Xai')).join(', ');
} catch (error) {
  // Lit's Node build shims HTMLElement and customElements; without it the only acceptable failure is the missing DOM
  if (!/customElements|HTMLElement|window|document/.test(String(error))) throw error;
  components = 'needs a DOM (' + String(error).split('\\n')[0] + ')';
}
try {
  createRequire(import.meta.url)('webgpu-xai');
  throw new Error('require() did not throw');
} catch (error) {
  if (!/ESM-only/.test(String(error))) throw error;
}
// the astronaut's face, cropped with the package itself, for the README's Node samples
const photo = await node.decodeImageFile(process.argv[2]);
await writeFile('face.png', node.encodePng(core.cropImage(photo, 170, 20, 160, 200)));
console.log('entries ok; components: ' + components + '; require(): ESM-only message');
`);
  console.log(run('node', ['entries.mjs', PHOTO], { cwd: app }).stdout.trim());

  step('the bin');
  const bin = join(app, 'node_modules/.bin/webgpu-xai');
  check(run(bin, ['--version'], { cwd: app }).stdout.trim() === pkg.version, `--version does not print ${pkg.version}`);
  check(/explain .*visualize/s.test(run(bin, ['--help'], { cwd: app }).stdout), '--help does not list the commands');
  const explained = run(bin, ['explain', '--model', 'models/emotion.json', '--image', 'face.png', '--input-range', '-1,1', '--labels',
    'angry,disgust,fear,happy,sad,surprise,neutral', '--method', 'saliency', '--out', 'out/map.png', '--npy', 'out/map.npy'], { cwd: app });
  console.log(explained.stdout.trim());
  check(/^saliency: class \d \(\w+\) p = /m.test(explained.stdout), 'explain printed no result line');
  check((await stat(join(app, 'out/map.png'))).size > 1000, 'explain wrote no PNG');
  const refused = run(bin, ['explain', '--model', 'models/emotion.json', '--image', 'face.png', '--out', 'out'], { cwd: app, expect: 2 });
  check(/^webgpu-xai: --out out is a directory/.test(refused.stderr) && !/\n\s+at /.test(refused.stderr), `an unwritable --out should fail with one line, got:\n${refused.stderr}`);

  step('a strict TypeScript consumer: the entry points and the documentation\'s code');
  await mkdir(join(app, 'src'));
  await writeFile(join(app, 'src/consumer.ts'), `
import { Explainer, NonFiniteError, Runtime, type Attribution, type ExplainerOptions } from 'webgpu-xai';
import { requestNodeDevice, type NodeDeviceOptions } from 'webgpu-xai/node';
import { conv2d, type Conv2dOptions } from 'webgpu-xai/ops';
import { XaiExplainer, type XaiExplainedEvent } from 'webgpu-xai/components';

export async function explain(device: GPUDevice, explainer: Explainer): Promise<Attribution> {
  const rt: Runtime = explainer.runtime;
  const options: ExplainerOptions & NodeDeviceOptions & Conv2dOptions = { strictRange: true, padding: 'same' };
  const element: XaiExplainer | null = document.querySelector('xai-explainer');
  element?.addEventListener('xai-explained', (event: XaiExplainedEvent) => console.log(event.detail.milliseconds));
  console.log(device.limits.maxBufferSize, rt.kernelVariant, options, typeof conv2d, typeof requestNodeDevice, NonFiniteError.name);
  return explainer.saliency({ data: new Float32Array(64 * 64), shape: [64, 64, 1] });
}
`);
  const runnable = [];
  for (const doc of ['README.md', ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]) {
    const text = await readFile(join(ROOT, doc), 'utf8');
    let index = 0;
    for (const match of text.matchAll(/(<!-- smoke-test: run -->\s*)?```ts\n([\s\S]*?)```/g)) {
      const name = `${doc.replace(/\W+/g, '-')}-${++index}`;
      // each block is its own module, so that blocks may reuse names
      await writeFile(join(app, 'src', `${name}.ts`), `${match[2]}\nexport {};\n`);
      if (match[1]) runnable.push(name);
    }
  }
  const compilerOptions = { strict: true, skipLibCheck: false, target: 'es2022', lib: ['es2022', 'dom'], types: [], noUnusedLocals: false };
  await writeFile(join(app, 'tsconfig.bundler.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler', noEmit: true }, include: ['src'] }));
  await writeFile(join(app, 'tsconfig.node16.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, module: 'node16', moduleResolution: 'node16', outDir: 'build' }, include: ['src'] }));
  const tsc = join(app, 'node_modules/.bin/tsc');
  run(tsc, ['-p', 'tsconfig.bundler.json'], { cwd: app });
  run(tsc, ['-p', 'tsconfig.node16.json'], { cwd: app });
  console.log(`compiled src/consumer.ts and ${(await readdir(join(app, 'src'))).length - 1} documentation blocks, bundler and node16`);

  step(`the documentation's runnable blocks in Node: ${runnable.join(', ')}`);
  for (const name of runnable) console.log(run('node', [join('build', `${name}.js`)], { cwd: app, timeout: 120_000 }).stdout.trim());
  check(runnable.length >= 2, 'the README lost its runnable samples');

  step(`package smoke test passed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
} finally {
  if (!process.env.WEBGPU_XAI_KEEP_SMOKE) await rm(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
