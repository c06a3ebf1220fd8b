/**
 * The manifest's structure (docs/packed-format.md, "Manifest"): every field checked, every
 * tensor's size and byte length computed and bounded by the caller's limits before any tensor
 * is allocated. Needs no tfjs.
 */
import { CsqError, MAX_BITS } from '@csq/core';
import {
  codesRegionBytes,
  PACKED_FORMAT_NAME,
  type PackedManifest,
  type PackedWeightEntry,
  reachOf,
  shapeSize,
} from './format.js';
import { limitError, type PackedLimits } from './limits.js';
import { RANS_MAX_SYMBOLS } from './rans.js';

/** Largest rank of a stored tensor. */
const MAX_RANK = 8;
/** Largest single dimension of a stored tensor. */
const MAX_DIM = 2 ** 31 - 1;

/** The CsqError of a manifest that is not what the format says. */
export function manifestError(message: string): CsqError {
  return new CsqError(
    'CSQ_PACKED_MANIFEST',
    `packed model manifest is invalid: ${message} The writer of this file is broken or the file ` +
      'was edited; export it again with `csq export`.',
  );
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x);

const isIntArray = (x: unknown, min: number, max: number): x is number[] =>
  Array.isArray(x) && x.every((v) => Number.isInteger(v) && v >= min && v <= max);

/** The smallest and largest byte length a codes region may have (equal unless rANS-coded). */
function codesLengths(
  raw: Record<string, unknown>,
  where: string,
  count: number,
  version: number,
): [number, number] {
  const { bits, scale, positions, levelCount, indexWidth, coding } = raw;
  if (!Number.isInteger(bits) || (bits as number) < 1 || (bits as number) > MAX_BITS) {
    throw manifestError(`${where} bits ${String(bits)} is not in 1..${MAX_BITS}.`);
  }
  const n = bits as number;
  if (typeof scale !== 'number' || !Number.isFinite(Math.fround(scale))) {
    throw manifestError(`${where} scale ${String(scale)} is not a finite float32 number.`);
  }
  if (
    !isIntArray(positions, 0, n - 1) ||
    positions.some((p, k) => k > 0 && p <= positions[k - 1]!)
  ) {
    throw manifestError(
      `${where} positions ${JSON.stringify(positions)} are not ascending bit positions < ${n}.`,
    );
  }
  const maxLevels = 2 * reachOf(positions, n) + 1;
  if (
    !Number.isInteger(levelCount) ||
    (levelCount as number) > Math.min(maxLevels, count) ||
    (levelCount as number) < (count > 0 ? 1 : 0)
  ) {
    throw manifestError(`${where} levelCount ${String(levelCount)} is impossible.`);
  }
  const lc = levelCount as number;
  const width = lc <= 1 ? 0 : Math.ceil(Math.log2(lc));
  if (indexWidth !== width) {
    throw manifestError(`${where} indexWidth ${String(indexWidth)} should be ${width}.`);
  }
  const sizes = codesRegionBytes(lc, n, count, width);
  const packed = sizes.codebook + sizes.indices;
  if (version < 2) {
    if (coding !== undefined) {
      throw manifestError(`${where} has "coding", which version 1 does not know.`);
    }
    return [packed, packed];
  }
  if (coding === 'packed') return [packed, packed];
  if (coding !== 'rans') {
    throw manifestError(`${where} coding ${JSON.stringify(coding)} is not "packed" or "rans".`);
  }
  if (lc < 2 || lc > RANS_MAX_SYMBOLS) {
    throw manifestError(
      `${where} is rANS-coded with ${lc} levels (2..${RANS_MAX_SYMBOLS} allowed).`,
    );
  }
  // codebook, one varint (1 or 2 bytes) per level, the 4-byte state; never more than packed
  return [sizes.codebook + lc + 4, packed - 1];
}

function checkShape(raw: Record<string, unknown>, where: string): number[] {
  const shape = raw['shape'];
  if (!isIntArray(shape, 0, MAX_DIM) || shape.length > MAX_RANK) {
    throw manifestError(
      `${where} shape ${JSON.stringify(shape)} is not a list of at most ${MAX_RANK} sizes.`,
    );
  }
  return shape;
}

function checkEntry(
  raw: unknown,
  i: number,
  expectOffset: number,
  version: number,
  limits: Required<PackedLimits>,
  total: number,
): PackedWeightEntry {
  if (!isObject(raw)) throw manifestError(`weights[${i}] is not an object.`);
  const name = raw['name'];
  const where = `weights[${i}] (${JSON.stringify(name)})`;
  if (typeof name !== 'string' || name === '') throw manifestError(`weights[${i}] has no name.`);
  const count = shapeSize(checkShape(raw, where));
  if (total + count > limits.maxElements) {
    throw limitError(
      `tensor ${where} brings the file's weights to ${total + count} values`,
      'maxElements',
    );
  }
  if (4 * (total + count) > limits.maxBytes) {
    throw limitError(
      `tensor ${where} brings the file's weights to ${4 * (total + count)} bytes as float32`,
      'maxBytes',
    );
  }
  const { offset, byteLength, encoding } = raw;
  if (offset !== expectOffset) {
    throw manifestError(
      `${where} starts at payload byte ${String(offset)}; tensors are stored back to back, so it ` +
        `must start at ${expectOffset}.`,
    );
  }
  let lengths: [number, number];
  if (encoding === 'float32') lengths = [4 * count, 4 * count];
  else if (encoding === 'codes') lengths = codesLengths(raw, where, count, version);
  else {
    throw manifestError(
      `${where} encoding ${JSON.stringify(encoding)} is unknown (this loader knows "codes" and ` +
        '"float32"); a newer csq may have written it: upgrade @csq/loader.',
    );
  }
  if (
    !Number.isInteger(byteLength) ||
    (byteLength as number) < lengths[0] ||
    (byteLength as number) > lengths[1]
  ) {
    throw manifestError(
      `${where} byteLength ${String(byteLength)} should be ` +
        (lengths[0] === lengths[1] ? `${lengths[0]}.` : `in ${lengths[0]}..${lengths[1]}.`),
    );
  }
  return raw as unknown as PackedWeightEntry;
}

/** Parses and checks a manifest's JSON text; every tensor bounded by `limits`. */
export function parseManifest(
  text: string,
  payloadLength: number,
  version: number,
  limits: Required<PackedLimits>,
): PackedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw manifestError(`it is not JSON (${(e as Error).message}).`);
  }
  if (!isObject(raw)) throw manifestError('it is not a JSON object.');
  if (raw['format'] !== PACKED_FORMAT_NAME) {
    throw manifestError(
      `"format" is ${JSON.stringify(raw['format'])}, not "${PACKED_FORMAT_NAME}".`,
    );
  }
  const topology = raw['topology'];
  if (!isObject(topology) || typeof topology['class_name'] !== 'string') {
    throw manifestError('"topology" is not a tfjs-layers model topology (no class_name).');
  }
  if (raw['meta'] !== undefined && !isObject(raw['meta'])) {
    throw manifestError('"meta" is not an object.');
  }
  const weights = raw['weights'];
  if (!Array.isArray(weights)) throw manifestError('"weights" is not a list.');
  let offset = 0;
  let total = 0;
  weights.forEach((w, i) => {
    const e = checkEntry(w, i, offset, version, limits, total);
    offset += e.byteLength;
    total += shapeSize(e.shape);
  });
  if (offset !== payloadLength) {
    throw manifestError(`its tensors take ${offset} bytes but the payload has ${payloadLength}.`);
  }
  return raw as unknown as PackedManifest;
}
