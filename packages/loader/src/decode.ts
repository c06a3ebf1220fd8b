/**
 * Reader of the packed format (docs/packed-format.md): checks every byte (magic, version,
 * lengths, CRC-32 of header, manifest and payload, then the manifest's structure) before it
 * trusts any of them, and throws a CsqError that names what is wrong. Needs no tfjs.
 */
import {
  CsqError,
  codesToWeights,
  crc32,
  decodeLayerCodes,
  MAX_BITS,
  maxCode,
  unpackBits,
} from '@csq/core';
import {
  codesRegionBytes,
  type DecodedPackedModel,
  type DecodedWeight,
  HEADER,
  PACKED_FORMAT_NAME,
  PACKED_FORMAT_VERSION,
  PACKED_HEADER_BYTES,
  PACKED_MAGIC,
  type PackedCodesEntry,
  type PackedManifest,
  type PackedWeightEntry,
  reachOf,
  representable,
  shapeSize,
} from './format.js';

const AGAIN = 'Export or download the file again.';

const hex = (x: number) => `0x${x.toString(16).padStart(8, '0')}`;

function corrupt(code: string, message: string): CsqError {
  return new CsqError(code, message);
}

/** The header fields of a packed file (after its magic, version and CRC have been checked). */
export interface PackedHeader {
  version: number;
  manifestLength: number;
  payloadLength: number;
  manifestCrc: number;
  payloadCrc: number;
}

function asBytes(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) {
    const v = bytes as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new CsqError(
    'CSQ_PACKED_SOURCE',
    `expected the bytes of a packed model (Uint8Array or ArrayBuffer), got ${typeof bytes}.`,
  );
}

/** Checks magic, version, header CRC and section lengths; returns the header. */
export function readPackedHeader(input: Uint8Array | ArrayBuffer): PackedHeader {
  const bytes = asBytes(input);
  const magicLen = Math.min(bytes.length, PACKED_MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (bytes[i] !== PACKED_MAGIC[i]) {
      const seen = Array.from(bytes.subarray(0, magicLen), (b) => b.toString(16).padStart(2, '0'));
      const looksJson = bytes[0] === 0x7b; // "{"
      throw corrupt(
        'CSQ_PACKED_MAGIC',
        `not a csq packed model: it starts with bytes ${seen.join(' ')} instead of the magic ` +
          `89 43 53 51 50 0d 0a 1a ("\\x89CSQP\\r\\n\\x1a").` +
          (looksJson
            ? ' It looks like JSON (a tfjs model.json?): load that with tf.loadLayersModel instead.'
            : ' Pass the .csqp file written by `csq export` (a file moved in text mode is damaged too).'),
      );
    }
  }
  if (bytes.length < PACKED_HEADER_BYTES) {
    throw corrupt(
      'CSQ_PACKED_TRUNCATED',
      `packed model truncated: ${bytes.length} bytes, shorter than the ${PACKED_HEADER_BYTES}-byte ` +
        `header. ${AGAIN}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(HEADER.version, true);
  if (version !== PACKED_FORMAT_VERSION) {
    throw corrupt(
      'CSQ_PACKED_VERSION',
      version > PACKED_FORMAT_VERSION
        ? `packed model has format version ${version}, newer than this loader reads ` +
            `(${PACKED_FORMAT_VERSION}): upgrade @csq/loader, or export with the csq version ` +
            'that matches it. (If no newer csq wrote this file, the file is damaged.)'
        : `packed model has format version ${version}, which does not exist (versions start at ` +
            `1): the file is damaged. ${AGAIN}`,
    );
  }
  const storedHeaderCrc = view.getUint32(HEADER.headerCrc, true);
  const headerCrc = crc32(bytes, 0, HEADER.headerCrc);
  if (storedHeaderCrc !== headerCrc) {
    throw corrupt(
      'CSQ_PACKED_CHECKSUM',
      `packed model header is corrupt: its CRC-32 is ${hex(headerCrc)} but the file says ` +
        `${hex(storedHeaderCrc)}. ${AGAIN}`,
    );
  }
  const header: PackedHeader = {
    version,
    manifestLength: view.getUint32(HEADER.manifestLength, true),
    payloadLength: view.getUint32(HEADER.payloadLength, true),
    manifestCrc: view.getUint32(HEADER.manifestCrc, true),
    payloadCrc: view.getUint32(HEADER.payloadCrc, true),
  };
  const want = PACKED_HEADER_BYTES + header.manifestLength + header.payloadLength;
  if (bytes.length < want) {
    throw corrupt(
      'CSQ_PACKED_TRUNCATED',
      `packed model truncated: ${bytes.length} bytes but its header says ${want} ` +
        `(${PACKED_HEADER_BYTES} header + ${header.manifestLength} manifest + ` +
        `${header.payloadLength} weights); the download or copy was cut short. ${AGAIN}`,
    );
  }
  if (bytes.length > want) {
    throw corrupt(
      'CSQ_PACKED_LENGTH',
      `packed model has ${bytes.length - want} unexpected bytes after its end (file ${bytes.length} ` +
        `bytes, header says ${want}); it was appended to or is not one packed model. ${AGAIN}`,
    );
  }
  return header;
}

function manifestError(message: string): CsqError {
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

function checkEntry(raw: unknown, i: number, expectOffset: number): PackedWeightEntry {
  if (!isObject(raw)) throw manifestError(`weights[${i}] is not an object.`);
  const name = raw['name'];
  const where = `weights[${i}] (${JSON.stringify(name)})`;
  if (typeof name !== 'string' || name === '') throw manifestError(`weights[${i}] has no name.`);
  const shape = raw['shape'];
  if (!isIntArray(shape, 0, Number.MAX_SAFE_INTEGER)) {
    throw manifestError(`${where} shape ${JSON.stringify(shape)} is not a list of sizes.`);
  }
  const count = shapeSize(shape);
  const { offset, byteLength, encoding } = raw;
  if (offset !== expectOffset) {
    throw manifestError(
      `${where} starts at payload byte ${String(offset)}; tensors are stored back to back, so it ` +
        `must start at ${expectOffset}.`,
    );
  }
  let expectLength: number;
  if (encoding === 'float32') {
    expectLength = 4 * count;
  } else if (encoding === 'codes') {
    const { bits, scale, positions, levelCount, indexWidth } = raw;
    if (!Number.isInteger(bits) || (bits as number) < 1 || (bits as number) > MAX_BITS) {
      throw manifestError(`${where} bits ${String(bits)} is not in 1..${MAX_BITS}.`);
    }
    const n = bits as number;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) {
      throw manifestError(`${where} scale ${String(scale)} is not a finite number.`);
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
    expectLength = sizes.codebook + sizes.indices;
  } else {
    throw manifestError(
      `${where} encoding ${JSON.stringify(encoding)} is unknown (this loader knows "codes" and ` +
        '"float32"); a newer csq may have written it: upgrade @csq/loader.',
    );
  }
  if (byteLength !== expectLength) {
    throw manifestError(`${where} byteLength ${String(byteLength)} should be ${expectLength}.`);
  }
  return raw as unknown as PackedWeightEntry;
}

function parseManifest(text: string, payloadLength: number): PackedManifest {
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
  weights.forEach((w, i) => {
    offset += checkEntry(w, i, offset).byteLength;
  });
  if (offset !== payloadLength) {
    throw manifestError(`its tensors take ${offset} bytes but the payload has ${payloadLength}.`);
  }
  return raw as unknown as PackedManifest;
}

function decodeCodes(e: PackedCodesEntry, region: Uint8Array, i: number): DecodedWeight {
  const count = shapeSize(e.shape);
  const sizes = codesRegionBytes(e.levelCount, e.bits, count, e.indexWidth);
  const q = maxCode(e.bits);
  const shifted = unpackBits(region.subarray(0, sizes.codebook), e.bits + 1, e.levelCount);
  const levels = new Int32Array(e.levelCount);
  for (let k = 0; k < e.levelCount; k++) {
    const l = shifted[k]! - q;
    if (!representable(l, e.positions, e.bits) || (k > 0 && l <= levels[k - 1]!)) {
      throw manifestError(
        `weights[${i}] ("${e.name}") codebook entry ${k} = ${l} is out of order or not reachable ` +
          `with positions [${e.positions.join(', ')}].`,
      );
    }
    levels[k] = l;
  }
  let codes: Int32Array;
  try {
    codes = decodeLayerCodes({
      levels,
      width: e.indexWidth,
      data: region.subarray(sizes.codebook),
      count,
    });
  } catch (err) {
    throw manifestError(`weights[${i}] ("${e.name}"): ${(err as Error).message}`);
  }
  return {
    name: e.name,
    shape: [...e.shape],
    encoding: 'codes',
    values: codesToWeights(codes, e.scale, e.bits),
    codes,
    bits: e.bits,
    scale: e.scale,
    positions: [...e.positions],
  };
}

function decodeFloat32(e: PackedWeightEntry, bytes: Uint8Array, start: number): DecodedWeight {
  const count = shapeSize(e.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, e.byteLength);
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) values[k] = view.getFloat32(4 * k, true);
  return { name: e.name, shape: [...e.shape], encoding: 'float32', values };
}

/** Checks the file completely and returns its header and manifest (weights not decoded). */
export function readPackedManifest(input: Uint8Array | ArrayBuffer): {
  header: PackedHeader;
  manifest: PackedManifest;
} {
  const bytes = asBytes(input);
  const header = readPackedHeader(bytes);
  const manifestStart = PACKED_HEADER_BYTES;
  const payloadStart = manifestStart + header.manifestLength;
  const manifestCrc = crc32(bytes, manifestStart, payloadStart);
  if (manifestCrc !== header.manifestCrc) {
    throw corrupt(
      'CSQ_PACKED_CHECKSUM',
      `packed model manifest (bytes ${manifestStart}..${payloadStart - 1}) is corrupt: its CRC-32 ` +
        `is ${hex(manifestCrc)} but the header says ${hex(header.manifestCrc)}. ${AGAIN}`,
    );
  }
  const payloadCrc = crc32(bytes, payloadStart, bytes.length);
  if (payloadCrc !== header.payloadCrc) {
    throw corrupt(
      'CSQ_PACKED_CHECKSUM',
      `packed model weights (bytes ${payloadStart}..${bytes.length - 1}) are corrupt: their ` +
        `CRC-32 is ${hex(payloadCrc)} but the header says ${hex(header.payloadCrc)}. ${AGAIN}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(manifestStart, payloadStart),
    );
  } catch {
    throw manifestError('it is not valid UTF-8.');
  }
  return { header, manifest: parseManifest(text, header.payloadLength) };
}

/**
 * Reads a packed model: validates magic, version, lengths, the CRC-32 of every section and the
 * manifest, then dequantizes every tensor (codes: scale * code / (2^N - 1) in float32, exactly
 * as @csq/core `codesToWeights`; spec 1). Throws a CsqError (codes CSQ_PACKED_*) on any damage.
 */
export function decodePackedModel(input: Uint8Array | ArrayBuffer): DecodedPackedModel {
  const bytes = asBytes(input);
  const { header, manifest } = readPackedManifest(bytes);
  const payloadStart = PACKED_HEADER_BYTES + header.manifestLength;
  const weights = manifest.weights.map((e, i) => {
    const start = payloadStart + e.offset;
    if (e.encoding === 'codes') {
      return decodeCodes(e, bytes.subarray(start, start + e.byteLength), i);
    }
    return decodeFloat32(e, bytes, start);
  });
  return { topology: manifest.topology, weights, meta: manifest.meta, manifest };
}
