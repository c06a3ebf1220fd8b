/**
 * The page's data asset: the quickstart's train and held-out splits of the embedded MNIST digits
 * (`@csq/data/node`'s `loadMnistEmbedded()`, seed 0) as one compact binary file, gzip-compressed
 * (1.5 MB instead of the 8 MB of raw pixels, and far less than the package's JSON).
 *
 * Layout (little-endian): 8 bytes magic "CSQDIGIT", u32 version (1), u32 train count, u32 test
 * count, u16 height, u16 width, u8 channels, u8 classes, 10 bytes zero; then the train pixels
 * (uint8 NHWC), the test pixels, the train labels (uint8) and the test labels (uint8).
 */
import { CsqError } from '@csq/core';
import type { ImageSet } from '@csq/data';

/** The asset's file name under the page's base URL. */
export const DIGITS_ASSET = 'mnist-digits.csqd';
const MAGIC = 'CSQDIGIT';
const VERSION = 1;
const HEADER_BYTES = 32;

/** Train and held-out image sets, as the quickstart splits them. */
export interface DigitSplits {
  train: ImageSet;
  test: ImageSet;
}

/** Encodes the two splits (uncompressed; the build script gzips the result). */
export function encodeDigits({ train, test }: DigitSplits): Uint8Array {
  const { height, width, channels, numClasses } = train;
  if (
    test.height !== height ||
    test.width !== width ||
    test.channels !== channels ||
    test.numClasses !== numClasses ||
    numClasses > 256
  ) {
    throw new CsqError(
      'CSQ_DIGITS_SHAPES',
      'the train and test sets must have the same image shape and at most 256 classes.',
    );
  }
  const stride = height * width * channels;
  const out = new Uint8Array(HEADER_BYTES + (train.count + test.count) * (stride + 1));
  const view = new DataView(out.buffer);
  for (let i = 0; i < MAGIC.length; i++) out[i] = MAGIC.charCodeAt(i);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, train.count, true);
  view.setUint32(16, test.count, true);
  view.setUint16(20, height, true);
  view.setUint16(22, width, true);
  out[24] = channels;
  out[25] = numClasses;
  let at = HEADER_BYTES;
  for (const set of [train, test]) {
    out.set(set.images.subarray(0, set.count * stride), at);
    at += set.count * stride;
  }
  for (const set of [train, test]) {
    for (let i = 0; i < set.count; i++) out[at++] = set.labels[i]!;
  }
  return out;
}

function corrupt(what: string): never {
  throw new CsqError(
    'CSQ_DIGITS_CORRUPT',
    `the digits asset ${DIGITS_ASSET} is not valid (${what}); rebuild the page ` +
      '(pnpm --filter @csq/app-playground build) so that it is written again.',
  );
}

/** Decodes the asset written by `encodeDigits` (after decompression). */
export function decodeDigits(bytes: Uint8Array): DigitSplits {
  if (bytes.length < HEADER_BYTES) corrupt(`${bytes.length} bytes, shorter than its header`);
  const magic = String.fromCharCode(...bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC) corrupt(`it starts with "${magic}", not "${MAGIC}"`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) corrupt(`version ${version}; this page reads version ${VERSION}`);
  const trainCount = view.getUint32(12, true);
  const testCount = view.getUint32(16, true);
  const height = view.getUint16(20, true);
  const width = view.getUint16(22, true);
  const channels = bytes[24]!;
  const numClasses = bytes[25]!;
  const stride = height * width * channels;
  const want = HEADER_BYTES + (trainCount + testCount) * (stride + 1);
  if (bytes.length !== want) corrupt(`${bytes.length} bytes where the header implies ${want}`);
  const shape = { height, width, channels, numClasses };
  const labelsAt = HEADER_BYTES + (trainCount + testCount) * stride;
  const set = (count: number, pixelsAt: number, labelAt: number): ImageSet => {
    const labels = Int32Array.from(bytes.subarray(labelAt, labelAt + count));
    for (const l of labels) if (l >= numClasses) corrupt(`label ${l} of ${numClasses} classes`);
    return {
      images: bytes.slice(pixelsAt, pixelsAt + count * stride),
      labels,
      count,
      ...shape,
    };
  };
  return {
    train: set(trainCount, HEADER_BYTES, labelsAt),
    test: set(testCount, HEADER_BYTES + trainCount * stride, labelsAt + trainCount),
  };
}

/** True for gzip data (magic 1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Fetches and decodes the asset in a browser or worker: gunzips with `DecompressionStream`
 * unless the server already did (Content-Encoding).
 */
export async function fetchDigits(url: string): Promise<DigitSplits> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new CsqError(
      'CSQ_DIGITS_FETCH',
      `could not fetch the digits from ${url} (${(e as Error).message}); serve the built page ` +
        'with pnpm playground (or any static server) and reload.',
    );
  }
  if (!response.ok) {
    throw new CsqError(
      'CSQ_DIGITS_FETCH',
      `fetching ${url} answered ${response.status} ${response.statusText}; the page was built ` +
        'without its data: run pnpm playground (it builds the asset first).',
    );
  }
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (isGzip(bytes)) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  }
  return decodeDigits(bytes);
}
