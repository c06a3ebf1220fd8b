import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { tempDir } from '@csq/test-utils/data-files';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGENET_MEAN } from './augment.js';
import { DecodePool } from './decode-pool.js';
import { type ImageFolderSource, imageFolderSource, loadImageFolder } from './image-folder.js';

const RED = [200, 10, 20];
const BLUE = [5, 30, 220];

/** w x h RGB image: left half RED, right half BLUE. */
function halves(w: number, h: number): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) px.set(x < w / 2 ? RED : BLUE, (y * w + x) * 3);
  }
  return px;
}

async function png(file: string, w: number, h: number, channels: 1 | 3 | 4, fill?: Buffer) {
  const raw = fill ?? Buffer.alloc(w * h * channels, 128);
  await sharp(raw, { raw: { width: w, height: h, channels } })
    .png()
    .toFile(file);
}

async function jpeg(file: string, w: number, h: number, value: number) {
  await sharp(Buffer.alloc(w * h * 3, value), { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 95 })
    .toFile(file);
}

const root = tempDir('csq-imgfolder-');
const good = join(root, 'good');
const open: ImageFolderSource[] = [];
afterAll(async () => {
  for (const s of open) await s.close();
});

async function source(dir: string, opts: Parameters<typeof imageFolderSource>[1] = {}) {
  const s = await imageFolderSource(dir, { workers: 2, ...opts });
  open.push(s);
  return s;
}

async function rejection(p: Promise<unknown>): Promise<CsqError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CsqError);
    return err as CsqError;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  // train: classes created out of order; "zebra" has a sub-folder and a non-image file
  for (const dir of ['train/zebra/more', 'train/ant', 'val/zebra', 'val/ant']) {
    mkdirSync(join(good, dir), { recursive: true });
  }
  await png(join(good, 'train/zebra/b.png'), 64, 32, 3, halves(64, 32));
  await jpeg(join(good, 'train/zebra/a.JPG'), 40, 30, 90);
  await png(join(good, 'train/zebra/more/c.png'), 20, 20, 1); // greyscale
  writeFileSync(join(good, 'train/zebra/notes.txt'), 'not an image');
  await png(join(good, 'train/ant/x.png'), 30, 50, 4, Buffer.alloc(30 * 50 * 4, 60)); // RGBA
  await jpeg(join(good, 'train/ant/y.jpeg'), 50, 50, 170);
  await png(join(good, 'val/zebra/v.png'), 64, 32, 3, halves(64, 32));
  await jpeg(join(good, 'val/ant/w.jpg'), 33, 33, 40);
});

describe('imageFolderSource', () => {
  it('lists sorted classes and images with their labels', async () => {
    const s = await source(join(good, 'train'), { size: 16 });
    expect(s.classNames).toEqual(['ant', 'zebra']);
    expect(s.numClasses).toBe(2);
    expect(s.files.map((f) => f.slice(join(good, 'train').length + 1))).toEqual([
      'ant/x.png',
      'ant/y.jpeg',
      'zebra/a.JPG',
      'zebra/b.png',
      'zebra/more/c.png',
    ]);
    expect(Array.from(s.labels)).toEqual([0, 0, 1, 1, 1]);
    expect([s.count, s.height, s.width, s.channels]).toEqual([5, 16, 16, 3]);
  });

  it('eval reads resize the shorter side and take the centre (hand-checked pixels)', async () => {
    // 64x32 halves image, size 16, ratio 1: resized to 32x16, centre crop columns 8..23 of
    // the resized image = original columns 16..47: left half RED, right half BLUE
    const s = await source(join(good, 'train'), { size: 16, resizeRatio: 1 });
    const { images, labels } = await s.read([3]);
    expect(labels[0]).toBe(1);
    expect(images.length).toBe(16 * 16 * 3);
    for (const y of [0, 7, 15]) {
      for (const x of [0, 5])
        expect(Array.from(images.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3))).toEqual(RED);
      for (const x of [10, 15])
        expect(Array.from(images.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3))).toEqual(BLUE);
    }
  });

  it('converts greyscale to RGB, drops alpha, and decodes JPEG', async () => {
    const s = await source(join(good, 'train'), { size: 8 });
    const { images } = await s.read([4, 0, 1]);
    const stride = 8 * 8 * 3;
    // grey PNG of 128: all channels 128
    expect(new Set(images.subarray(0, stride))).toEqual(new Set([128]));
    // RGBA of 60 everywhere: RGB 60
    expect(new Set(images.subarray(stride, 2 * stride))).toEqual(new Set([60]));
    // JPEG of 170 (lossy, but a flat image stays within a couple of levels)
    for (const v of images.subarray(2 * stride)) expect(Math.abs(v - 170)).toBeLessThanOrEqual(2);
  });

  it('reads one channel when asked', async () => {
    const s = await source(join(good, 'train'), { size: 8, channels: 1, resizeRatio: 1 });
    const { images } = await s.read([3]);
    expect(images.length).toBe(64);
    // one grey level for the RED half (left), another for the BLUE half, constant down columns
    expect(images[0]).not.toBe(images[7]);
    for (let y = 0; y < 8; y++) {
      expect(images[y * 8]).toBe(images[0]);
      expect(images[y * 8 + 7]).toBe(images[7]);
    }
  });

  it('train reads: full-image crop then a seeded flip (hand-checked)', async () => {
    // scale 1 and ratio 2 on the 64x32 image: the crop is the whole image; resized to 16x16
    // it is RED|BLUE, or BLUE|RED when flipped
    const s = await source(join(good, 'train'), {
      size: 16,
      crop: { scale: [1, 1], ratio: [2, 2] },
    });
    const seen = new Set<string>();
    for (let seed = 0; seed < 12; seed++) {
      const { images } = await s.read([3], { train: true, seed });
      const left = Array.from(images.subarray(0, 3));
      const right = Array.from(images.subarray(15 * 3, 16 * 3));
      seen.add(`${left}|${right}`);
      const again = await s.read([3], { train: true, seed });
      expect(Buffer.compare(Buffer.from(again.images), Buffer.from(images))).toBe(0);
    }
    expect([...seen].sort()).toEqual([`${BLUE}|${RED}`, `${RED}|${BLUE}`].sort());
  });

  it('random-resized crops are deterministic per (seed, example) and vary with the seed', async () => {
    const s = await source(join(good, 'train'), { size: 12 });
    const a = await s.read([3, 0, 2], { train: true, seed: 5 });
    const b = await s.read([3, 0, 2], { train: true, seed: 5 });
    expect(Buffer.compare(Buffer.from(a.images), Buffer.from(b.images))).toBe(0);
    const outputs = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      outputs.add(Buffer.from((await s.read([3], { train: true, seed })).images).toString('hex'));
    }
    expect(outputs.size).toBeGreaterThan(3);
  });

  it('names an unreadable or corrupt image', async () => {
    const dir = join(root, 'corrupt');
    mkdirSync(join(dir, 'a'), { recursive: true });
    writeFileSync(join(dir, 'a/garbage.jpg'), Buffer.from('this is not a jpeg at all'));
    await jpeg(join(dir, 'a/whole.jpg'), 64, 64, 100);
    const whole = readFileSync(join(dir, 'a/whole.jpg'));
    // header intact, entropy-coded data cut off
    writeFileSync(join(dir, 'a/truncated.jpg'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    const s = await source(dir, { size: 8 });
    const files = s.files.map((f) => f.slice(dir.length + 1));
    const garbage = await rejection(s.read([files.indexOf('a/garbage.jpg')]));
    expect(garbage.code).toBe('CSQ_DATA_CORRUPT_IMAGE');
    expect(garbage.message).toContain(join(dir, 'a/garbage.jpg'));
    const cut = await rejection(s.read([files.indexOf('a/truncated.jpg')]));
    expect(cut.code).toBe('CSQ_DATA_CORRUPT_IMAGE');
    expect(cut.message).toContain(join(dir, 'a/truncated.jpg'));
    // the good file still reads
    expect((await s.read([files.indexOf('a/whole.jpg')])).images.length).toBe(8 * 8 * 3);
  });

  it('rejects empty folders and missing directories', async () => {
    const none = join(root, 'no-classes');
    mkdirSync(none);
    expect((await rejection(imageFolderSource(none))).code).toBe('CSQ_DATA_EMPTY');
    const emptyClass = join(root, 'empty-class');
    mkdirSync(join(emptyClass, 'a'), { recursive: true });
    mkdirSync(join(emptyClass, 'b'), { recursive: true });
    await png(join(emptyClass, 'a/1.png'), 4, 4, 3);
    writeFileSync(join(emptyClass, 'b/readme.txt'), 'x');
    const e = await rejection(imageFolderSource(emptyClass));
    expect(e.code).toBe('CSQ_DATA_EMPTY');
    expect(e.message).toContain(join(emptyClass, 'b'));
    expect((await rejection(imageFolderSource(join(root, 'missing')))).code).toBe(
      'CSQ_DATA_MISSING_DIR',
    );
  });

  it('validates options and indices, and refuses reads after close', async () => {
    await expect(imageFolderSource(join(good, 'train'), { size: 0 })).rejects.toThrow(/size/);
    expect(() => new DecodePool(0)).toThrow(/worker count/);
    const s = await imageFolderSource(join(good, 'train'), { size: 8, workers: 1 });
    await expect(s.read([5])).rejects.toThrow(/outside 0\.\.4/);
    await s.close();
    await expect(s.read([0])).rejects.toThrow(/closed/);
  });
});

describe('loadImageFolder', () => {
  it('gives train and val splits with the ImageNet constants', async () => {
    const splits = await loadImageFolder(good, { size: 16, workers: 1 });
    try {
      expect(splits.name).toBe(`imagefolder:${good}`);
      expect(splits.train.count).toBe(5);
      expect(splits.test.count).toBe(2);
      expect(splits.test.classNames).toEqual(['ant', 'zebra']);
      expect(splits.mean).toEqual([...IMAGENET_MEAN]);
      const { images, labels } = await splits.test.read([0, 1]);
      expect(Array.from(labels)).toEqual([0, 1]);
      for (const v of images.subarray(0, 16 * 16 * 3))
        expect(Math.abs(v - 40)).toBeLessThanOrEqual(2);
      // both sources share one pool: reads from both at once
      const [a, b] = await Promise.all([
        splits.train.read([0, 1, 2, 3, 4], { train: true, seed: 1 }),
        splits.test.read([1, 0]),
      ]);
      expect(a.images.length + b.images.length).toBe(7 * 16 * 16 * 3);
    } finally {
      await splits.train.close?.();
      await splits.test.close?.();
    }
  });

  it('rejects val class folders that differ from train', async () => {
    const dir = join(root, 'mismatch');
    for (const d of ['train/cat', 'train/dog', 'val/cat', 'val/emu']) {
      mkdirSync(join(dir, d), { recursive: true });
      await png(join(dir, d, '1.png'), 4, 4, 3);
    }
    const e = await rejection(loadImageFolder(dir, { workers: 1 }));
    expect(e.code).toBe('CSQ_DATA_CLASS_MISMATCH');
    expect(e.message).toMatch(/missing: dog; not in training: emu/);
    const noVal = join(root, 'no-val');
    mkdirSync(join(noVal, 'train/a'), { recursive: true });
    const missing = await rejection(loadImageFolder(noVal));
    expect(missing.code).toBe('CSQ_DATA_MISSING_DIR');
    expect(missing.message).toContain(join(noVal, 'val'));
  });
});
