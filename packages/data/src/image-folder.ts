/**
 * Image folders (Node): `DIR/CLASS/*.jpg|jpeg|png`, one folder per class (torchvision's
 * ImageFolder layout), and train/val splits `DIR/train/CLASS/*`, `DIR/val/CLASS/*` (the
 * ImageNet layout). Images are decoded with sharp (an optional peer, see sharp.ts) in a pool of
 * worker threads; the crop geometry (random-resized-crop for training, resize + centre crop for
 * evaluation) is computed here, deterministically from the seed (src/crop.ts).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { IMAGENET_MEAN, IMAGENET_STD } from './augment.js';
import {
  type CropBox,
  centerCropPlan,
  type RandomResizedCropOptions,
  randomResizedCropBox,
} from './crop.js';
import { DecodePool, type DecodeTask } from './decode-pool.js';
import { mixSeed, seededRandom } from './random.js';
import { loadSharp } from './sharp.js';
import { assertIndices, type DataSplits, type ImageSource, type ReadOptions } from './source.js';

/** File extensions read as images (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.jpg', '.jpeg', '.png']);

/** Options of {@link imageFolderSource} and {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** Side of the square images read (default 224; e.g. 32 for small tests). */
  size?: number;
  /** 3 for RGB (default) or 1 for greyscale. */
  channels?: 1 | 3;
  /** Decode worker threads (default: cores - 1, at least 1). Ignored when `pool` is given. */
  workers?: number;
  /** A pool to share between sources (the train and val sources of one data set share one). */
  pool?: DecodePool;
  /** Eval reads resize the shorter side to round(size * resizeRatio) (default 256/224). */
  resizeRatio?: number;
  /** Train-time random-resized-crop ranges (default scale [0.08, 1], ratio [3/4, 4/3]). */
  crop?: RandomResizedCropOptions;
  /** Train-time horizontal flip with probability 1/2 (default true). */
  flip?: boolean;
  /** The class folders expected (a val split must have the train split's classes). */
  classNames?: readonly string[];
}

/** An image-folder source: an ImageSource with its files and labels. */
export interface ImageFolderSource extends ImageSource {
  readonly dir: string;
  /** Class folder names, sorted; label i is classNames[i]. */
  classNames: string[];
  /** Image paths, class by class, sorted within a class. */
  readonly files: readonly string[];
  /** Label of each file. */
  readonly labels: Int32Array;
  close(): Promise<void>;
}

const LAYOUT =
  'an image folder holds one sub-folder per class with .jpg/.jpeg/.png images ' +
  '(imagefolder:DIR expects DIR/train/CLASS/* and DIR/val/CLASS/*)';

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isImage(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Image files under `dir`, recursively, sorted (hidden entries skipped). */
async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => byCodePoint(a.name, b.name));
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listImages(path)));
    else if ((entry.isFile() || entry.isSymbolicLink()) && isImage(entry.name)) files.push(path);
  }
  return files;
}

/** Sorted class folder names of `dir`. */
async function listClasses(dir: string): Promise<string[]> {
  if (!(await isDirectory(dir))) {
    throw new CsqError(
      'CSQ_DATA_MISSING_DIR',
      `image folder ${dir} does not exist or is not a directory; ${LAYOUT}.`,
    );
  }
  const entries = await readdir(dir, { withFileTypes: true });
  const classes = entries
    .filter((e) => !e.name.startsWith('.') && e.isDirectory())
    .map((e) => e.name)
    .sort(byCodePoint);
  if (classes.length === 0) {
    throw new CsqError('CSQ_DATA_EMPTY', `image folder ${dir} has no class folders; ${LAYOUT}.`);
  }
  return classes;
}

function compareClassSets(dir: string, found: string[], expected: readonly string[]): void {
  const have = new Set(found);
  const want = new Set(expected);
  const missing = expected.filter((c) => !have.has(c));
  const extra = found.filter((c) => !want.has(c));
  if (missing.length > 0 || extra.length > 0) {
    const list = (xs: string[]) =>
      xs.slice(0, 10).join(', ') + (xs.length > 10 ? `, ... (${xs.length} in all)` : '');
    throw new CsqError(
      'CSQ_DATA_CLASS_MISMATCH',
      `the class folders of ${dir} differ from the training classes` +
        (missing.length > 0 ? `; missing: ${list(missing)}` : '') +
        (extra.length > 0 ? `; not in training: ${list(extra)}` : '') +
        '. Train and val need the same class folders.',
    );
  }
}

function checkOptions(opts: ImageFolderOptions): { size: number; channels: 1 | 3 } {
  const size = opts.size ?? 224;
  const channels = opts.channels ?? 3;
  if (!Number.isInteger(size) || size < 1) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `image size must be a positive integer, got ${String(size)}; use 224 for ImageNet.`,
    );
  }
  if (channels !== 1 && channels !== 3) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `image channels must be 1 or 3, got ${String(channels)}.`,
    );
  }
  return { size, channels };
}

/**
 * An ImageSource over an image folder `dir` (`dir/CLASS/*.jpg|jpeg|png`). Class names are the
 * sorted folder names. `read(indices, { train: true, seed })` takes a random-resized crop
 * (torchvision's, scale 0.08..1, ratio 3/4..4/3) and a random flip per example, seeded with
 * (seed, example index), resized to size x size; other reads resize the shorter side to
 * round(size * 256/224) and take the centre square. Decoding runs in worker threads; call
 * `close()` when done (idle workers never keep the process alive).
 */
export async function imageFolderSource(
  dir: string,
  opts: ImageFolderOptions = {},
): Promise<ImageFolderSource> {
  const { size, channels } = checkOptions(opts);
  await loadSharp(); // an optional peer: a missing one is reported now, not at the first read
  const resizeRatio = opts.resizeRatio ?? 256 / 224;
  centerCropPlan(size, size, size, resizeRatio); // validates size and ratio early
  const flip = opts.flip ?? true;
  const classNames = await listClasses(dir);
  if (opts.classNames) compareClassSets(dir, classNames, opts.classNames);
  const files: string[] = [];
  const labelList: number[] = [];
  for (let c = 0; c < classNames.length; c++) {
    const classDir = join(dir, classNames[c]!);
    const images = await listImages(classDir);
    if (images.length === 0) {
      throw new CsqError(
        'CSQ_DATA_EMPTY',
        `class folder ${classDir} has no .jpg, .jpeg or .png images; add images or remove ` +
          `the folder.`,
      );
    }
    for (const f of images) {
      files.push(f);
      labelList.push(c);
    }
  }
  const labels = Int32Array.from(labelList);
  const count = files.length;
  const pool = (opts.pool ?? new DecodePool(opts.workers)).acquire();
  // image sizes (width, height) and alpha flags, learnt on first read from the file header
  const dims = new Int32Array(2 * count);
  const alpha = new Uint8Array(count);
  const imageSize = async (k: number): Promise<[number, number]> => {
    if (dims[2 * k]! > 0) return [dims[2 * k]!, dims[2 * k + 1]!];
    const file = files[k]!;
    let width: number | undefined;
    let height: number | undefined;
    let hasAlpha: boolean | undefined;
    try {
      const sharp = await loadSharp();
      ({ width, height, hasAlpha } = await sharp(file).metadata());
    } catch (err) {
      if (err instanceof CsqError) throw err;
      throw new CsqError(
        'CSQ_DATA_CORRUPT_IMAGE',
        `cannot read image ${file}: ${(err as Error).message}; remove or replace the file.`,
      );
    }
    if (!width || !height) {
      throw new CsqError(
        'CSQ_DATA_CORRUPT_IMAGE',
        `cannot read the size of image ${file}; remove or replace the file.`,
      );
    }
    alpha[k] = hasAlpha ? 1 : 0;
    dims[2 * k] = width;
    dims[2 * k + 1] = height;
    return [width, height];
  };
  const stride = size * size * channels;
  let closed = false;

  const source: ImageFolderSource = {
    dir,
    classNames,
    files,
    labels,
    count,
    height: size,
    width: size,
    channels,
    numClasses: classNames.length,
    async read(indices: ArrayLike<number>, readOpts: ReadOptions = {}) {
      if (closed) {
        throw new CsqError('CSQ_DATA_CLOSED', `the image source ${dir} was closed.`);
      }
      assertIndices(indices, count, `image folder ${dir}`);
      const n = indices.length;
      const images = new Uint8Array(n * stride);
      const out = new Int32Array(n);
      const train = readOpts.train ?? false;
      const seed = readOpts.seed ?? 0;
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const k = indices[i]!;
        out[i] = labels[k]!;
        jobs.push(
          (async () => {
            const [w, h] = await imageSize(k);
            const task: DecodeTask = {
              file: files[k]!,
              size,
              channels,
              flip: false,
              alpha: alpha[k] === 1,
            };
            if (train) {
              const random = seededRandom(mixSeed(seed, k));
              task.crop = randomResizedCropBox(w, h, random, opts.crop) as CropBox;
              task.flip = flip && random() < 0.5;
            } else {
              const plan = centerCropPlan(w, h, size, resizeRatio);
              task.resize = { width: plan.resizeWidth, height: plan.resizeHeight };
              task.after = plan.box;
            }
            images.set(await pool.decode(task), i * stride);
          })(),
        );
      }
      const results = await Promise.allSettled(jobs);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return { images, labels: out };
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.release();
    },
  };
  return source;
}

/** Options of {@link loadImageFolder}: those of the sources, plus normalisation constants. */
export interface ImageFolderSplitOptions extends Omit<ImageFolderOptions, 'classNames'> {
  /** Per-channel mean of x/255 (default: ImageNet's). */
  mean?: number[];
  /** Per-channel std of x/255 (default: ImageNet's). */
  std?: number[];
}

/**
 * Train and val image folders `dir/train/CLASS/*` and `dir/val/CLASS/*` as DataSplits (test =
 * val), sharing one decode pool; val must have exactly the training classes. Normalisation
 * defaults to the ImageNet constants.
 */
export async function loadImageFolder(
  dir: string,
  opts: ImageFolderSplitOptions = {},
): Promise<DataSplits> {
  const trainDir = join(dir, 'train');
  const valDir = join(dir, 'val');
  for (const sub of [trainDir, valDir]) {
    if (!(await isDirectory(sub))) {
      throw new CsqError(
        'CSQ_DATA_MISSING_DIR',
        `${sub} does not exist or is not a directory; ${LAYOUT}.`,
      );
    }
  }
  const pool = opts.pool ?? new DecodePool(opts.workers);
  pool.acquire(); // held while the sources open, so a failure below can release it
  try {
    const train = await imageFolderSource(trainDir, { ...opts, pool });
    let test: ImageFolderSource;
    try {
      test = await imageFolderSource(valDir, { ...opts, pool, classNames: train.classNames });
    } catch (err) {
      await train.close();
      throw err;
    }
    const channels = train.channels;
    const grey = (xs: readonly number[]) => [xs.reduce((a, b) => a + b, 0) / xs.length];
    return {
      name: `imagefolder:${dir}`,
      train,
      test,
      mean: opts.mean ?? (channels === 1 ? grey(IMAGENET_MEAN) : IMAGENET_MEAN.slice()),
      std: opts.std ?? (channels === 1 ? grey(IMAGENET_STD) : IMAGENET_STD.slice()),
    };
  } finally {
    await pool.release();
  }
}
