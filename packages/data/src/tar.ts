/**
 * A small streaming tar reader (Node): enough for data-set archives (ustar, GNU long names, pax
 * path records). Regular files are written to a temporary name and renamed when complete;
 * entries that would land outside the destination are refused.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { CsqError } from '@csq/core';

const BLOCK = 512;

/** Pulls exact byte counts out of an async stream of chunks. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
  }

  /** Exactly `n` bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    await this.fill(n);
    const take = Math.min(n, this.buffered);
    const out = new Uint8Array(take);
    let at = 0;
    while (at < take) {
      const head = this.chunks[0]!;
      const part = Math.min(head.length, take - at);
      out.set(head.subarray(0, part), at);
      at += part;
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
    }
    this.buffered -= take;
    return out;
  }

  /** Passes the next `n` bytes to `sink` chunk by chunk; returns how many there were. */
  async pipe(n: number, sink: (chunk: Uint8Array) => Promise<void> | void): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) await this.fill(1);
      if (this.buffered === 0) break;
      const head = this.chunks[0]!;
      const part = Math.min(head.length, left);
      await sink(head.subarray(0, part));
      if (part === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(part);
      this.buffered -= part;
      left -= part;
    }
    return n - left;
  }
}

function text(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return new TextDecoder().decode(block.subarray(start, end));
}

function octal(block: Uint8Array, start: number, length: number, archive: string): number {
  if ((block[start]! & 0x80) !== 0) {
    // GNU base-256 for sizes of 8 GiB and more
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const s = text(block, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) {
    throw new CsqError(
      'CSQ_DATA_CORRUPT_ARCHIVE',
      `${archive} is not a valid tar archive (bad number field "${s}"); delete it and download ` +
        `it again.`,
    );
  }
  return Number.parseInt(s, 8);
}

function checksumOk(block: Uint8Array, archive: string): boolean {
  const stored = octal(block, 148, 8, archive);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}

/** Safe relative path of an entry, or undefined for entries that must be skipped. */
function safePath(name: string, archive: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) return undefined;
  if (name.startsWith('/') || parts.includes('..')) {
    throw new CsqError(
      'CSQ_DATA_CORRUPT_ARCHIVE',
      `${archive} has an entry "${name}" outside its folder; refusing to extract it.`,
    );
  }
  return parts.join(sep);
}

/**
 * Extracts a tar stream into `destDir`; returns the relative paths of the files written.
 * `archive` names the archive in errors.
 */
export async function extractTar(
  input: AsyncIterable<Uint8Array>,
  destDir: string,
  archive: string,
): Promise<string[]> {
  const reader = new ByteReader(input[Symbol.asyncIterator]());
  const root = resolve(destDir);
  const written: string[] = [];
  let longName: string | undefined;
  let zeroBlocks = 0;
  for (;;) {
    const header = await reader.read(BLOCK);
    if (header.length === 0) break; // end of stream at a block boundary
    if (header.length < BLOCK) {
      throw new CsqError(
        'CSQ_DATA_CORRUPT_ARCHIVE',
        `${archive} is truncated (a partial tar header); delete it and download it again.`,
      );
    }
    if (header.every((b) => b === 0)) {
      zeroBlocks += 1;
      if (zeroBlocks === 2) break;
      continue;
    }
    zeroBlocks = 0;
    if (!checksumOk(header, archive)) {
      throw new CsqError(
        'CSQ_DATA_CORRUPT_ARCHIVE',
        `${archive} is not a valid tar archive (header checksum mismatch); delete it and ` +
          `download it again.`,
      );
    }
    const size = octal(header, 124, 12, archive);
    const type = String.fromCharCode(header[156]!);
    const magic = text(header, 257, 6);
    const prefix = magic.startsWith('ustar') ? text(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    longName = undefined;
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    const truncated = () =>
      new CsqError(
        'CSQ_DATA_CORRUPT_ARCHIVE',
        `${archive} is truncated inside entry "${name}"; delete it and download it again.`,
      );

    if (type === 'L' || type === 'x') {
      const data = await reader.read(padded);
      if (data.length < padded) throw truncated();
      const body = new TextDecoder().decode(data.subarray(0, size));
      if (type === 'L') longName = body.replace(/\0.*$/s, '');
      else {
        const path = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body);
        if (path) longName = path[1];
      }
      continue;
    }
    const rel = type === '0' || type === '\0' || type === '5' ? safePath(name, archive) : undefined;
    if (type === '5' && rel) {
      await mkdir(join(root, rel), { recursive: true });
    }
    if ((type === '0' || type === '\0') && rel) {
      const target = join(root, rel);
      await mkdir(dirname(target), { recursive: true });
      const tmp = `${target}.part-${process.pid}`;
      const fh = await open(tmp, 'w');
      let done = false;
      try {
        const got = await reader.pipe(size, async (chunk) => {
          await fh.write(chunk);
        });
        if (got < size) throw truncated();
        await fh.close();
        await rename(tmp, target);
        done = true;
      } finally {
        if (!done) {
          await fh.close().catch(() => {});
          await rm(tmp, { force: true });
        }
      }
      written.push(rel);
      const pad = padded - size;
      if (pad > 0 && (await reader.read(pad)).length < pad) throw truncated();
    } else if (type !== '5') {
      // links, devices, global pax headers...: skipped
      if ((await reader.pipe(padded, () => {})) < padded) throw truncated();
    }
  }
  return written;
}
