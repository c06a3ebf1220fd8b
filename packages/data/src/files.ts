/**
 * Node file helpers shared by the loaders: finding a data file (plain or .gz), reading and
 * gunzipping it with errors that name the file.
 */

import { kMaxLength } from 'node:buffer';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, constants as zlibConstants } from 'node:zlib';
import { CsqError } from '@csq/core';

/** Throws CSQ_DATA_MISSING_DIR unless `dir` is an existing directory. */
export function assertDirectory(dir: string, what: string, hint: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new CsqError(
      'CSQ_DATA_MISSING_DIR',
      `${what} directory ${dir} does not exist or is not a directory; ${hint}`,
    );
  }
}

/**
 * Finds `name` or `name.gz` in `dir`; throws CSQ_DATA_MISSING_FILE naming both when neither
 * exists.
 */
export function findDataFile(dir: string, name: string, hint: string): string {
  const plain = join(dir, name);
  if (existsSync(plain)) return plain;
  const gz = `${plain}.gz`;
  if (existsSync(gz)) return gz;
  throw new CsqError(
    'CSQ_DATA_MISSING_FILE',
    `missing data file ${plain} (or ${name}.gz) in ${dir}; ${hint}`,
  );
}

/**
 * What a data file's header says its full (decompressed) size is: `bytes`, and `what` (for
 * example "its IDX header says [60000, 28, 28]") for the error when it is larger.
 */
export interface DeclaredSize {
  bytes: number;
  what: string;
}

/**
 * Reads the size a file declares from its first decompressed bytes: `peek(n)` returns up to `n`
 * of them (fewer only when the file is shorter). Undefined when the header is too short to say
 * (the parser then reports the truncation).
 */
export type SizeFromHeader = (peek: (n: number) => Uint8Array) => DeclaredSize | undefined;

/** Largest buffer Node can allocate: no declared size may pass it. */
const MAX_FILE_BYTES = kMaxLength;

function notGzip(file: string, err: unknown): CsqError {
  return new CsqError(
    'CSQ_DATA_CORRUPT_FILE',
    `${file} is not a valid gzip file (${(err as Error).message}); the download was probably ` +
      `cut short: delete it and download it again.`,
  );
}

/**
 * Up to `n` decompressed bytes from the start of gzip `bytes`, decompressing a growing prefix
 * (so at most about 1032 times the prefix length is ever produced, bomb or not).
 */
function gunzipHead(bytes: Uint8Array, n: number, file: string): Uint8Array {
  for (let take = 4096; ; take *= 4) {
    const prefix = bytes.subarray(0, Math.min(take, bytes.length));
    let out: Buffer;
    try {
      out = gunzipSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    } catch (err) {
      throw notGzip(file, err);
    }
    if (out.length >= n || prefix.length === bytes.length) return out.subarray(0, n);
  }
}

/**
 * Reads a file, gunzipping it when its name ends in .gz; errors name the file. With
 * `sizeFromHeader`, a gzipped file is decompressed only up to the size its header declares: more
 * is a `CSQ_DATA_BAD_SIZE` error ("larger than its header says"), in bounded memory.
 */
export function readDataFile(file: string, sizeFromHeader?: SizeFromHeader): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new CsqError(
      'CSQ_DATA_MISSING_FILE',
      `cannot read data file ${file}: ${(err as Error).message}`,
    );
  }
  if (!file.toLowerCase().endsWith('.gz')) {
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  const declared = sizeFromHeader?.((n) => gunzipHead(bytes, n, file));
  if (declared && declared.bytes > MAX_FILE_BYTES) {
    throw new CsqError(
      'CSQ_DATA_BAD_SIZE',
      `${file}: ${declared.what}, ${declared.bytes} bytes, more than the ${MAX_FILE_BYTES} ` +
        `bytes one file can hold in memory; it is damaged or not a data file of this kind.`,
    );
  }
  const maxOutputLength = declared?.bytes ?? MAX_FILE_BYTES;
  try {
    const raw = gunzipSync(bytes, { maxOutputLength: Math.max(maxOutputLength, 1) });
    return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE') throw notGzip(file, err);
    throw new CsqError(
      'CSQ_DATA_BAD_SIZE',
      declared
        ? `${file} is larger than its header says: ${declared.what} (${declared.bytes} bytes), ` +
            `but it decompresses to more; it is damaged or not a data file of this kind (a ` +
            `gzip bomb?): delete it and download it again.`
        : `${file} decompresses to more than ${MAX_FILE_BYTES} bytes; it is not a data file ` +
            `(a gzip bomb?): delete it.`,
    );
  }
}
