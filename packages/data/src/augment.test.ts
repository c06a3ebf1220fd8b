import { expectClose } from '@csq/test-utils';
import { describe, expect, it } from 'vitest';
import {
  CIFAR10_MEAN,
  CIFAR10_STD,
  MNIST_MEAN,
  MNIST_STD,
  normalize,
  randomCropFlip,
} from './augment.js';

// 3x3 single-channel image
//   1 2 3
//   4 5 6
//   7 8 9
const image = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
const shape3 = { height: 3, width: 3, channels: 1 };

// Every crop of the image zero-padded by 1, written out by hand: key "dy,dx" is the offset of
// the crop window (output (y, x) = input (y + dy, x + dx)).
const CROPS: Record<string, number[]> = {
  '-1,-1': [0, 0, 0, 0, 1, 2, 0, 4, 5],
  '-1,0': [0, 0, 0, 1, 2, 3, 4, 5, 6],
  '-1,1': [0, 0, 0, 2, 3, 0, 5, 6, 0],
  '0,-1': [0, 1, 2, 0, 4, 5, 0, 7, 8],
  '0,0': [1, 2, 3, 4, 5, 6, 7, 8, 9],
  '0,1': [2, 3, 0, 5, 6, 0, 8, 9, 0],
  '1,-1': [0, 4, 5, 0, 7, 8, 0, 0, 0],
  '1,0': [4, 5, 6, 7, 8, 9, 0, 0, 0],
  '1,1': [5, 6, 0, 8, 9, 0, 0, 0, 0],
};
// The flip mirrors the crop of the mirrored image: flipped crop at (dy, dx), by hand.
const FLIPPED: Record<string, number[]> = {
  '-1,-1': [0, 0, 0, 0, 3, 2, 0, 6, 5],
  '-1,0': [0, 0, 0, 3, 2, 1, 6, 5, 4],
  '-1,1': [0, 0, 0, 2, 1, 0, 5, 4, 0],
  '0,-1': [0, 3, 2, 0, 6, 5, 0, 9, 8],
  '0,0': [3, 2, 1, 6, 5, 4, 9, 8, 7],
  '0,1': [2, 1, 0, 5, 4, 0, 8, 7, 0],
  '1,-1': [0, 6, 5, 0, 9, 8, 0, 0, 0],
  '1,0': [6, 5, 4, 9, 8, 7, 0, 0, 0],
  '1,1': [5, 4, 0, 8, 7, 0, 0, 0, 0],
};

describe('randomCropFlip', () => {
  it('gives one of the 18 hand-computed crops, each about equally often', () => {
    const counts = new Map<string, number>();
    const candidates = new Map<string, string>();
    for (const [k, v] of Object.entries(CROPS)) candidates.set(v.join(','), `crop ${k}`);
    for (const [k, v] of Object.entries(FLIPPED)) candidates.set(v.join(','), `flip ${k}`);
    expect(candidates.size).toBe(18);
    const trials = 1800;
    for (let seed = 0; seed < trials; seed++) {
      const out = randomCropFlip(image, shape3, { pad: 1, seed });
      const name = candidates.get(Array.from(out).join(','));
      expect(name, `seed ${seed} gave ${Array.from(out)}`).toBeDefined();
      counts.set(name!, (counts.get(name!) ?? 0) + 1);
    }
    expect(counts.size).toBe(18);
    for (const c of counts.values()) expect(c).toBeGreaterThan(60); // expected 100 each
    for (const c of counts.values()) expect(c).toBeLessThan(140);
  });

  it('is deterministic in the seed and draws each example independently', () => {
    const batch = new Uint8Array(9 * 16);
    for (let n = 0; n < 16; n++) batch.set(image, 9 * n);
    const a = randomCropFlip(batch, shape3, { pad: 1, seed: 11 });
    expect(Array.from(randomCropFlip(batch, shape3, { pad: 1, seed: 11 }))).toEqual(Array.from(a));
    expect(Array.from(randomCropFlip(batch, shape3, { pad: 1, seed: 12 }))).not.toEqual(
      Array.from(a),
    );
    const distinct = new Set<string>();
    for (let n = 0; n < 16; n++) distinct.add(Array.from(a.subarray(9 * n, 9 * n + 9)).join(','));
    expect(distinct.size).toBeGreaterThan(4);
  });

  it('moves channels together and only mirrors without padding', () => {
    // 1x2 RGB image: pixel A = (10, 20, 30), pixel B = (40, 50, 60)
    const rgb = Uint8Array.from([10, 20, 30, 40, 50, 60]);
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      seen.add(
        Array.from(randomCropFlip(rgb, { height: 1, width: 2, channels: 3 }, { seed })).join(','),
      );
    }
    expect([...seen].sort()).toEqual(['10,20,30,40,50,60', '40,50,60,10,20,30']);
    // no flip, no pad: identity
    expect(
      Array.from(
        randomCropFlip(rgb, { height: 1, width: 2, channels: 3 }, { seed: 1, flip: false }),
      ),
    ).toEqual(Array.from(rgb));
  });

  it('writes into out and validates arguments', () => {
    const out = new Uint8Array(9);
    expect(randomCropFlip(image, shape3, { pad: 1, seed: 0, out })).toBe(out);
    expect(() => randomCropFlip(image, { height: 2, width: 2, channels: 1 }, { seed: 0 })).toThrow(
      /whole number/,
    );
    expect(() => randomCropFlip(image, shape3, { pad: -1, seed: 0 })).toThrow(/pad/);
    expect(() => randomCropFlip(image, shape3, { seed: 0, out: image })).toThrow(/must not/);
  });
});

describe('normalize', () => {
  it('matches hand-computed CIFAR-10 values (x/255 - mean[c]) / std[c]', () => {
    const pixels = Uint8Array.from([0, 0, 0, 255, 255, 255, 128, 128, 128]);
    const out = normalize(pixels, CIFAR10_MEAN, CIFAR10_STD);
    expect(out).toBeInstanceOf(Float32Array);
    // (0 - 0.4914) / 0.2023 = -2.42906..., (1 - 0.4914) / 0.2023 = 2.51408..., etc.
    expectClose(
      out,
      [
        -2.4290657439446366, -2.418254764292879, -2.2213930348258706, 2.514087988136431,
        2.5967903711133404, 2.7537313432835817, 0.0522035803940953, 0.09910122524436041,
        0.27592430006828594,
      ],
      1e-6,
    );
  });

  it('matches hand-computed MNIST values', () => {
    const out = normalize(Uint8Array.from([0, 51, 255]), MNIST_MEAN, MNIST_STD);
    // (0 - 0.1307) / 0.3081, (0.2 - 0.1307) / 0.3081, (1 - 0.1307) / 0.3081
    expectClose(out, [-0.424212917883804, 0.2249269717624148, 2.82148653034729], 1e-6);
  });

  it('checks mean/std against the channel count', () => {
    expect(() => normalize(Uint8Array.from([1, 2]), CIFAR10_MEAN, CIFAR10_STD)).toThrow(
      /multiple of 3/,
    );
    expect(() => normalize(Uint8Array.from([1, 2, 3]), [0, 0, 0], [1, 0, 1])).toThrow(/positive/);
    expect(() => normalize(Uint8Array.from([1]), [0], [1, 1])).toThrow(/one entry per channel/);
  });
});
