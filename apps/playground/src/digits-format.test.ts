import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type ImageSet, readAll } from '@csq/data';
import { loadMnistEmbedded } from '@csq/data/node';
import { describe, expect, it } from 'vitest';
import { DIGITS_FILE, writeDigitsAsset } from '../scripts/make-data.ts';
import { decodeDigits, encodeDigits, isGzip } from './digits-format.js';

function tinySet(count: number, first: number): ImageSet {
  const images = new Uint8Array(count * 4 * 3 * 1);
  for (let i = 0; i < images.length; i++) images[i] = (first + 7 * i) % 256;
  const labels = Int32Array.from({ length: count }, (_, i) => (first + i) % 3);
  return { images, labels, count, height: 4, width: 3, channels: 1, numClasses: 3 };
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe('the digits asset format', () => {
  it('round-trips both splits byte for byte', () => {
    const train = tinySet(5, 1);
    const test = tinySet(2, 100);
    const bytes = encodeDigits({ train, test });
    expect(bytes.length).toBe(32 + 7 * 12 + 7);
    expect(String.fromCharCode(...bytes.subarray(0, 8))).toBe('CSQDIGIT');
    const back = decodeDigits(bytes);
    expect(back.train).toEqual(train);
    expect(back.test).toEqual(test);
  });

  it('refuses a truncated, foreign or inconsistent file with CSQ_DIGITS_CORRUPT', () => {
    const bytes = encodeDigits({ train: tinySet(5, 1), test: tinySet(2, 9) });
    expect(codeOf(() => decodeDigits(bytes.subarray(0, 20)))).toBe('CSQ_DIGITS_CORRUPT');
    expect(codeOf(() => decodeDigits(bytes.subarray(0, bytes.length - 1)))).toBe(
      'CSQ_DIGITS_CORRUPT',
    );
    const foreign = bytes.slice();
    foreign[0] = 0x3c; // "<": an HTML page served in its place
    expect(codeOf(() => decodeDigits(foreign))).toBe('CSQ_DIGITS_CORRUPT');
    const badLabel = bytes.slice();
    badLabel[badLabel.length - 1] = 3;
    expect(codeOf(() => decodeDigits(badLabel))).toBe('CSQ_DIGITS_CORRUPT');
    expect(
      codeOf(() => encodeDigits({ train: tinySet(1, 0), test: { ...tinySet(1, 0), width: 2 } })),
    ).toBe('CSQ_DIGITS_SHAPES');
  });

  it("the built asset holds the quickstart's split of the embedded digits, gzipped", async () => {
    await writeDigitsAsset();
    const file = new Uint8Array(readFileSync(DIGITS_FILE));
    expect(isGzip(file)).toBe(true);
    expect(file.length).toBeLessThan(2_000_000); // vs 7.85 MB raw
    const { train, test } = decodeDigits(new Uint8Array(gunzipSync(file)));
    const splits = loadMnistEmbedded();
    const want = { train: await readAll(splits.train), test: await readAll(splits.test) };
    expect(train.count).toBe(8000);
    expect(test.count).toBe(2000);
    expect(Buffer.compare(train.images, want.train.images)).toBe(0);
    expect(Buffer.compare(test.images, want.test.images)).toBe(0);
    expect(train.labels).toEqual(want.train.labels);
    expect(test.labels).toEqual(want.test.labels);
  }, 60_000);
});
