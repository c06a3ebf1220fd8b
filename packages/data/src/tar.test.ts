import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join, sep } from 'node:path';
import { constants, deflateRawSync, gzipSync } from 'node:zlib';
import { CsqError } from '@csq/core';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it } from 'vitest';
import { extractTar, safeTarPath } from './tar.js';

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
function header(name: string, size: number, type = '0', link = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, at: number) => h.set(Buffer.from(s, 'latin1'), at);
  put(name, 0);
  put(link, 157);
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

interface Entry {
  name: string;
  body?: string | Buffer;
  type?: string;
  link?: string;
}

/** A whole archive by hand: header, body padded to 512, then two zero blocks. */
function handTar(entries: Entry[]): Buffer {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    parts.push(header(e.name, body.length, e.type, e.link), body);
    parts.push(new Uint8Array((512 - (body.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

/** A pax extended header entry setting `path` for the next entry. */
function paxPath(path: string): Entry {
  let record = ` path=${path}\n`;
  record = `${record.length + String(record.length).length}${record}`;
  return { name: 'PaxHeader/x', type: 'x', body: record };
}

async function failure(tar: Uint8Array, name: string): Promise<CsqError> {
  const err = await extractTar(chunks(tar, 512), join(root, `out-${name}`), name).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CsqError);
  expect((err as CsqError).code).toBe('CSQ_DATA_CORRUPT_ARCHIVE');
  return err as CsqError;
}

/** Every path under `dir` (recursive), '/'-separated. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((f) => String(f).split(sep).join('/'))
    .sort();
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

describe('extractTar with hostile archives', () => {
  it('refuses backslash names on every platform (..\\..\\x escapes on Windows)', async () => {
    const err = await failure(handTar([{ name: '..\\..\\evil.txt', body: 'x' }]), 'bs.tar');
    expect(err.message).toMatch(/bs\.tar has an entry "\.\.\\\.\.\\evil\.txt" with a backslash/);
    expect(tree(join(root, 'out-bs.tar'))).toEqual([]);
    expect(() => safeTarPath('data\\a.bin', 'x.tar')).toThrow(/backslash/);
  });

  it('refuses drive letters, absolute paths, .. and control characters', async () => {
    for (const [name, why] of [
      ['C:/Windows/evil.txt', /drive letter/],
      ['c:evil.txt', /drive letter/],
      ['/tmp/csq-evil.txt', /absolute path/],
      ['ok/../../evil.txt', /outside its folder/],
      ['ok/\u0001evil', /control character/],
    ] as const) {
      const err = await failure(handTar([{ name, body: 'x' }]), 'abs.tar');
      expect(err.message, name).toMatch(why);
    }
    expect(existsSync('/tmp/csq-evil.txt')).toBe(false);
    expect(tree(join(root, 'out-abs.tar'))).toEqual([]);
  });

  it('refuses a pax path or GNU long name that climbs out, whatever the ustar name says', async () => {
    const pax = handTar([paxPath('../../pax-evil.txt'), { name: 'innocent.txt', body: 'x' }]);
    expect((await failure(pax, 'pax.tar')).message).toMatch(/"\.\.\/\.\.\/pax-evil\.txt"/);
    const gnu = handTar([
      { name: '././@LongLink', type: 'L', body: `../${'d/'.repeat(60)}gnu-evil.txt\0` },
      { name: 'innocent.txt', body: 'x' },
    ]);
    expect((await failure(gnu, 'gnu.tar')).message).toMatch(/gnu-evil\.txt" outside its folder/);
    expect(existsSync(join(root, 'pax-evil.txt'))).toBe(false);
  });

  it('never creates links: a symlink out of the folder, then a file through it, stay inside', async () => {
    const outside = join(root, 'outside');
    mkdirSync(outside, { recursive: true });
    const tar = handTar([
      { name: 'link', type: '2', link: outside },
      { name: 'hard', type: '1', link: '/etc/passwd' },
      { name: 'dir', type: '5' },
      { name: 'link/planted.txt', body: 'planted' },
      { name: 'dir/ok.txt', body: 'ok' },
    ]);
    const dest = join(root, 'out-links');
    const written = await extractTar(chunks(tar, 100), dest, 'links.tar');
    expect(written.map((f) => f.split(sep).join('/'))).toEqual(['link/planted.txt', 'dir/ok.txt']);
    expect(lstatSync(join(dest, 'link')).isDirectory()).toBe(true); // a folder, not a symlink
    expect(existsSync(join(dest, 'hard'))).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(dest, 'link/planted.txt'), 'utf8')).toBe('planted');
  });

  it('refuses files adding up to more than maxBytes, and a size the data does not back', async () => {
    const tar = handTar([
      { name: 'a.bin', body: Buffer.alloc(3000, 1) },
      { name: 'b.bin', body: Buffer.alloc(3000, 2) },
    ]);
    const dest = join(root, 'out-max');
    const err = await extractTar(chunks(tar, 700), dest, 'max.tar', { maxBytes: 5000 }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/max\.tar holds more than 5000 bytes .*"b\.bin".* 6000/);
    expect(tree(dest).filter((f) => f.startsWith('b.bin'))).toEqual([]);
    expect(await extractTar(chunks(tar, 700), dest, 'max.tar', { maxBytes: 6000 })).toHaveLength(2);
    // a header claiming 8 GiB with 5 bytes behind it: truncated, nothing allocated for the claim
    const huge = header('huge.bin', 0);
    huge.set(Buffer.from('\x80\0\0\0\0\0\0\x02\0\0\0\0', 'latin1'), 124); // base-256
    let sum = 0;
    huge.set(Buffer.from('        '), 148);
    for (const b of huge) sum += b;
    huge.set(Buffer.from(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    const claim = await failure(Buffer.concat([huge, Buffer.from('hello')]), 'huge.tar');
    expect(claim.message).toMatch(/huge\.tar (is truncated|holds more than)/);
  });

  it('reads a gzipped tar and refuses something that is not a tar at all', async () => {
    const gz = gzipSync(handTar([{ name: 'z/a.txt', body: 'zipped' }]));
    const dest = join(root, 'out-gz');
    expect(await extractTar(chunks(gz, 64), dest, 'a.tar.gz')).toEqual([`z${sep}a.txt`]);
    expect(readFileSync(join(dest, 'z/a.txt'), 'utf8')).toBe('zipped');
    const junk = await failure(Buffer.from('this is not a tar archive'.repeat(40)), 'junk.tar');
    expect(junk.message).toMatch(/junk\.tar is not a valid tar archive/);
  });

  it('stops at the end-of-archive marker: 4 GiB of gzipped zeros behind it are never read', async () => {
    // sync-flushed deflate blocks concatenate: one compressed MiB of zeros repeated 4096 times,
    // and a CRC of 0, which a reader that went on to the end would reject
    const flush = { finishFlush: constants.Z_SYNC_FLUSH };
    const mib = deflateRawSync(Buffer.alloc(1 << 20), flush);
    const bomb = Buffer.concat([
      Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]),
      deflateRawSync(handTar([{ name: 'a.txt', body: 'kept' }]), flush),
      ...Array.from({ length: 4096 }, () => mib),
      deflateRawSync(Buffer.alloc(0)),
      Buffer.alloc(8),
    ]);
    const dest = join(root, 'out-zeros');
    expect(await extractTar(chunks(bomb, 1 << 16), dest, 'zeros.tar.gz')).toEqual(['a.txt']);
    expect(readFileSync(join(dest, 'a.txt'), 'utf8')).toBe('kept');
  });

  it('writes a name given twice once, with the later entry (as tar does)', async () => {
    const tar = handTar([
      { name: 'same.txt', body: Buffer.alloc(200_000, 1) },
      { name: 'same.txt', body: 'second' },
    ]);
    const dest = join(root, 'out-twice');
    await extractTar(chunks(tar, 4096), dest, 'twice.tar');
    expect(readFileSync(join(dest, 'same.txt'), 'utf8')).toBe('second');
    expect(tree(dest)).toEqual(['same.txt']);
  });

  it('reports a cut inside a header (node-tar alone would drop it without a word)', async () => {
    const tar = handTar([
      { name: 'a.txt', body: 'a' },
      { name: 'b.txt', body: 'b' },
    ]);
    const err = await failure(tar.subarray(0, 1024 + 300), 'cut-header.tar');
    expect(err.message).toMatch(/cut-header\.tar is truncated \(a partial tar header\)/);
  });
});
