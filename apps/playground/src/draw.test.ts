import { describe, expect, it } from 'vitest';
import { toMnistPixels } from './draw.js';

function centreOfMass(px: Uint8Array): [number, number] {
  let m = 0;
  let x = 0;
  let y = 0;
  px.forEach((v, i) => {
    m += v;
    x += v * (i % 28);
    y += v * Math.floor(i / 28);
  });
  return [x / m, y / m];
}

function inkBox(px: Uint8Array): { w: number; h: number } {
  let x0 = 28;
  let x1 = -1;
  let y0 = 28;
  let y1 = -1;
  px.forEach((v, i) => {
    if (v === 0) return;
    x0 = Math.min(x0, i % 28);
    x1 = Math.max(x1, i % 28);
    y0 = Math.min(y0, Math.floor(i / 28));
    y1 = Math.max(y1, Math.floor(i / 28));
  });
  return { w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

describe('toMnistPixels', () => {
  it('gives an empty digit for an empty pad', () => {
    expect(toMnistPixels(new Uint8Array(280 * 280), 280).every((v) => v === 0)).toBe(true);
  });

  it('scales the ink to a 20-pixel box and centres its mass, as MNIST digits are', () => {
    // a tall white bar in the top-left corner of a 280x280 pad
    const grey = new Uint8Array(280 * 280);
    for (let y = 10; y < 110; y++) for (let x = 20; x < 50; x++) grey[y * 280 + x] = 255;
    const px = toMnistPixels(grey, 280);
    const box = inkBox(px);
    expect(box.h).toBe(20);
    expect(box.w).toBe(6);
    const [cx, cy] = centreOfMass(px);
    expect(Math.abs(cx - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(cy - 13.5)).toBeLessThanOrEqual(0.5);
    expect(Math.max(...px)).toBe(255);
  });
});
