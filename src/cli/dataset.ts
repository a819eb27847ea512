/**
 * The images of a dataset run, from `--images DIR|GLOB|LIST.txt`:
 *
 * - DIR: every .png/.jpg/.jpeg below it (recursively; hidden entries skipped),
 * - GLOB: `*` and `?` within a name, `**` across folders, `[...]` classes (Node 20 has no fs.glob),
 * - LIST.txt: one path a line, relative to the list's folder; blank lines and `# ...` skipped.
 *
 * Each image gets a key: its path relative to that root (the folder, the glob's fixed prefix, the
 * list's folder) without the extension, so `cats/01.jpg` writes `cats/01.png` and `cats/01.npy`
 * in the out dir. The list is sorted by key (code units, not locale) so that every machine cuts
 * the same shards. Problems are InputErrors raised before any model is loaded.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, sep } from 'node:path';
import { InputError } from '../index.js';

export interface DatasetImage {
  /** Path to read. */
  path: string;
  /** Output name: the path relative to the root, '/'-separated, without the extension. */
  key: string;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
const hasGlob = (s: string) => /[*?[]/.test(s);

/** Files below `dir` (relative paths) at most `depth` levels down; names starting with '.' are skipped. */
async function walk(dir: string, depth = Infinity, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = prefix ? join(prefix, entry.name) : entry.name;
    const kind = entry.isSymbolicLink() ? await stat(join(dir, rel)).catch(() => undefined) : entry;
    if (kind?.isDirectory() && depth > 1) found.push(...(await walk(dir, depth - 1, rel)));
    else if (kind?.isFile()) found.push(rel);
  }
  return found;
}

/** A glob segment list as a regular expression over '/'-separated relative paths. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*' && pattern[i + 1] === '*') {
      // '**/' matches zero or more whole folders; a trailing '**' anything below
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:[^/]+/)*' : '.*';
      i += slash ? 2 : 1;
    } else if (ch === '*') source += '[^/]*';
    else if (ch === '?') source += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) source += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = end;
      }
    } else source += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The fixed folder before the first segment with a wildcard, and the rest of the pattern. */
function splitGlob(pattern: string): { base: string; rest: string } {
  const parts = pattern.split('/');
  const first = parts.findIndex(hasGlob);
  const base = parts.slice(0, first).join('/') || (pattern.startsWith('/') ? '/' : '.');
  return { base, rest: parts.slice(first).join('/') };
}

function keyOf(root: string, path: string): string {
  const rel = relative(root, path);
  const inside = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : basename(path);
  return inside.slice(0, inside.length - extname(inside).length).split(sep).join('/');
}

async function fromDirectory(dir: string): Promise<DatasetImage[]> {
  const files = (await walk(dir)).filter(isImageName);
  if (!files.length) throw new InputError(`--images ${dir}: the folder holds no .png, .jpg or .jpeg files`);
  return files.map((rel) => ({ path: join(dir, rel), key: keyOf(dir, join(dir, rel)) }));
}

async function fromGlob(pattern: string): Promise<DatasetImage[]> {
  const { base, rest } = splitGlob(pattern.split(sep).join('/'));
  const regex = globToRegExp(rest);
  // without '**' a pattern's segments fix the depth: 'data/*/*.png' reads no deeper than two levels
  const files = await walk(base, rest.includes('**') ? Infinity : rest.split('/').length).catch(() => [] as string[]);
  const matched = files.filter((rel) => regex.test(rel.split(sep).join('/')));
  if (!matched.length) throw new InputError(`--images '${pattern}' matches no file (looked below ${base}; quote the pattern so the shell does not expand it)`);
  return matched.map((rel) => ({ path: join(base, rel), key: keyOf(base, join(base, rel)) }));
}

async function fromList(file: string): Promise<DatasetImage[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new InputError(`--images ${file}: cannot read the list file: ${(cause as Error).message}`, { cause });
  }
  const root = dirname(file);
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  if (!lines.length) throw new InputError(`--images ${file}: the list file names no image (one path a line)`);
  const images = lines.map((line) => {
    const path = isAbsolute(line) ? line : join(root, line);
    return { path, key: keyOf(root, path) };
  });
  const missing: string[] = [];
  await Promise.all(images.map(async ({ path }) => {
    if (!(await stat(path).then((s) => s.isFile(), () => false))) missing.push(path);
  }));
  if (missing.length) {
    throw new InputError(`--images ${file}: ${missing.length} listed image(s) are missing or not files: ${missing.sort().slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  }
  return images;
}

/** The images `spec` names, sorted by key; throws InputError for an empty or unreadable source. */
export async function listImages(spec: string): Promise<DatasetImage[]> {
  const info = await stat(spec).catch(() => undefined);
  let images: DatasetImage[];
  if (info?.isDirectory()) images = await fromDirectory(spec);
  else if (info?.isFile()) images = isImageName(spec) ? [{ path: spec, key: keyOf(dirname(spec), spec) }] : await fromList(spec);
  else if (hasGlob(spec)) images = await fromGlob(spec);
  else throw new InputError(`--images ${spec}: no such folder, list file or image (give a folder, a quoted glob like 'data/*.png', or a .txt list)`);
  images.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (let i = 1; i < images.length; i++) {
    if (images[i].key === images[i - 1].key) {
      throw new InputError(`--images ${spec}: ${images[i - 1].path} and ${images[i].path} would both write '${images[i].key}.png'; rename one of them`);
    }
  }
  return images;
}
