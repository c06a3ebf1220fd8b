import { describe, expect, it } from 'vitest';
import { centerCropPlan, randomResizedCropBox, roundHalfEven } from './crop.js';
import { seededRandom } from './random.js';

/** A generator replaying given uniforms. */
function script(values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error('script ran out of values');
    return values[i++]!;
  };
}

describe('roundHalfEven', () => {
  it('rounds as Python does', () => {
    expect([0.5, 1.5, 2.5, -1.5, 2.4, 2.6, 3].map(roundHalfEven)).toEqual([0, 2, 2, -2, 2, 3, 3]);
  });
});

describe('randomResizedCropBox (torchvision get_params)', () => {
  it('skips an attempt that does not fit, then places the next one', () => {
    // 100x50 image, area 5000. Attempt 1: area 5000 * (0.08 + 0.92 * 0.5) = 2700, aspect
    // exp(0) = 1: w = h = round(51.96) = 52 > 50, rejected. Attempt 2: area 400, aspect 1:
    // w = h = 20; top = floor(0.5 * 31) = 15, left = floor(0.25 * 81) = 20.
    const box = randomResizedCropBox(100, 50, script([0.5, 0.5, 0, 0.5, 0.5, 0.25]));
    expect(box).toEqual({ left: 20, top: 15, width: 20, height: 20 });
  });

  it('uses the log-uniform aspect ratio', () => {
    // 200x200, scale fixed at 0.25 -> area 10000; u = 1 on log ratio -> aspect 4/3:
    // w = round(sqrt(13333.3)) = 115, h = round(sqrt(7500)) = 87; position at u = 0.
    const box = randomResizedCropBox(200, 200, script([0, 0.999999999, 0, 0]), {
      scale: [0.25, 0.25],
    });
    expect(box).toEqual({ left: 0, top: 0, width: 115, height: 87 });
  });

  it('falls back to the clamped central crop after 10 misses', () => {
    // 10x100 (ratio 0.1 < 3/4): every attempt is far too wide. Fallback: w = 10,
    // h = round(10 / 0.75) = 13, top = floor(87 / 2) = 43.
    const box = randomResizedCropBox(10, 100, () => 0.999);
    expect(box).toEqual({ left: 0, top: 43, width: 10, height: 13 });
    // 100x10 (ratio 10 > 4/3): h = 10, w = round(13.33) = 13, left = floor(87 / 2) = 43
    expect(randomResizedCropBox(100, 10, () => 0.999)).toEqual({
      left: 43,
      top: 0,
      width: 13,
      height: 10,
    });
  });

  it('always returns a box inside the image with area and ratio in range', () => {
    const random = seededRandom(1);
    for (let t = 0; t < 500; t++) {
      const w = 20 + Math.floor(random() * 300);
      const h = 20 + Math.floor(random() * 300);
      const b = randomResizedCropBox(w, h, random);
      expect(b.left >= 0 && b.top >= 0 && b.left + b.width <= w && b.top + b.height <= h).toBe(
        true,
      );
      const area = (b.width * b.height) / (w * h);
      expect(area).toBeGreaterThan(0.05);
      expect(area).toBeLessThanOrEqual(1);
    }
  });

  it('rejects bad ranges', () => {
    expect(() => randomResizedCropBox(10, 10, Math.random, { scale: [0.5, 0.1] })).toThrow(/scale/);
    expect(() => randomResizedCropBox(0, 10, Math.random)).toThrow(/positive/);
  });
});

describe('centerCropPlan', () => {
  it('resizes the shorter side to 256 then takes the centre 224 (ImageNet eval)', () => {
    // 500x375: short side 375 -> 256, long 500 -> floor(256 * 500 / 375) = 341;
    // left = round((341 - 224) / 2 = 58.5) = 58 (half to even), top = 16.
    expect(centerCropPlan(500, 375, 224)).toEqual({
      resizeWidth: 341,
      resizeHeight: 256,
      box: { left: 58, top: 16, width: 224, height: 224 },
    });
    // portrait 300x400: width is shorter -> 256 x floor(256 * 400 / 300) = 341
    expect(centerCropPlan(300, 400, 224)).toEqual({
      resizeWidth: 256,
      resizeHeight: 341,
      box: { left: 16, top: 58, width: 224, height: 224 },
    });
  });

  it('scales the resize with the size (32 -> 37) and accepts ratio 1', () => {
    expect(centerCropPlan(64, 64, 32)).toEqual({
      resizeWidth: 37,
      resizeHeight: 37,
      box: { left: 2, top: 2, width: 32, height: 32 },
    });
    expect(centerCropPlan(64, 32, 16, 1)).toEqual({
      resizeWidth: 32,
      resizeHeight: 16,
      box: { left: 8, top: 0, width: 16, height: 16 },
    });
    expect(() => centerCropPlan(64, 32, 16, 0.5)).toThrow(/ratio/);
  });
});
