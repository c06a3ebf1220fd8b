import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('gives the published check values', () => {
    // The standard check value of CRC-32/ISO-HDLC, and the empty input.
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('agrees with zlib on random data and on sub-ranges', () => {
    const bytes = new Uint8Array(4099);
    let s = 7;
    for (let i = 0; i < bytes.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      bytes[i] = s >>> 24;
    }
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32(bytes, 13, 2000)).toBe(zlibCrc32(bytes.subarray(13, 2000)));
  });
});
