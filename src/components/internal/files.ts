/**
 * Pictures the user hands over as files: a dropped folder (walked through the File and Directory
 * Entries API, since DataTransfer.files lists a folder as one empty entry) or several chosen files.
 */
import type { RgbaImage } from '../../index.js';
import { loadImage, pixelsOf } from './sources.js';

const IMAGE_NAME = /\.(png|jpe?g|gif|webp|bmp|avif)$/i;

/** A picture file and the path it had below the dropped folder ("cats/01.png"), or its name. */
export interface PictureFile {
  name: string;
  file: File;
}

const isPicture = (file: File) => file.type.startsWith('image/') || IMAGE_NAME.test(file.name);

/** Every file below a directory entry (readEntries answers in batches until it returns none). */
async function entryFiles(entry: FileSystemEntry, path: string): Promise<PictureFile[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ name: path + entry.name, file }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const found: PictureFile[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) return found;
    for (const child of batch) found.push(...(await entryFiles(child, `${path}${entry.name}/`)));
  }
}

/** The pictures of a drop (folders walked) or of a file input, sorted by path; other files are left out. */
export async function pictureFiles(source: DataTransfer | FileList): Promise<PictureFile[]> {
  let files: PictureFile[];
  if (source instanceof DataTransfer) {
    // entries must be taken before the first await: the DataTransfer empties once the drop handler returns
    const entries = Array.from(source.items, (item) => (item.kind === 'file' ? { entry: item.webkitGetAsEntry(), file: item.getAsFile() } : undefined));
    const lists = await Promise.all(entries.map((e) => (e?.entry ? entryFiles(e.entry, '') : e?.file ? [{ name: e.file.name, file: e.file }] : [])));
    files = lists.flat();
  } else {
    files = Array.from(source, (file) => ({ name: file.webkitRelativePath || file.name, file }));
  }
  return files.filter((f) => isPicture(f.file)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A file's RGBA pixels, decoded by the browser. */
export async function filePixels(file: Blob, signal: AbortSignal): Promise<RgbaImage> {
  const url = URL.createObjectURL(file);
  try {
    return pixelsOf(await loadImage(url, signal));
  } finally {
    URL.revokeObjectURL(url);
  }
}
