/**
 * `featlab data get`: downloads a data set's files into the cache, checks each against its
 * checksum (SHA-256 of the uncompressed content, or the archive's published MD5), and only then
 * moves it into place, so a corrupt download never lands in the cache.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { x as extractTar } from 'tar';
import { type DatasetInfo, cacheFolder } from './catalog.js';
import { DataFileError } from './formats.js';

export interface DownloadOptions {
  /** Where the files are fetched from, in place of the official location (a mirror, a test server). */
  readonly baseUrl?: string;
  /** Where they are written (default: the cache folder of the data set). */
  readonly folder?: string;
  readonly onProgress?: (file: string, received: number, total: number | null) => void;
}

async function fetchBytes(url: string, file: string, onProgress?: DownloadOptions['onProgress']): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new DataFileError(file, `cannot download ${url} (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message})`);
  }
  if (!response.ok || !response.body) throw new DataFileError(file, `download of ${url} failed: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || null;
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress?.(file, received, total);
  }
  return Buffer.concat(chunks);
}

const hash = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest('hex');

export async function downloadDataset(info: DatasetInfo, options: DownloadOptions = {}): Promise<string> {
  const base = options.baseUrl ?? info.baseUrl;
  if (!base) throw new Error(`${info.name}: no known download location; put the files in ${cacheFolder(info.name)} by hand`);
  const folder = options.folder ?? cacheFolder(info.name);
  mkdirSync(folder, { recursive: true });
  const url = (remote: string) => `${base.replace(/\/?$/, '/')}${remote}`;
  if (info.archive) {
    const { remote, md5, folder: inner } = info.archive;
    const bytes = await fetchBytes(url(remote), remote, options.onProgress);
    const got = hash('md5', bytes);
    if (got !== md5) throw new DataFileError(remote, `checksum mismatch: MD5 ${got}, expected ${md5}; the download is damaged or not the official archive, nothing was written`);
    const staging = mkdtempSync(join(folder, '.staging-'));
    try {
      writeFileSync(join(staging, remote), bytes);
      const wanted = new Set([...info.train, ...info.test].map((f) => f.name));
      await extractTar({ file: join(staging, remote), cwd: staging, filter: (path) => wanted.has(path.split('/').pop() ?? '') && path.startsWith(`${inner}/`) });
      for (const f of wanted) renameSync(join(staging, inner, f), join(folder, f));
    } catch (e) {
      if (e instanceof DataFileError) throw e;
      throw new DataFileError(remote, `cannot unpack the archive (${(e as Error).message})`);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    return folder;
  }
  // Every file is fetched and checked before any is written.
  const verified: [string, Buffer][] = [];
  for (const f of [...info.train, ...info.test]) {
    const raw = await fetchBytes(url(f.remote), f.remote, options.onProgress);
    let content: Buffer;
    try {
      content = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
    } catch (e) {
      throw new DataFileError(f.remote, `a damaged gzip stream (${(e as Error).message}); nothing was written`);
    }
    const got = hash('sha256', content);
    if (f.sha256 !== null && got !== f.sha256) throw new DataFileError(f.remote, `checksum mismatch: SHA-256 ${got}, expected ${f.sha256}; the download is damaged or not the official file, nothing was written`);
    verified.push([f.name, content]);
  }
  for (const [name, content] of verified) {
    const tmp = join(folder, `.${name}.part`);
    writeFileSync(tmp, content);
    renameSync(tmp, join(folder, name));
  }
  return folder;
}

/** Reads a data file in a folder, plain or gzipped; anything but a readable regular file is named for what it is. */
export function readDataFile(folder: string, name: string): { bytes: Buffer; path: string } {
  if (lexists(folder)) {
    let isFolder = false;
    try {
      isFolder = statSync(folder).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DataFileError(folder, code === 'ELOOP' ? 'a symbolic link that loops; the data set needs a folder here' : 'a broken symbolic link; the data set needs a folder here');
    }
    if (!isFolder) throw new DataFileError(folder, 'not a folder; the data set needs a folder of its files here');
  }
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(folder, candidate);
    if (!lexists(path)) continue;
    let stat;
    try {
      stat = statSync(path);
    } catch {
      throw new DataFileError(path, 'a broken symbolic link (its target is missing)');
    }
    if (stat.isDirectory()) throw new DataFileError(path, 'is a folder, not a data file');
    // A FIFO or a device would block or never end.
    if (!stat.isFile()) throw new DataFileError(path, 'not a regular file (a pipe or a device)');
    try {
      return { bytes: readFileSync(path), path };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DataFileError(path, code === 'EACCES' ? 'permission denied' : `cannot be read (${code ?? (e as Error).message})`);
    }
  }
  throw new DataFileError(join(folder, name), 'missing');
}

/** True when a path exists as an entry, even a broken symbolic link. */
export function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
