/** Image lists from a folder, a glob and a list file; the errors of empty or unreadable sources (no GPU). */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { globToRegExp, listImages } from '../../src/cli/dataset.js';

describe('listImages', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'xai-dataset-'));
    await mkdir(join(root, 'data', 'cats'), { recursive: true });
    await mkdir(join(root, 'data', '.cache'), { recursive: true });
    await mkdir(join(root, 'empty'));
    for (const f of ['data/b.png', 'data/a.JPG', 'data/cats/c.jpeg', 'data/notes.txt', 'data/.cache/x.png']) await writeFile(join(root, f), '');
    await writeFile(join(root, 'list.txt'), '# two images\ndata/cats/c.jpeg\n\n  data/b.png  \n');
    await writeFile(join(root, 'bad-list.txt'), 'data/b.png\ndata/gone.png\n');
    await writeFile(join(root, 'empty-list.txt'), '# nothing\n\n');
    await mkdir(join(root, 'clash'));
    for (const f of ['clash/x.png', 'clash/x.jpg']) await writeFile(join(root, f), '');
  });

  it('a folder: images below it, sorted by key (relative path without extension), hidden and non-image files skipped', async () => {
    const images = await listImages(join(root, 'data'));
    expect(images.map((i) => i.key)).toEqual(['a', 'b', 'cats/c']);
    expect(images.map((i) => i.path)).toEqual(['data/a.JPG', 'data/b.png', 'data/cats/c.jpeg'].map((f) => join(root, f)));
  });

  it('a glob: keys relative to its fixed prefix; ** crosses folders', async () => {
    expect((await listImages(join(root, 'data/*.png'))).map((i) => i.key)).toEqual(['b']);
    expect((await listImages(join(root, 'data/*/*'))).map((i) => i.key)).toEqual(['cats/c']);
    expect((await listImages(join(root, '*/*/*.jpeg'))).map((i) => i.key)).toEqual(['data/cats/c']);
    expect((await listImages(join(root, 'data/**/*.p*g'))).map((i) => i.key)).toEqual(['b']);
    expect((await listImages(join(root, 'data/**/*.*e*g'))).map((i) => i.key)).toEqual(['cats/c']);
    expect((await listImages(join(root, 'data/**/*'))).map((i) => i.key)).toEqual(['a', 'b', 'cats/c', 'notes']);
    expect(globToRegExp('**/*.png').test('x/y/z.png')).toBe(true);
    expect(globToRegExp('**/*.png').test('z.png')).toBe(true);
    expect(globToRegExp('im?_[0-3].png').test('img_2.png')).toBe(true);
    expect(globToRegExp('im?_[!0-3].png').test('img_2.png')).toBe(false);
  });

  it('a list file: paths relative to its folder, comments and blank lines skipped', async () => {
    const images = await listImages(join(root, 'list.txt'));
    expect(images.map((i) => i.key)).toEqual(['data/b', 'data/cats/c']);
  });

  it('empty folder, glob matching nothing, unreadable or empty list, missing listed image, clashing names: InputErrors', async () => {
    await expect(listImages(join(root, 'empty'))).rejects.toThrow(/the folder holds no .png, .jpg or .jpeg files/);
    await expect(listImages(join(root, 'data/*.gif'))).rejects.toThrow(/matches no file/);
    await expect(listImages(join(root, 'nowhere/*.png'))).rejects.toThrow(/matches no file/);
    await expect(listImages(join(root, 'missing.txt'))).rejects.toThrow(/no such folder, list file or image/);
    await expect(listImages(join(root, 'empty-list.txt'))).rejects.toThrow(/the list file names no image/);
    await expect(listImages(join(root, 'bad-list.txt'))).rejects.toThrow(/1 listed image\(s\) are missing or not files: .*gone.png/);
    await expect(listImages(join(root, 'clash'))).rejects.toThrow(/would both write 'x.png'/);
    await expect(listImages(join(root, 'data'))).resolves.toHaveLength(3);
    await expect(listImages(join(root, 'empty'))).rejects.toMatchObject({ code: 'INPUT' });
  });
});
