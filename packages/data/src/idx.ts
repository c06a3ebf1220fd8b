/**
 * The MNIST IDX format (Node): `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each plain or gzipped. An IDX file is a
 * big-endian 32-bit magic number (0, 0, type 0x08 = unsigned byte, number of dimensions), one
 * big-endian 32-bit size per dimension, then the values.
 */
import { CsqError } from '@csq/core';
import { assertDirectory, type DeclaredSize, findDataFile, readDataFile } from './files.js';
import { arraySource, type DataSplits, type ImageSet } from './source.js';

/** Magic number of an IDX file of unsigned-byte images [count, rows, cols] (0x00000803). */
export const IDX_IMAGES_MAGIC = 2051;
/** Magic number of an IDX file of unsigned-byte labels [count] (0x00000801). */
export const IDX_LABELS_MAGIC = 2049;

/** The four file names of an IDX data set (each may also end in .gz). */
export const IDX_FILES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

const HINT =
  'an idx:DIR data set needs train-images-idx3-ubyte, train-labels-idx1-ubyte, ' +
  't10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (plain or .gz) in DIR; ' +
  "download({ dataset: 'mnist', dir }) (csq train --download) fetches MNIST.";

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Throws unless `bytes` start with the 4-byte IDX `magic`. */
function checkMagic(bytes: Uint8Array, magic: number, file: string): void {
  const kind = magic === IDX_IMAGES_MAGIC ? 'image' : 'label';
  if (bytes.length < 4) {
    throw new CsqError(
      'CSQ_DATA_TRUNCATED',
      `${file} is truncated: ${bytes.length} bytes, less than the 4-byte IDX magic number.`,
    );
  }
  const found = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  if (found !== magic) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
    throw new CsqError(
      'CSQ_DATA_BAD_MAGIC',
      `${file} has magic number ${found} (${hex(found)}), expected ${magic} (${hex(magic)}) ` +
        `for an IDX ${kind} file` +
        (gz
          ? '; it is gzip-compressed: give it a .gz extension.'
          : '; check that the right file is under this name.'),
    );
  }
}

/**
 * Parses IDX bytes that must carry `magic` (2051 images, 2049 labels); checks the header, the
 * dimensions and that the file holds exactly their product of values. `file` names the file in
 * errors.
 */
export function parseIdx(
  bytes: Uint8Array,
  magic: number,
  file: string,
): { dims: number[]; data: Uint8Array } {
  checkMagic(bytes, magic, file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ndims = bytes[3]!;
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new CsqError(
      'CSQ_DATA_TRUNCATED',
      `${file} is truncated: ${bytes.length} bytes, less than its ${headerBytes}-byte IDX header.`,
    );
  }
  const dims: number[] = [];
  for (let d = 0; d < ndims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'is truncated' : 'has extra bytes';
    throw new CsqError(
      bytes.length < expected ? 'CSQ_DATA_TRUNCATED' : 'CSQ_DATA_BAD_SIZE',
      `${file} ${what}: its header says [${dims.join(', ')}] so the file should be ` +
        `${expected} bytes, but it is ${bytes.length}; download it again.`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * The size an IDX file declares (header plus the product of its dimensions), read from its first
 * bytes; a gzipped IDX file is never decompressed past it.
 */
function idxDeclaredSize(
  peek: (n: number) => Uint8Array,
  magic: number,
  file: string,
): DeclaredSize | undefined {
  const head = peek(4);
  if (head.length < 4) return undefined;
  checkMagic(head, magic, file);
  const headerBytes = 4 + 4 * head[3]!;
  const header = peek(headerBytes);
  if (header.length < headerBytes) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const dims: number[] = [];
  for (let d = 4; d < headerBytes; d += 4) dims.push(view.getUint32(d, false));
  return {
    bytes: headerBytes + dims.reduce((a, b) => a * b, 1),
    what: `its IDX header says [${dims.join(', ')}]`,
  };
}

function readIdxFile(file: string, magic: number): Uint8Array {
  return readDataFile(file, (peek) => idxDeclaredSize(peek, magic, file));
}

/** Reads an IDX image file (magic 2051, dims [count, rows, cols]). */
export function readIdxImages(file: string): {
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
} {
  const { dims, data } = parseIdx(readIdxFile(file, IDX_IMAGES_MAGIC), IDX_IMAGES_MAGIC, file);
  const [count, height, width] = dims as [number, number, number];
  if (dims.length !== 3 || height < 1 || width < 1) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `${file} has dimensions [${dims.join(', ')}]; an IDX image file needs [count, rows, cols] ` +
        `with rows, cols >= 1.`,
    );
  }
  return { images: data, count, height, width };
}

/** Reads an IDX label file (magic 2049, dims [count]). */
export function readIdxLabels(file: string): Int32Array {
  const { dims, data } = parseIdx(readIdxFile(file, IDX_LABELS_MAGIC), IDX_LABELS_MAGIC, file);
  if (dims.length !== 1) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `${file} has dimensions [${dims.join(', ')}]; an IDX label file needs [count].`,
    );
  }
  return Int32Array.from(data);
}

/** Options of {@link loadIdx}. */
export interface IdxOptions {
  /** Number of classes; default: 1 + the largest training label. Labels must be below it. */
  numClasses?: number;
}

function readPair(dir: string, imagesName: string, labelsName: string) {
  const imagesFile = findDataFile(dir, imagesName, HINT);
  const labelsFile = findDataFile(dir, labelsName, HINT);
  const images = readIdxImages(imagesFile);
  const labels = readIdxLabels(labelsFile);
  if (labels.length !== images.count) {
    throw new CsqError(
      'CSQ_DATA_COUNT_MISMATCH',
      `${imagesFile} holds ${images.count} images but ${labelsFile} holds ${labels.length} ` +
        `labels; they must match (files from different data sets or a bad download).`,
    );
  }
  return { ...images, labels, imagesFile, labelsFile };
}

function checkLabels(labels: Int32Array, numClasses: number, file: string, why: string): void {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]! >= numClasses) {
      throw new CsqError(
        'CSQ_DATA_BAD_LABEL',
        `${file}: label ${labels[i]} of example ${i} is outside 0..${numClasses - 1} (${why}).`,
      );
    }
  }
}

/** Per-channel mean and standard deviation of x/255 over every pixel of a set. */
export function pixelStats(set: ImageSet): { mean: number[]; std: number[] } {
  const c = set.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  // histogram per channel: exact and fast
  const hist = new Float64Array(256 * c);
  for (let i = 0, k = 0; i < set.images.length; i++) {
    hist[set.images[i]! * c + k]! += 1;
    k = k + 1 === c ? 0 : k + 1;
  }
  const n = set.images.length / c;
  for (let k = 0; k < c; k++) {
    for (let v = 0; v < 256; v++) {
      const count = hist[v * c + k]!;
      sum[k]! += (count * v) / 255;
      sq[k]! += (count * v * v) / (255 * 255);
    }
  }
  const mean = Array.from(sum, (s) => (n > 0 ? s / n : 0));
  const std = Array.from(sq, (s, k) => {
    const variance = n > 0 ? s / n - mean[k]! ** 2 : 0;
    return Math.sqrt(Math.max(variance, 0)) || 1;
  });
  return { mean, std };
}

/**
 * Loads an IDX data set from `dir` (MNIST, Fashion-MNIST, KMNIST...): train from
 * `train-*`, test from `t10k-*`, each plain or .gz. Validates magic numbers, dimensions, file
 * sizes, image/label counts and label ranges; mean and std are measured on the training pixels.
 */
export function loadIdx(dir: string, opts: IdxOptions = {}): DataSplits {
  assertDirectory(dir, 'IDX data', HINT);
  const train = readPair(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels);
  const test = readPair(dir, IDX_FILES.testImages, IDX_FILES.testLabels);
  if (train.height !== test.height || train.width !== test.width) {
    throw new CsqError(
      'CSQ_DATA_BAD_SHAPE',
      `${train.imagesFile} has ${train.height}x${train.width} images but ${test.imagesFile} ` +
        `${test.height}x${test.width}; train and test images must have the same size.`,
    );
  }
  if (train.count < 1) {
    throw new CsqError('CSQ_DATA_EMPTY', `${train.imagesFile} holds no images.`);
  }
  let numClasses = opts.numClasses;
  if (numClasses === undefined) {
    numClasses = 1 + train.labels.reduce((a, b) => Math.max(a, b), 0);
    checkLabels(test.labels, numClasses, test.labelsFile, 'the classes seen in training');
  } else {
    if (!Number.isInteger(numClasses) || numClasses < 1 || numClasses > 256) {
      throw new CsqError(
        'CSQ_DATA_BAD_COUNT',
        `numClasses must be an integer from 1 to 256, got ${String(numClasses)}.`,
      );
    }
    checkLabels(train.labels, numClasses, train.labelsFile, `numClasses is ${numClasses}`);
    checkLabels(test.labels, numClasses, test.labelsFile, `numClasses is ${numClasses}`);
  }
  const toSet = (p: typeof train): ImageSet => ({
    images: p.images,
    labels: p.labels,
    count: p.count,
    height: p.height,
    width: p.width,
    channels: 1,
    numClasses: numClasses!,
  });
  const trainSet = toSet(train);
  const { mean, std } = pixelStats(trainSet);
  return {
    name: `idx:${dir}`,
    train: arraySource(trainSet),
    test: arraySource(toSet(test)),
    mean,
    std,
  };
}
