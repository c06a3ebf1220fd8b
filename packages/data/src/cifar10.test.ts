import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { cifarPixel, cifarRecords, tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { CIFAR10_MEAN, CIFAR10_STD } from './augment.js';
import { loadCifar10, parseCifar10Batch } from './cifar10.js';
import { readAll } from './source.js';

const root = tempDir('csq-cifar-');
let n = 0;

/** data_batch_i holds 2 records (labels i-1, 9-i+1), test_batch 3; overrides by file name. */
function writeSet(files: Record<string, Uint8Array | null> = {}, sub = false): string {
  const dir = join(root, `set${n++}`);
  const where = sub ? join(dir, 'cifar-10-batches-bin') : dir;
  mkdirSync(where, { recursive: true });
  const all: Record<string, Uint8Array | null> = {};
  for (let i = 1; i <= 5; i++)
    all[`data_batch_${i}.bin`] = cifarRecords([i - 1, 10 - i], 2 * (i - 1));
  all['test_batch.bin'] = cifarRecords([3, 1, 4], 100);
  Object.assign(all, files);
  for (const [name, bytes] of Object.entries(all))
    if (bytes) writeFileSync(join(where, name), bytes);
  return dir;
}

async function errorOf(f: () => unknown): Promise<CsqError> {
  try {
    await f();
  } catch (err) {
    expect(err).toBeInstanceOf(CsqError);
    return err as CsqError;
  }
  throw new Error('expected an error');
}

describe('loadCifar10', () => {
  it('converts planar records to NHWC pixel for pixel', async () => {
    const splits = loadCifar10(writeSet());
    expect(splits.name).toMatch(/^cifar10:/);
    expect(splits.mean).toEqual([...CIFAR10_MEAN]);
    expect(splits.std).toEqual([...CIFAR10_STD]);
    expect([
      splits.train.count,
      splits.train.height,
      splits.train.width,
      splits.train.channels,
    ]).toEqual([10, 32, 32, 3]);
    expect(splits.train.classNames?.[3]).toBe('cat');
    const train = await readAll(splits.train);
    expect(Array.from(train.labels)).toEqual([0, 9, 1, 8, 2, 7, 3, 6, 4, 5]);
    // record r, row y, column x, channel c = byte 1 + c*1024 + y*32 + x of the record
    for (const r of [0, 3, 9]) {
      for (const [y, x] of [
        [0, 0],
        [0, 31],
        [5, 7],
        [31, 31],
      ] as const) {
        for (let c = 0; c < 3; c++) {
          expect(train.images[r * 3072 + (y * 32 + x) * 3 + c]).toBe(cifarPixel(r, c, y * 32 + x));
        }
      }
    }
    const test = await readAll(splits.test);
    expect(Array.from(test.labels)).toEqual([3, 1, 4]);
    expect(test.images[2 * 3072 + (1 * 32 + 2) * 3 + 1]).toBe(cifarPixel(102, 1, 34));
  });

  it('accepts the cifar-10-batches-bin subfolder', () => {
    expect(loadCifar10(writeSet({}, true)).test.count).toBe(3);
  });

  it('rejects a wrong record size, naming the file', async () => {
    const bad = cifarRecords([1, 2]).subarray(0, 3073 + 100);
    const e = await errorOf(() => loadCifar10(writeSet({ 'data_batch_3.bin': bad })));
    expect(e.code).toBe('CSQ_DATA_BAD_SIZE');
    expect(e.message).toMatch(/data_batch_3\.bin is 3173 bytes, not a whole .*3073-byte/);
    const empty = await errorOf(() =>
      loadCifar10(writeSet({ 'test_batch.bin': new Uint8Array(0) })),
    );
    expect(empty.code).toBe('CSQ_DATA_EMPTY');
  });

  it('rejects labels outside 0..9 with the record number', async () => {
    const e = await errorOf(() =>
      loadCifar10(writeSet({ 'data_batch_5.bin': cifarRecords([1, 10]) })),
    );
    expect(e.code).toBe('CSQ_DATA_BAD_LABEL');
    expect(e.message).toMatch(/data_batch_5\.bin: record 1 \(byte 3073\) has label 10/);
  });

  it('names a missing batch and a missing directory', async () => {
    const e = await errorOf(() => loadCifar10(writeSet({ 'test_batch.bin': null })));
    expect(e.code).toBe('CSQ_DATA_MISSING_FILE');
    expect(e.message).toContain('test_batch.bin');
    expect((await errorOf(() => loadCifar10(join(root, 'none')))).code).toBe(
      'CSQ_DATA_MISSING_DIR',
    );
  });

  it('parseCifar10Batch works on raw bytes', () => {
    const set = parseCifar10Batch(cifarRecords([7]), 'mem');
    expect(set.labels[0]).toBe(7);
    expect(set.images[(31 * 32 + 31) * 3 + 2]).toBe(cifarPixel(0, 2, 1023));
  });
});
