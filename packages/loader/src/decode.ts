/**
 * Reader of the packed format (docs/packed-format.md), versions 1 and 2: checks every byte
 * (magic, version, lengths, CRC-32 of header, manifest and payload, then the manifest's
 * structure and sizes against the caller's limits) before it trusts any of them, and throws a
 * CsqError that names what is wrong. Needs no tfjs.
 */
import { CsqError, codesToWeights, crc32, decodeLayerCodes, maxCode, unpackBits } from '@csq/core';
import {
  codesRegionBytes,
  type DecodedPackedModel,
  type DecodedWeight,
  HEADER,
  PACKED_FORMAT_VERSION,
  PACKED_FORMAT_VERSIONS,
  PACKED_HEADER_BYTES,
  PACKED_MAGIC,
  type PackedCodesEntry,
  type PackedManifest,
  type PackedWeightEntry,
  representableTest,
  shapeSize,
} from './format.js';
import { limitError, type PackedLimits, resolveLimits } from './limits.js';
import { manifestError, parseManifest } from './manifest.js';
import { inflateManifest } from './manifest-codec.js';
import { ransDecode, readVarint } from './rans.js';

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
  if (!PACKED_FORMAT_VERSIONS.includes(version)) {
    throw corrupt(
      'CSQ_PACKED_VERSION',
      version > PACKED_FORMAT_VERSION
        ? `packed model has format version ${version}, newer than this loader reads ` +
            `(${PACKED_FORMAT_VERSIONS.join(', ')}): upgrade @csq/loader, or export with the csq ` +
            'version that matches it. (If no newer csq wrote this file, the file is damaged.)'
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

/** The codes of a `codes` tensor (validated codebook, indices decoded per the entry's coding). */
export function decodeCodesOf(e: PackedCodesEntry, region: Uint8Array, i: number): Int32Array {
  const count = shapeSize(e.shape);
  const where = `weights[${i}] ("${e.name}")`;
  const sizes = codesRegionBytes(e.levelCount, e.bits, count, e.indexWidth);
  const q = maxCode(e.bits);
  const shifted = unpackBits(region.subarray(0, sizes.codebook), e.bits + 1, e.levelCount);
  const levels = new Int32Array(e.levelCount);
  const reachable = representableTest(e.positions, e.bits);
  for (let k = 0; k < e.levelCount; k++) {
    const l = shifted[k]! - q;
    if ((k > 0 && l <= levels[k - 1]!) || !reachable(l)) {
      throw manifestError(
        `${where} codebook entry ${k} = ${l} is out of order or not reachable with positions ` +
          `[${e.positions.join(', ')}].`,
      );
    }
    levels[k] = l;
  }
  const indices = region.subarray(sizes.codebook);
  try {
    if (e.coding !== 'rans') {
      return decodeLayerCodes({ levels, width: e.indexWidth, data: indices, count });
    }
    const freqs = new Uint32Array(e.levelCount);
    let at = 0;
    for (let k = 0; k < e.levelCount; k++) [freqs[k], at] = readVarint(indices, at, where);
    const symbols = ransDecode(indices.subarray(at), freqs, count, where);
    const codes = new Int32Array(count);
    for (let k = 0; k < count; k++) codes[k] = levels[symbols[k]!]!;
    return codes;
  } catch (err) {
    if (err instanceof CsqError && err.code === 'CSQ_PACKED_MANIFEST') throw err;
    throw manifestError(`${where}: ${(err as Error).message}`);
  }
}

function decodeFloat32(e: PackedWeightEntry, region: Uint8Array, i: number): Float32Array {
  const count = shapeSize(e.shape);
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const v = view.getFloat32(4 * k, true);
    if (!Number.isFinite(v)) {
      throw manifestError(
        `weights[${i}] ("${e.name}") value ${k} is ${v}; a packed model holds finite weights only.`,
      );
    }
    values[k] = v;
  }
  return values;
}

/** Decodes tensor `i` of a checked file (what `decodePackedModel` does for each tensor). */
export function decodeWeight(
  bytes: Uint8Array,
  header: PackedHeader,
  e: PackedWeightEntry,
  i: number,
): DecodedWeight {
  const start = PACKED_HEADER_BYTES + header.manifestLength + e.offset;
  const region = bytes.subarray(start, start + e.byteLength);
  if (e.encoding === 'float32') {
    return {
      name: e.name,
      shape: [...e.shape],
      encoding: 'float32',
      values: decodeFloat32(e, region, i),
    };
  }
  const codes = decodeCodesOf(e, region, i);
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

/**
 * Checks the file completely (header, checksums, manifest, sizes against `limits`) and returns
 * its header and manifest; no tensor is decoded.
 */
export function readPackedManifest(
  input: Uint8Array | ArrayBuffer,
  opts: PackedLimits = {},
): { header: PackedHeader; manifest: PackedManifest } {
  const limits = resolveLimits(opts);
  const bytes = asBytes(input);
  const header = readPackedHeader(bytes);
  if (bytes.length > limits.maxBytes) {
    throw limitError(`the packed model is ${bytes.length} bytes`, 'maxBytes');
  }
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
  let section = bytes.subarray(manifestStart, payloadStart);
  if (header.version >= 2) section = inflateManifest(section, limits.maxBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(section);
  } catch {
    throw manifestError('it is not valid UTF-8.');
  }
  return { header, manifest: parseManifest(text, header.payloadLength, header.version, limits) };
}

/**
 * Reads a packed model (version 1 or 2): validates magic, version, lengths, the CRC-32 of every
 * section, the manifest and every size against `opts` limits, then dequantizes every tensor
 * (codes: scale * code / (2^N - 1) in float32, exactly as @csq/core `codesToWeights`; spec 1).
 * Throws a CsqError (codes CSQ_PACKED_*) on any damage.
 */
export function decodePackedModel(
  input: Uint8Array | ArrayBuffer,
  opts: PackedLimits = {},
): DecodedPackedModel {
  const bytes = asBytes(input);
  const { header, manifest } = readPackedManifest(bytes, opts);
  const weights = manifest.weights.map((e, i) => decodeWeight(bytes, header, e, i));
  return { topology: manifest.topology, weights, meta: manifest.meta, manifest };
}
