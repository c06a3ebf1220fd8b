/**
 * Builders of small data files in the exact on-disk formats (IDX, CIFAR-10 binary, image
 * folders), for the tests of the loaders, the CLI and the apps.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';

/** A fresh temporary folder, removed after the test file. */
export function tempDir(prefix = 'csq-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** IDX bytes: big-endian magic (0, 0, 0x08, ndims), big-endian dims, then the values. */
export function idxBytes(dims: number[], values: ArrayLike<number>, magic?: number): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic ?? 0x0800 + dims.length, false);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  out.set(values, header);
  return out;
}

/** Pixel p of image n of a test IDX set: distinct, easy to check. */
export function idxPixel(n: number, p: number): number {
  return (n * 31 + p * 7) % 256;
}

/** count images of rows x cols with pixels idxPixel(n, p). */
export function idxImages(count: number, rows: number, cols: number): Uint8Array {
  const values = new Uint8Array(count * rows * cols);
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < rows * cols; p++) values[n * rows * cols + p] = idxPixel(n, p);
  }
  return idxBytes([count, rows, cols], values);
}

/** Channel c of pixel p (0..1023) of CIFAR record r. */
export function cifarPixel(r: number, c: number, p: number): number {
  return (r * 13 + c * 101 + p * 3) % 256;
}

/** CIFAR-10 binary records with the given labels, pixels from cifarPixel. */
export function cifarRecords(labels: number[], firstRecord = 0): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, i) => {
    const r = firstRecord + i;
    const base = i * 3073;
    out[base] = label;
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) out[base + 1 + c * 1024 + p] = cifarPixel(r, c, p);
    }
  });
  return out;
}

/** Writes the four MNIST IDX files (plain or .gz) of a tiny data set into `dir`. */
export function writeIdxDataset(
  dir: string,
  opts: {
    train: number;
    test: number;
    rows?: number;
    cols?: number;
    classes?: number;
    gzip?: boolean;
  },
): void {
  const rows = opts.rows ?? 28;
  const cols = opts.cols ?? 28;
  const classes = opts.classes ?? 10;
  mkdirSync(dir, { recursive: true });
  const suffix = opts.gzip ? '.gz' : '';
  const put = (name: string, bytes: Uint8Array) =>
    writeFileSync(join(dir, name + suffix), opts.gzip ? gzipSync(bytes) : bytes);
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % classes);
  put('train-images-idx3-ubyte', idxImages(opts.train, rows, cols));
  put('train-labels-idx1-ubyte', idxBytes([opts.train], labels(opts.train)));
  put('t10k-images-idx3-ubyte', idxImages(opts.test, rows, cols));
  put('t10k-labels-idx1-ubyte', idxBytes([opts.test], labels(opts.test)));
}

/** Writes CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin) with `perBatch` records each. */
export function writeCifar10Dataset(dir: string, opts: { perBatch: number; test: number }): void {
  mkdirSync(dir, { recursive: true });
  const labels = (n: number) => Array.from({ length: n }, (_, i) => i % 10);
  for (let b = 1; b <= 5; b++) {
    writeFileSync(
      join(dir, `data_batch_${b}.bin`),
      cifarRecords(labels(opts.perBatch), (b - 1) * opts.perBatch),
    );
  }
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords(labels(opts.test), 50_000));
}

/**
 * Writes an image folder (`train/CLASS/*.jpg|png`, `val/CLASS/*`) of small, distinct images with
 * sharp: each class a different colour, each image a different gradient.
 */
export async function writeImageFolder(
  dir: string,
  opts: {
    classes: string[];
    train: number;
    val: number;
    width?: number;
    height?: number;
    format?: 'jpg' | 'png';
  },
): Promise<void> {
  const { default: sharp } = await import('sharp');
  const w = opts.width ?? 40;
  const h = opts.height ?? 30;
  const ext = opts.format ?? 'jpg';
  for (const [split, count] of [
    ['train', opts.train],
    ['val', opts.val],
  ] as const) {
    for (const [c, name] of opts.classes.entries()) {
      const folder = join(dir, split, name);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < count; i++) {
        const raw = Buffer.alloc(w * h * 3);
        for (let y = 0; y < h; y++) {
          for (let x = 0; x < w; x++) {
            const o = (y * w + x) * 3;
            raw[o] = (c * 90 + x * 3) % 256;
            raw[o + 1] = (i * 40 + y * 5) % 256;
            raw[o + 2] = (c * 50 + i * 20) % 256;
          }
        }
        const img = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
        await (ext === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(
          join(folder, `${split}-${i}.${ext}`),
        );
      }
    }
  }
}
