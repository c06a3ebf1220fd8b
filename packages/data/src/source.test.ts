import { CsqError } from '@csq/core';
import { describe, expect, it } from 'vitest';
import { arraySource, type ImageSet, readAll, takeSource, validateImageSet } from './source.js';

function tinySet(): ImageSet {
  // 3 images of 1x2x2: image k has pixels (10k, 10k+1, 10k+2, 10k+3)
  const images = Uint8Array.from([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
  return {
    images,
    labels: Int32Array.from([2, 0, 1]),
    count: 3,
    height: 1,
    width: 2,
    channels: 2,
    numClasses: 3,
    classNames: ['a', 'b', 'c'],
  };
}

describe('arraySource', () => {
  it('reads the requested examples in order, as copies', async () => {
    const set = tinySet();
    const src = arraySource(set);
    expect([src.count, src.height, src.width, src.channels, src.numClasses]).toEqual([
      3, 1, 2, 2, 3,
    ]);
    expect(src.classNames).toEqual(['a', 'b', 'c']);
    const { images, labels } = await src.read([2, 0, 2]);
    expect(Array.from(images)).toEqual([20, 21, 22, 23, 0, 1, 2, 3, 20, 21, 22, 23]);
    expect(Array.from(labels)).toEqual([1, 2, 1]);
    images[0] = 99;
    expect(set.images[8]).toBe(20);
  });

  it('rejects out-of-range indices', async () => {
    const src = arraySource(tinySet());
    await expect(src.read([0, 3])).rejects.toThrow(/index 3 .*outside 0\.\.2/);
    await expect(src.read([-1])).rejects.toBeInstanceOf(CsqError);
  });
});

describe('validateImageSet', () => {
  it('accepts a consistent set and names each problem', () => {
    expect(() => validateImageSet(tinySet())).not.toThrow();
    expect(() => validateImageSet({ ...tinySet(), labels: Int32Array.from([0, 3, 1]) })).toThrow(
      /label 3 of example 1/,
    );
    expect(() => validateImageSet({ ...tinySet(), count: 4 })).toThrow(/count\*height/);
    expect(() => validateImageSet({ ...tinySet(), channels: 0 })).toThrow(/channels/);
    expect(() => validateImageSet({ ...tinySet(), classNames: ['a'] })).toThrow(/class names/);
  });
});

describe('takeSource and readAll', () => {
  it('keeps the first N examples', async () => {
    const src = takeSource(arraySource(tinySet()), 2);
    expect(src.count).toBe(2);
    const all = await readAll(src);
    expect(Array.from(all.labels)).toEqual([2, 0]);
    expect(Array.from(all.images)).toEqual([0, 1, 2, 3, 10, 11, 12, 13]);
    await expect(src.read([2])).rejects.toThrow(/outside 0\.\.1/);
    const whole = arraySource(tinySet());
    expect(takeSource(whole, 10)).toBe(whole);
    expect(() => takeSource(whole, 0)).toThrow(/positive integer/);
  });
});
