/**
 * Node file helpers shared by the loaders: finding a data file (plain or .gz), reading and
 * gunzipping it with errors that name the file.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
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

/** Reads a file, gunzipping it when its name ends in .gz; errors name the file. */
export function readDataFile(file: string): Uint8Array {
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
  try {
    const raw = gunzipSync(bytes);
    return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  } catch (err) {
    throw new CsqError(
      'CSQ_DATA_CORRUPT_FILE',
      `${file} is not a valid gzip file (${(err as Error).message}); the download was probably ` +
        `cut short: delete it and download it again.`,
    );
  }
}
