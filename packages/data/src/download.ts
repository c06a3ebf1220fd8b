/**
 * Downloads MNIST and CIFAR-10 from their usual public locations (Node), for users with a
 * network. Every file is streamed to a temporary name, its md5 checked against the published
 * checksum, and only then renamed to its final name: a failed or corrupt download never leaves
 * a file under the final name. Files already present with the right checksum are skipped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import {
  CIFAR10_RECORD_BYTES,
  CIFAR10_SUBDIR,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
} from './cifar10.js';
import { IDX_FILES } from './idx.js';
import { extractTar } from './tar.js';

/** Where MNIST is fetched from by default (a public mirror of the original files). */
export const MNIST_BASE_URL = 'https://ossci-datasets.s3.amazonaws.com/mnist/';
/** Where CIFAR-10 is fetched from by default (the authors' page). */
export const CIFAR10_BASE_URL = 'https://www.cs.toronto.edu/~kriz/';
/** The CIFAR-10 binary archive's file name. */
export const CIFAR10_ARCHIVE = 'cifar-10-binary.tar.gz';

/** Published md5 checksums of the files fetched, by file name. */
export const DATASET_MD5: Readonly<Record<string, string>> = Object.freeze({
  'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
  'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
  't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
  't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
  [CIFAR10_ARCHIVE]: 'c32a1d4ab5d03f1284b67883e8d87530',
});

/** A fetch function (the global `fetch` by default). */
export type FetchLike = (url: string) => Promise<Response>;

/** Progress of one file. */
export interface DownloadProgress {
  file: string;
  receivedBytes: number;
  /** From Content-Length, when the server sends it. */
  totalBytes?: number;
}

/** Options of {@link download}. */
export interface DownloadOptions {
  dataset: 'mnist' | 'cifar10';
  /** Destination folder (created if missing); then load it with idx:DIR or cifar10:DIR. */
  dir: string;
  /** Base URL the file names are appended to (default: the usual public location). */
  baseUrl?: string;
  /** fetch implementation (default: the global fetch). */
  fetchImpl?: FetchLike;
  /** md5 by file name, replacing the published ones (for mirrors that repackage, and tests). */
  checksums?: Record<string, string>;
  /** Called as bytes arrive. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Keep cifar-10-binary.tar.gz after extracting it (default false). */
  keepArchive?: boolean;
}

/** What {@link download} did. */
export interface DownloadResult {
  dataset: 'mnist' | 'cifar10';
  /** The folder to load (`idx:DIR` / `cifar10:DIR`). */
  dir: string;
  /** Files fetched in this call. */
  downloaded: string[];
  /** Files already present and valid. */
  skipped: string[];
}

/** md5 of a file, hex. */
export async function md5File(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function validFile(file: string, md5: string): Promise<boolean> {
  return existsSync(file) && (await md5File(file)) === md5;
}

function joinUrl(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

/**
 * Fetches `url` into `dest` through a temporary file; checks the md5 before renaming. Throws a
 * CsqError (and leaves nothing behind) on network errors, HTTP errors and checksum mismatches.
 */
export async function fetchVerified(
  url: string,
  dest: string,
  md5: string,
  opts: { fetchImpl?: FetchLike; onProgress?: (p: DownloadProgress) => void } = {},
): Promise<void> {
  const fetchImpl = opts.fetchImpl ?? (globalThis.fetch as FetchLike | undefined);
  if (!fetchImpl) {
    throw new CsqError(
      'CSQ_DOWNLOAD_FAILED',
      'no fetch function: use Node.js 20 or later, or pass fetchImpl.',
    );
  }
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (err) {
    throw new CsqError(
      'CSQ_DOWNLOAD_FAILED',
      `cannot download ${url}: ${(err as Error).message}; check the network connection (or ` +
        `pass another baseUrl), or put the files in place by hand.`,
    );
  }
  if (!response.ok || !response.body) {
    throw new CsqError(
      'CSQ_DOWNLOAD_HTTP',
      `downloading ${url} failed: HTTP ${response.status} ${response.statusText}`.trim() +
        '; the file is not at that address: check baseUrl, or put the files in place by hand.',
    );
  }
  const name = dest.split(/[\\/]/).pop()!;
  const total = Number(response.headers.get('content-length')) || undefined;
  const tmp = `${dest}.part-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hash = createHash('md5');
  let received = 0;
  let renamed = false;
  const fh = await open(tmp, 'w');
  try {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        await fh.write(value);
        received += value.length;
        opts.onProgress?.({ file: name, receivedBytes: received, totalBytes: total });
      }
    } catch (err) {
      throw new CsqError(
        'CSQ_DOWNLOAD_FAILED',
        `downloading ${url} broke off after ${received} bytes: ${(err as Error).message}; ` +
          `try again.`,
      );
    }
    await fh.close();
    const digest = hash.digest('hex');
    if (digest !== md5.toLowerCase()) {
      throw new CsqError(
        'CSQ_DOWNLOAD_CHECKSUM',
        `${url}: md5 ${digest} of the ${received} bytes received does not match the ` +
          `published ${md5}; the download is corrupt or the server sent another file. ` +
          `Nothing was saved; try again or use another baseUrl.`,
      );
    }
    await rename(tmp, dest);
    renamed = true;
  } finally {
    if (!renamed) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files (`NAME.part-PID...`) that a download or an extraction killed
 * mid-way (kill -9, power loss) left in `dir`, when process PID is gone; returns their names.
 */
export async function removeStaleParts(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /\.part-(\d+)(?:-[0-9a-f]+)*$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}

function expectedMd5(name: string, checksums?: Record<string, string>): string {
  const md5 = checksums?.[name] ?? DATASET_MD5[name];
  if (!md5) throw new Error(`no checksum for ${name}`);
  return md5;
}

async function downloadMnist(opts: DownloadOptions): Promise<DownloadResult> {
  const base = opts.baseUrl ?? MNIST_BASE_URL;
  const result: DownloadResult = { dataset: 'mnist', dir: opts.dir, downloaded: [], skipped: [] };
  for (const stem of Object.values(IDX_FILES)) {
    const name = `${stem}.gz`;
    const dest = join(opts.dir, name);
    const md5 = expectedMd5(name, opts.checksums);
    if (await validFile(dest, md5)) {
      result.skipped.push(name);
      continue;
    }
    await fetchVerified(joinUrl(base, name), dest, md5, opts);
    result.downloaded.push(name);
  }
  return result;
}

/** More than the CIFAR-10 binary archive holds (about 185 MB): anything bigger is refused. */
const CIFAR10_MAX_BYTES = 1024 ** 3;

const CIFAR_FILES = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
const MARKER = '.csq-archive-md5';

function cifarComplete(sub: string): boolean {
  return CIFAR_FILES.every((f) => {
    const path = join(sub, f);
    if (!existsSync(path)) return false;
    const size = statSync(path).size;
    return size > 0 && size % CIFAR10_RECORD_BYTES === 0;
  });
}

async function downloadCifar10(opts: DownloadOptions): Promise<DownloadResult> {
  const base = opts.baseUrl ?? CIFAR10_BASE_URL;
  const sub = join(opts.dir, CIFAR10_SUBDIR);
  const result: DownloadResult = { dataset: 'cifar10', dir: sub, downloaded: [], skipped: [] };
  const md5 = expectedMd5(CIFAR10_ARCHIVE, opts.checksums);
  const marker = join(sub, MARKER);
  // extracted earlier from an archive with this checksum, and still complete
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === md5 && cifarComplete(sub)) {
    result.skipped.push(CIFAR10_ARCHIVE);
    return result;
  }
  const archive = join(opts.dir, CIFAR10_ARCHIVE);
  if (await validFile(archive, md5)) result.skipped.push(CIFAR10_ARCHIVE);
  else {
    await fetchVerified(joinUrl(base, CIFAR10_ARCHIVE), archive, md5, opts);
    result.downloaded.push(CIFAR10_ARCHIVE);
  }
  let written: string[];
  try {
    // the tar reader gunzips (under a ratio limit); CIFAR-10 holds about 185 MB of files
    written = await extractTar(createReadStream(archive), opts.dir, archive, {
      maxBytes: CIFAR10_MAX_BYTES,
    });
  } catch (err) {
    if (err instanceof CsqError) throw err;
    throw new CsqError(
      'CSQ_DATA_CORRUPT_ARCHIVE',
      `cannot extract ${archive}: ${(err as Error).message}; delete it and download it again.`,
    );
  }
  const missing = CIFAR_FILES.filter((f) => !existsSync(join(sub, f)));
  if (missing.length > 0) {
    throw new CsqError(
      'CSQ_DATA_CORRUPT_ARCHIVE',
      `${archive} did not contain ${missing.map((f) => `${CIFAR10_SUBDIR}/${f}`).join(', ')} ` +
        `(it held ${written.join(', ') || 'no files'}); it is not the CIFAR-10 binary archive.`,
    );
  }
  const tmp = `${marker}.part-${process.pid}`;
  await writeFile(tmp, `${md5}\n`);
  await rename(tmp, marker);
  if (!opts.keepArchive) await rm(archive, { force: true });
  return result;
}

/**
 * Downloads a data set into `dir` with checksum verification: MNIST's four IDX .gz files (load
 * with `idx:DIR`), or CIFAR-10's binary archive, extracted to `DIR/cifar-10-batches-bin` (load
 * with `cifar10:DIR`). Valid files already there are not fetched again.
 */
export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  if (opts.dataset !== 'mnist' && opts.dataset !== 'cifar10') {
    throw new CsqError(
      'CSQ_DOWNLOAD_DATASET',
      `cannot download "${String(opts.dataset)}": the data sets csq downloads are mnist and ` +
        `cifar10; put other data in place by hand (idx:DIR, cifar10:DIR, imagefolder:DIR).`,
    );
  }
  if (typeof opts.dir !== 'string' || opts.dir === '') {
    throw new CsqError('CSQ_DOWNLOAD_DIR', 'download needs a destination folder (dir).');
  }
  await mkdir(opts.dir, { recursive: true });
  await removeStaleParts(opts.dir);
  await removeStaleParts(join(opts.dir, CIFAR10_SUBDIR));
  return opts.dataset === 'mnist' ? downloadMnist(opts) : downloadCifar10(opts);
}
