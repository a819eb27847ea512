#!/usr/bin/env node
/**
 * After `tsc -p tsconfig.build.json`: references @webgpu/types from the entry declarations, and ships the ambient module declarations of src/types/ (e.g.
 * 'wgsl_reflect/wgsl_reflect.module.js', an untyped file of a typed package) with the package's
 * declarations. tsc emits no .d.ts for .d.ts inputs and drops `/// <reference path>`, so without
 * this a consumer compiling with skipLibCheck: false gets TS7016 from dist/types/gpu/kernel.d.ts.
 * Each emitted declaration that imports a declared module gets a reference to its copy.
 */
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'src/types');
const TYPES = join(ROOT, 'dist/types');
const TARGET = join(TYPES, 'types');

const ambient = [];
for (const name of (await readdir(SOURCE)).filter((f) => f.endsWith('.d.ts'))) {
  const text = await readFile(join(SOURCE, name), 'utf8');
  const modules = [...text.matchAll(/declare module ['"]([^'"]+)['"]/g)].map((m) => m[1]);
  ambient.push({ file: join(TARGET, name), modules });
}
await cp(SOURCE, TARGET, { recursive: true });

let patched = 0;
for (const entry of await readdir(TYPES, { recursive: true })) {
  if (!entry.endsWith('.d.ts') || entry.startsWith('types/')) continue;
  const path = join(TYPES, entry);
  const text = await readFile(path, 'utf8');
  const needed = ambient.filter((a) => a.modules.some((m) => text.includes(`'${m}'`) || text.includes(`"${m}"`)));
  if (!needed.length) continue;
  const references = needed.map((a) => `/// <reference path="${relative(dirname(path), a.file).split('\\').join('/')}" />\n`).join('');
  if (!text.startsWith(references)) {
    await writeFile(path, references + text);
    patched++;
  }
}

// The declarations name WebGPU's types (GPUDevice, ...), which TypeScript's DOM library lacks:
// each entry point references @webgpu/types (a dependency of the package), so that a consumer
// compiling with skipLibCheck: false needs nothing else, as @types/three does.
const WEBGPU_TYPES = '/// <reference types="@webgpu/types" />\n';
for (const entry of ['index.d.ts', 'node.d.ts', 'components/index.d.ts', 'ops/index.d.ts']) {
  const path = join(TYPES, entry);
  const text = await readFile(path, 'utf8');
  if (!text.startsWith(WEBGPU_TYPES)) await writeFile(path, WEBGPU_TYPES + text);
}
console.log(`finish-types: ${ambient.length} ambient declaration file(s) copied to ${relative(ROOT, TARGET)}, ${patched} declaration(s) referencing them; @webgpu/types referenced from the entry points`);
