import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { extractTar } from './tar.js';

const root = tempDir('csq-tar-');
let n = 0;

async function* chunks(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function content(length: number, salt: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = (i * 7 + salt) % 251;
  return b;
}

/** Builds a tar of `files` with the system tar (an independent writer) in `format`. */
function systemTar(files: Record<string, Buffer>, format: string): Uint8Array {
  const src = join(root, `src${n++}`);
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), data);
  }
  return execFileSync('tar', ['-c', `--format=${format}`, '-f', '-', '-C', src, '.'], {
    maxBuffer: 1 << 26,
  });
}

/** A ustar header by hand (for entries the system tar will not write). */
function header(name: string, size: number, type = '0'): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number) => h.set(Buffer.from(s, 'latin1'), at);
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${size.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put(type, 156);
  put('ustar\0', 257);
  put('00', 263);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

const FILES: Record<string, Buffer> = {
  'top.bin': content(1000, 1),
  'dir/exact.bin': content(512, 2),
  'dir/empty.bin': Buffer.alloc(0),
  [`deep/${'a'.repeat(60)}/${'b'.repeat(60)}/long-name.bin`]: content(3000, 3),
};

describe('extractTar', () => {
  for (const format of ['gnu', 'ustar', 'pax']) {
    it(`extracts a ${format} archive written by the system tar, byte for byte`, async () => {
      const dest = join(root, `out-${format}`);
      const written = await extractTar(chunks(systemTar(FILES, format), 333), dest, 'test.tar');
      expect(written.length).toBe(4);
      for (const [name, data] of Object.entries(FILES)) {
        expect(Buffer.compare(readFileSync(join(dest, name)), data), name).toBe(0);
      }
    });
  }

  it('fails on a truncated archive without leaving a partial file', async () => {
    const tar = systemTar({ 'big.bin': content(5000, 4) }, 'gnu');
    const dest = join(root, 'out-cut');
    const err = await extractTar(
      chunks(tar.subarray(0, 512 * 2 + 700), 100),
      dest,
      'cut.tar',
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsqError);
    expect((err as CsqError).code).toBe('CSQ_DATA_CORRUPT_ARCHIVE');
    expect((err as Error).message).toMatch(/cut\.tar is truncated inside entry ".*big\.bin"/);
    const left = existsSync(dest) ? readdirSync(dest, { recursive: true }) : [];
    expect(left.filter((f) => String(f).includes('big.bin'))).toEqual([]);
  });

  it('refuses entries that escape the destination', async () => {
    const tar = new Uint8Array(512 * 4);
    tar.set(header('../evil.txt', 5), 0);
    tar.set(Buffer.from('hello'), 512);
    const err = await extractTar(chunks(tar, 512), join(root, 'out-evil'), 'evil.tar').catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/evil\.tar has an entry "\.\.\/evil\.txt" outside/);
    expect(existsSync(join(root, 'evil.txt'))).toBe(false);
  });

  it('rejects a header with a bad checksum', async () => {
    const tar = new Uint8Array(512 * 4);
    tar.set(header('ok.txt', 5), 0);
    tar[10] = 65; // change the name after the checksum was written
    const err = await extractTar(chunks(tar, 512), join(root, 'out-sum'), 'sum.tar').catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/sum\.tar is not a valid tar archive .*checksum/);
  });
});
