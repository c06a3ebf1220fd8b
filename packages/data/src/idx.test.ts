import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
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

/**
 * A gzip member that decompresses to `head` followed by `zeroMiB` MiB of zeros, built from one
 * compressed MiB repeated (sync-flushed deflate blocks concatenate), so a 5 GiB bomb is about
 * 5 MB on disk and costs nothing to make. Its CRC is left 0: a reader that got that far would
 * already have decompressed everything.
 */
function zeroBomb(head: Uint8Array, zeroMiB: number): Buffer {
  const flush = { finishFlush: constants.Z_SYNC_FLUSH };
  const mib = deflateRawSync(Buffer.alloc(1 << 20), flush);
  const parts = [Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]), deflateRawSync(head, flush)];
  for (let i = 0; i < zeroMiB; i++) parts.push(mib);
  parts.push(deflateRawSync(Buffer.alloc(0)), Buffer.alloc(8));
  return Buffer.concat(parts);
}

describe('gzipped IDX files are decompressed only as far as their header says', () => {
  it('stops a gzip bomb at the size its header declares ("larger than its header says")', () => {
    // 5 labels declared, 5 GiB of zeros behind them (more than a Node buffer can hold: without
    // the limit this decompressed gigabytes and then called the file "cut short")
    const dir = writeSet({ 'train-labels-idx1-ubyte': null });
    writeFileSync(
      join(dir, 'train-labels-idx1-ubyte.gz'),
      zeroBomb(idxBytes([5], [0, 1, 2, 1, 0]), 5 * 1024),
    );
    const e = errorOf(() => loadIdx(dir));
    expect(e.code).toBe('CSQ_DATA_BAD_SIZE');
    expect(e.message).toMatch(
      /train-labels-idx1-ubyte\.gz is larger than its header says: its IDX header says \[5\] \(13 bytes\)/,
    );
  });

  it('reports a few bytes too many the same way, and still loads the exact size', () => {
    const labels = idxBytes([5], [0, 1, 2, 1, 0]);
    const extra = Buffer.concat([labels, Buffer.from([9])]);
    const dir = writeSet({ 'train-labels-idx1-ubyte': extra }, ['train-labels-idx1-ubyte']);
    expect(errorOf(() => loadIdx(dir)).message).toMatch(/larger than its header says/);
    const ok = writeSet({}, ['train-labels-idx1-ubyte', 'train-images-idx3-ubyte']);
    expect(loadIdx(ok).train.count).toBe(5);
  });

  it('refuses a header that declares more than memory can hold, before decompressing', () => {
    // [65536, 65536, 2] images: 8 GiB declared by a 16-byte header
    const head = Buffer.alloc(16);
    head.writeUInt32BE(2051, 0);
    head.writeUInt32BE(65536, 4);
    head.writeUInt32BE(65536, 8);
    head.writeUInt32BE(2, 12);
    const dir = writeSet({ 'train-images-idx3-ubyte': head }, ['train-images-idx3-ubyte']);
    const e = errorOf(() => loadIdx(dir));
    expect(e.code).toBe('CSQ_DATA_BAD_SIZE');
    expect(e.message).toMatch(/its IDX header says \[65536, 65536, 2\], 8589934608 bytes, more/);
  });

  it('names a wrong magic number in a gzipped file before any size check', () => {
    const dir = writeSet({ 'train-images-idx3-ubyte': idxBytes([5], [0, 1, 2, 1, 0]) }, [
      'train-images-idx3-ubyte',
    ]);
    expect(errorOf(() => loadIdx(dir)).code).toBe('CSQ_DATA_BAD_MAGIC');
  });

  it('reads a gzip file whose header sits after a long gzip file-name field', () => {
    // FNAME flag with a 10,000-byte name: the header is found past the first prefix tried
    const body = gzipSync(idxBytes([5], [0, 1, 2, 1, 0]));
    const named = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 0xff]),
      Buffer.alloc(10_000, 0x61),
      Buffer.from([0]),
      body.subarray(10),
    ]);
    const dir = writeSet({ 'train-labels-idx1-ubyte': null });
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), named);
    expect(loadIdx(dir).train.count).toBe(5);
  });
});

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
