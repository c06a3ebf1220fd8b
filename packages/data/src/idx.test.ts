import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CsqError } from '@csq/core';
import { expectClose } from '@csq/test-utils';
import { idxBytes, idxImages, idxPixel, tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { loadIdx, parseIdx } from './idx.js';
import { readAll } from './source.js';

const root = tempDir('csq-idx-');
let n = 0;

/** Writes an IDX set (train 5 images, test 3, 4x3) with optional replacements. */
function writeSet(
  files: Partial<Record<string, Uint8Array | null>> = {},
  gz: string[] = [],
): string {
  const dir = join(root, `set${n++}`);
  mkdirSync(dir);
  const all: Record<string, Uint8Array | null> = {
    'train-images-idx3-ubyte': idxImages(5, 4, 3),
    'train-labels-idx1-ubyte': idxBytes([5], [0, 1, 2, 1, 0]),
    't10k-images-idx3-ubyte': idxImages(3, 4, 3),
    't10k-labels-idx1-ubyte': idxBytes([3], [2, 2, 1]),
    ...files,
  };
  for (const [name, bytes] of Object.entries(all)) {
    if (!bytes) continue;
    if (gz.includes(name)) writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes));
    else writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

function errorOf(f: () => unknown): CsqError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(CsqError);
    return err as CsqError;
  }
  throw new Error('expected an error');
}

describe('loadIdx', () => {
  it('reads plain and gzipped files, pixel for pixel', async () => {
    for (const gz of [[], ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte']]) {
      const splits = loadIdx(writeSet({}, gz));
      expect([splits.train.count, splits.train.height, splits.train.width]).toEqual([5, 4, 3]);
      expect([splits.train.channels, splits.train.numClasses, splits.test.count]).toEqual([
        1, 3, 3,
      ]);
      const train = await readAll(splits.train);
      expect(Array.from(train.labels)).toEqual([0, 1, 2, 1, 0]);
      for (let i = 0; i < 5; i++) {
        for (let p = 0; p < 12; p++) expect(train.images[i * 12 + p]).toBe(idxPixel(i, p));
      }
      const test = await readAll(splits.test);
      expect(Array.from(test.labels)).toEqual([2, 2, 1]);
      expect(test.images[12 + 5]).toBe(idxPixel(1, 5));
    }
  });

  it('measures mean and std on the training pixels', async () => {
    const splits = loadIdx(writeSet());
    const values = Array.from(idxImages(5, 4, 3).subarray(16), (v) => v / 255);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expectClose(splits.mean, [mean], 1e-12);
    expectClose(splits.std, [std], 1e-12);
  });

  it('names a missing file and the missing directory', () => {
    const e = errorOf(() => loadIdx(writeSet({ 't10k-labels-idx1-ubyte': null })));
    expect(e.code).toBe('CSQ_DATA_MISSING_FILE');
    expect(e.message).toContain('t10k-labels-idx1-ubyte');
    expect(errorOf(() => loadIdx(join(root, 'nope'))).code).toBe('CSQ_DATA_MISSING_DIR');
  });

  it('rejects a bad magic number, naming the file and the expected value', () => {
    // a label file where images are expected
    const e = errorOf(() =>
      loadIdx(writeSet({ 'train-images-idx3-ubyte': idxBytes([5], [0, 1, 2, 1, 0]) })),
    );
    expect(e.code).toBe('CSQ_DATA_BAD_MAGIC');
    expect(e.message).toMatch(/train-images-idx3-ubyte has magic number 2049.*expected 2051/);
    const labels = errorOf(() =>
      loadIdx(writeSet({ 'train-labels-idx1-ubyte': idxImages(5, 4, 3) })),
    );
    expect(labels.message).toMatch(/train-labels-idx1-ubyte has magic number 2051.*expected 2049/);
  });

  it('says so when a gzipped file lacks its .gz extension', () => {
    const e = errorOf(() =>
      loadIdx(writeSet({ 't10k-images-idx3-ubyte': gzipSync(idxImages(3, 4, 3)) })),
    );
    expect(e.code).toBe('CSQ_DATA_BAD_MAGIC');
    expect(e.message).toMatch(/gzip-compressed/);
  });

  it('rejects truncated files and extra bytes', () => {
    const full = idxImages(5, 4, 3);
    const cut = errorOf(() =>
      loadIdx(writeSet({ 'train-images-idx3-ubyte': full.subarray(0, full.length - 1) })),
    );
    expect(cut.code).toBe('CSQ_DATA_TRUNCATED');
    expect(cut.message).toMatch(/train-images-idx3-ubyte is truncated.*76 bytes, but it is 75/);
    const header = errorOf(() =>
      loadIdx(writeSet({ 'train-images-idx3-ubyte': full.subarray(0, 10) })),
    );
    expect(header.message).toMatch(/less than its 16-byte IDX header/);
    const extra = new Uint8Array(full.length + 3);
    extra.set(full);
    const long = errorOf(() => loadIdx(writeSet({ 'train-images-idx3-ubyte': extra })));
    expect(long.code).toBe('CSQ_DATA_BAD_SIZE');
    expect(long.message).toMatch(/extra bytes/);
  });

  it('rejects a corrupt gzip file', () => {
    const dir = writeSet({ 't10k-images-idx3-ubyte': null });
    writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), Uint8Array.from([0x1f, 0x8b, 8, 0, 1]));
    const e = errorOf(() => loadIdx(dir));
    expect(e.code).toBe('CSQ_DATA_CORRUPT_FILE');
    expect(e.message).toMatch(/t10k-images-idx3-ubyte\.gz is not a valid gzip file/);
  });

  it('rejects image/label count disagreement', () => {
    const e = errorOf(() =>
      loadIdx(writeSet({ 'train-labels-idx1-ubyte': idxBytes([4], [0, 1, 2, 1]) })),
    );
    expect(e.code).toBe('CSQ_DATA_COUNT_MISMATCH');
    expect(e.message).toMatch(/holds 5 images but .*train-labels-idx1-ubyte holds 4 labels/);
  });

  it('checks label ranges against numClasses or the training classes', () => {
    const dir = writeSet({ 't10k-labels-idx1-ubyte': idxBytes([3], [2, 7, 1]) });
    const inferred = errorOf(() => loadIdx(dir));
    expect(inferred.code).toBe('CSQ_DATA_BAD_LABEL');
    expect(inferred.message).toMatch(
      /t10k-labels-idx1-ubyte: label 7 of example 1 is outside 0\.\.2/,
    );
    const given = errorOf(() => loadIdx(writeSet(), { numClasses: 2 }));
    expect(given.message).toMatch(
      /train-labels-idx1-ubyte: label 2 of example 2 .*numClasses is 2/,
    );
    expect(loadIdx(dir, { numClasses: 10 }).train.numClasses).toBe(10);
  });

  it('rejects wrong dimensions and mismatched train/test sizes', () => {
    // (magic 2051 itself says 3 dimensions; an empty one is still wrong)
    const flat = idxBytes([5, 0, 3], []);
    const e = errorOf(() => loadIdx(writeSet({ 'train-images-idx3-ubyte': flat })));
    expect(e.code).toBe('CSQ_DATA_BAD_SHAPE');
    expect(e.message).toMatch(/dimensions \[5, 0, 3\]/);
    const other = errorOf(() =>
      loadIdx(writeSet({ 't10k-images-idx3-ubyte': idxImages(3, 3, 4) })),
    );
    expect(other.message).toMatch(/4x3 images but .* 3x4/);
  });

  it('parseIdx checks the magic of raw bytes', () => {
    expect(parseIdx(idxBytes([2], [1, 2]), 2049, 'x').dims).toEqual([2]);
    expect(() => parseIdx(Uint8Array.from([0, 0]), 2049, 'short-file')).toThrow(
      /short-file is truncated/,
    );
  });
});
