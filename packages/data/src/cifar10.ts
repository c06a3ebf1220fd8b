/**
 * CIFAR-10 binary batches (Node): `data_batch_1.bin` .. `data_batch_5.bin` and
 * `test_batch.bin`, each a run of 3073-byte records (one label byte, then 1024 red, 1024 green
 * and 1024 blue bytes of a 32x32 image, rows top to bottom), converted to NHWC.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { CIFAR10_CLASSES, CIFAR10_MEAN, CIFAR10_STD } from './augment.js';
import { assertDirectory, readDataFile } from './files.js';
import { arraySource, type DataSplits, type ImageSet } from './source.js';

/** Bytes per CIFAR-10 record: 1 label byte + 3 * 32 * 32 pixels. */
export const CIFAR10_RECORD_BYTES = 3073;
/** The training batch files, in order. */
export const CIFAR10_TRAIN_FILES: readonly string[] = Object.freeze(
  [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`),
);
/** The test batch file. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';
/** The folder the official tarball extracts to. */
export const CIFAR10_SUBDIR = 'cifar-10-batches-bin';

const HINT =
  'a cifar10:DIR data set needs data_batch_1.bin .. data_batch_5.bin and test_batch.bin ' +
  `(the CIFAR-10 binary version) in DIR or DIR/${CIFAR10_SUBDIR}; ` +
  "download({ dataset: 'cifar10', dir }) (csq train --download) fetches them.";

/**
 * Converts CIFAR-10 records to an ImageSet (NHWC, 32x32x3); `file` names the file in errors.
 * Checks the record size and that every label is 0..9.
 */
export function parseCifar10Batch(bytes: Uint8Array, file: string): ImageSet {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new CsqError(
      bytes.length === 0 ? 'CSQ_DATA_EMPTY' : 'CSQ_DATA_BAD_SIZE',
      `${file} is ${bytes.length} bytes, not a whole positive number of ` +
        `${CIFAR10_RECORD_BYTES}-byte CIFAR-10 records (1 label byte + 3072 pixels); the file ` +
        `is truncated or not a CIFAR-10 binary batch (CIFAR-100 has 2 label bytes).`,
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  for (let r = 0; r < count; r++) {
    const rec = r * CIFAR10_RECORD_BYTES;
    const label = bytes[rec]!;
    if (label > 9) {
      throw new CsqError(
        'CSQ_DATA_BAD_LABEL',
        `${file}: record ${r} (byte ${rec}) has label ${label}, outside 0..9; the file is ` +
          `corrupt or not a CIFAR-10 batch.`,
      );
    }
    labels[r] = label;
    const out = r * 3072;
    for (let p = 0; p < 1024; p++) {
      images[out + 3 * p] = bytes[rec + 1 + p]!;
      images[out + 3 * p + 1] = bytes[rec + 1025 + p]!;
      images[out + 3 * p + 2] = bytes[rec + 2049 + p]!;
    }
  }
  return {
    images,
    labels,
    count,
    height: 32,
    width: 32,
    channels: 3,
    numClasses: 10,
    classNames: CIFAR10_CLASSES.slice(),
  };
}

/** Concatenates same-shape image sets. */
function concatSets(sets: ImageSet[]): ImageSet {
  const first = sets[0]!;
  const count = sets.reduce((a, s) => a + s.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * 3072);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { ...first, images, labels, count };
}

/** The folder holding the batches: `dir` itself or its `cifar-10-batches-bin` subfolder. */
export function resolveCifar10Dir(dir: string): string {
  assertDirectory(dir, 'CIFAR-10 data', HINT);
  if (existsSync(join(dir, CIFAR10_TRAIN_FILES[0]!))) return dir;
  const sub = join(dir, CIFAR10_SUBDIR);
  if (existsSync(join(sub, CIFAR10_TRAIN_FILES[0]!))) return sub;
  return dir;
}

function readBatch(dir: string, name: string): ImageSet {
  const file = join(dir, name);
  if (!existsSync(file)) {
    throw new CsqError('CSQ_DATA_MISSING_FILE', `missing data file ${file}; ${HINT}`);
  }
  return parseCifar10Batch(readDataFile(file), file);
}

/**
 * Loads CIFAR-10 from its binary batches in `dir` (or `dir/cifar-10-batches-bin`): 50,000
 * training and 10,000 test images of 32x32x3, labels 0..9, with the CIFAR-10 normalisation
 * constants.
 */
export function loadCifar10(dir: string): DataSplits {
  const base = resolveCifar10Dir(dir);
  const train = concatSets(CIFAR10_TRAIN_FILES.map((name) => readBatch(base, name)));
  const test = readBatch(base, CIFAR10_TEST_FILE);
  return {
    name: `cifar10:${dir}`,
    train: arraySource(train),
    test: arraySource(test),
    mean: CIFAR10_MEAN.slice(),
    std: CIFAR10_STD.slice(),
  };
}
