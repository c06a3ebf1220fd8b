/**
 * Builders of small data files in the exact on-disk formats, for the loaders' tests (never
 * imported by the library).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
