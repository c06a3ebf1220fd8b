import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { cifarRecords, idxBytes, idxImages, tempDir } from '@csq/test-utils/data-files';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { loadData } from './load-data.js';

const root = tempDir('csq-load-data-');

async function rejection(p: Promise<unknown>): Promise<CsqError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CsqError);
    return err as CsqError;
  }
  throw new Error('expected a rejection');
}

describe('loadData', () => {
  it('defaults to the embedded MNIST split', async () => {
    for (const spec of [undefined, '', 'mnist']) {
      const splits = await loadData(spec);
      expect([splits.name, splits.train.count, splits.test.count]).toEqual(['mnist', 8000, 2000]);
    }
    expect((await loadData('mnist', { testCount: 500 })).test.count).toBe(500);
  });

  it('loads idx:DIR, cifar10:DIR and imagefolder:DIR', async () => {
    const idx = join(root, 'idx');
    mkdirSync(idx);
    writeFileSync(join(idx, 'train-images-idx3-ubyte'), idxImages(3, 2, 2));
    writeFileSync(join(idx, 'train-labels-idx1-ubyte'), idxBytes([3], [0, 1, 1]));
    writeFileSync(join(idx, 't10k-images-idx3-ubyte'), idxImages(1, 2, 2));
    writeFileSync(join(idx, 't10k-labels-idx1-ubyte'), idxBytes([1], [1]));
    const a = await loadData(`idx:${idx}`);
    expect([a.train.count, a.train.height, a.train.numClasses]).toEqual([3, 2, 2]);

    const cifar = join(root, 'cifar');
    mkdirSync(cifar);
    for (let i = 1; i <= 5; i++)
      writeFileSync(join(cifar, `data_batch_${i}.bin`), cifarRecords([i]));
    writeFileSync(join(cifar, 'test_batch.bin'), cifarRecords([0, 0]));
    const b = await loadData({ kind: 'cifar10', dir: cifar });
    expect([b.train.count, b.test.count, b.train.channels]).toEqual([5, 2, 3]);

    const folder = join(root, 'folder');
    for (const d of ['train/a', 'train/b', 'val/a', 'val/b']) {
      mkdirSync(join(folder, d), { recursive: true });
      await sharp(Buffer.alloc(48, 9), { raw: { width: 4, height: 4, channels: 3 } })
        .png()
        .toFile(join(folder, d, 'img.png'));
    }
    const c = await loadData(`imagefolder:${folder}`, { imageFolder: { size: 4, workers: 1 } });
    try {
      expect([c.train.count, c.test.count, c.train.height]).toEqual([2, 2, 4]);
      const { images } = await c.test.read([1]);
      expect(new Set(images)).toEqual(new Set([9]));
    } finally {
      await c.train.close?.();
      await c.test.close?.();
    }
  });

  it('missing directories and unknown schemes list the valid forms', async () => {
    for (const spec of [`idx:${join(root, 'none')}`, 'cifar10:/no/such/dir', 'imagenet:/x']) {
      const e = await rejection(loadData(spec));
      expect(['CSQ_DATA_MISSING_DIR', 'CSQ_DATA_BAD_SPEC']).toContain(e.code);
      for (const form of ['mnist', 'idx:DIR', 'cifar10:DIR', 'imagefolder:DIR']) {
        expect(e.message).toContain(form);
      }
    }
    const missing = await rejection(loadData('cifar10:/no/such/dir'));
    expect(missing.message).toMatch(/\/no\/such\/dir .*does not exist.*--download/s);
  });

  it('refuses --download for sources it cannot fetch', async () => {
    const e = await rejection(loadData(`imagefolder:${root}`, { download: true }));
    expect(e.code).toBe('CSQ_DOWNLOAD_DATASET');
  });
});
