/**
 * Writer of the packed format (docs/packed-format.md), versions 2 (default) and 1. Used by
 * csq's exporter; needs no tfjs.
 */
import { assertBits, CsqError, crc32, encodeLayerCodes, maxCode, packBits } from '@csq/core';
import {
  codesRegionBytes,
  HEADER,
  MAX_SECTION_BYTES,
  PACKED_FORMAT_NAME,
  PACKED_FORMAT_VERSION,
  PACKED_FORMAT_VERSIONS,
  PACKED_HEADER_BYTES,
  PACKED_MAGIC,
  type PackedCodesEntry,
  type PackedFloat32Entry,
  type PackedManifest,
  type PackedModelInput,
  type PackedWeightEntry,
  type PackedWeightInput,
  reachOf,
  representable,
  shapeSize,
} from './format.js';
import { compressManifest } from './manifest-codec.js';
import {
  entropyBits,
  quantizeFrequencies,
  RANS_MAX_SYMBOLS,
  ransEncode,
  symbolCounts,
  writeVarint,
} from './rans.js';

/** A format version `encodePackedModel` can write. */
export type PackedFormatVersion = 1 | 2;

/** Options of `encodePackedModel`. */
export interface EncodePackedOptions {
  /** 2 (default): compressed manifest, entropy-coded codes; 1: what csq 0.1 wrote. */
  formatVersion?: PackedFormatVersion;
}

type EntryWithoutOffset = Omit<PackedCodesEntry, 'offset'> | Omit<PackedFloat32Entry, 'offset'>;

function inputError(message: string): CsqError {
  return new CsqError('CSQ_PACKED_INPUT', message);
}

function checkShape(w: PackedWeightInput, where: string): number {
  if (!w || typeof w !== 'object') {
    throw inputError(`${where}: expected a weight entry object, got ${String(w)}.`);
  }
  if (typeof w.name !== 'string' || w.name === '') {
    throw inputError(
      `${where}: name must be a non-empty string (the tfjs weight name, e.g. "conv1/kernel").`,
    );
  }
  if (!Array.isArray(w.shape) || w.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw inputError(
      `${where} ("${w.name}"): shape must be an array of non-negative integers, got ${JSON.stringify(w.shape)}.`,
    );
  }
  return shapeSize(w.shape);
}

function parseTopology(topology: object | string): Record<string, unknown> {
  let t: unknown = topology;
  if (typeof topology === 'string') {
    try {
      t = JSON.parse(topology);
    } catch {
      throw inputError('topology is a string but not JSON; pass model.toJSON(null, false).');
    }
  }
  const o = t as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o)) {
    throw inputError('topology must be an object: pass model.toJSON(null, false).');
  }
  if ('modelTopology' in o) {
    throw inputError(
      'topology looks like a whole model.json (it has "modelTopology"); pass its modelTopology ' +
        'field, or model.toJSON(null, false).',
    );
  }
  if (typeof o['class_name'] !== 'string' || typeof o['config'] !== 'object') {
    throw inputError(
      'topology must be a tfjs-layers model topology with "class_name" and "config" ' +
        '(what model.toJSON(null, false) returns).',
    );
  }
  return o;
}

function encodeCodes(
  w: Extract<PackedWeightInput, { kind: 'codes' }>,
  count: number,
  where: string,
  version: PackedFormatVersion,
): { entry: EntryWithoutOffset; region: Uint8Array } {
  const label = `${where} ("${w.name}")`;
  try {
    assertBits(w.bits, `${label} bits`);
  } catch (e) {
    throw inputError((e as Error).message);
  }
  const { bits } = w;
  if (typeof w.scale !== 'number' || !Number.isFinite(Math.fround(w.scale))) {
    throw inputError(
      `${label}: scale must be a finite float32 number (|scale| < 3.4e38), got ${String(w.scale)}.`,
    );
  }
  const pos = w.positions;
  if (
    !Array.isArray(pos) ||
    pos.some((p, k) => !Number.isInteger(p) || p < 0 || p >= bits || (k > 0 && p <= pos[k - 1]!))
  ) {
    throw inputError(
      `${label}: positions must be strictly ascending integers in 0..${bits - 1} (0 = MSB), ` +
        `got ${JSON.stringify(pos)}; use @csq/core selectedPositions(m, 'exact').`,
    );
  }
  if (!w.codes || w.codes.length !== count) {
    throw inputError(
      `${label}: ${w.codes?.length ?? 0} codes for shape [${w.shape.join(', ')}] (${count} weights); ` +
        'pass one integer code per weight, in the layout of the kernel.',
    );
  }
  const reach = reachOf(pos, bits);
  for (let k = 0; k < count; k++) {
    const v = w.codes[k]!;
    if (!Number.isInteger(v) || Math.abs(v) > reach) {
      throw inputError(
        `${label}: code ${k} = ${v} cannot be made of signed digits at positions [${pos.join(', ')}] of ` +
          `${bits} bits (|code| <= ${reach}); the codes and positions must come from the same ` +
          'exact model (@csq/core exactCodes).',
      );
    }
  }
  const enc = encodeLayerCodes(w.codes);
  for (const l of enc.levels) {
    if (!representable(l, pos, bits)) {
      const k = Array.prototype.indexOf.call(w.codes, l);
      throw inputError(
        `${label}: code ${k} = ${l} cannot be made of signed digits at positions ` +
          `[${pos.join(', ')}] of ${bits} bits; the codes and positions must come from the same ` +
          'exact model (@csq/core exactCodes).',
      );
    }
  }
  const q = maxCode(bits);
  const shifted = Array.from(enc.levels, (l) => l + q);
  const codebook = packBits(shifted, bits + 1);
  const sizes = codesRegionBytes(enc.levels.length, bits, count, enc.width);
  const rans = version >= 2 ? ransIndices(w.codes, enc.levels, sizes.indices) : undefined;
  const indices = rans ?? enc.data;
  const region = new Uint8Array(sizes.codebook + indices.length);
  region.set(codebook, 0);
  region.set(indices, sizes.codebook);
  return {
    entry: {
      name: w.name,
      shape: [...w.shape],
      encoding: 'codes',
      byteLength: region.length,
      bits,
      scale: w.scale,
      positions: [...pos],
      levelCount: enc.levels.length,
      indexWidth: enc.width,
      ...(version >= 2 ? { coding: rans ? 'rans' : 'packed' } : {}),
    },
    region,
  };
}

/**
 * Version 2's entropy-coded indices (the frequency table as LEB128 varints, then the rANS
 * stream), or undefined when they would not be smaller than `packedBytes` (fixed-width indices).
 */
function ransIndices(
  codes: ArrayLike<number>,
  levels: Int32Array,
  packedBytes: number,
): Uint8Array | undefined {
  const L = levels.length;
  if (L < 2 || L > RANS_MAX_SYMBOLS) return undefined;
  const index = new Map<number, number>();
  for (let i = 0; i < L; i++) index.set(levels[i]!, i);
  const symbols = new Uint32Array(codes.length);
  for (let k = 0; k < codes.length; k++) symbols[k] = index.get(codes[k]!)!;
  const counts = symbolCounts(symbols, L);
  // a cheap lower bound first: no rANS stream is shorter than the entropy
  if (entropyBits(counts) / 8 >= packedBytes) return undefined;
  const freqs = quantizeFrequencies(counts);
  const table: number[] = [];
  for (const f of freqs) writeVarint(f, table);
  const stream = ransEncode(symbols, freqs);
  if (table.length + stream.length >= packedBytes) return undefined;
  const out = new Uint8Array(table.length + stream.length);
  out.set(table, 0);
  out.set(stream, table.length);
  return out;
}

function encodeFloat32(
  w: Extract<PackedWeightInput, { kind: 'float32' }>,
  count: number,
  where: string,
): { entry: EntryWithoutOffset; region: Uint8Array } {
  const label = `${where} ("${w.name}")`;
  if (!w.values || w.values.length !== count) {
    throw inputError(
      `${label}: ${w.values?.length ?? 0} values for shape [${w.shape.join(', ')}] (${count}); ` +
        'pass the tensor data (await tensor.data()) of that shape.',
    );
  }
  const region = new Uint8Array(count * 4);
  const view = new DataView(region.buffer);
  for (let k = 0; k < count; k++) {
    const v = w.values[k]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new CsqError(
        'CSQ_NON_FINITE_WEIGHT',
        `${label}: value ${k} is ${String(v)}; a model with NaN/Inf weights cannot be exported. ` +
          'Check the training run (learning rate, data) first.',
      );
    }
    view.setFloat32(k * 4, v, true);
  }
  return {
    entry: { name: w.name, shape: [...w.shape], encoding: 'float32', byteLength: region.length },
    region,
  };
}

/**
 * Writes a model in the packed format: a 32-byte header (magic, version, lengths, CRC-32s), the
 * manifest (topology, weight entries, meta; JSON, DEFLATE-compressed in version 2), then every
 * tensor: `codes` tensors as a codebook plus indices (packed at ceil(log2(levels)) bits, or in
 * version 2 rANS-coded when that is smaller), `float32` tensors as raw little-endian floats.
 * See docs/packed-format.md.
 */
export function encodePackedModel(
  model: PackedModelInput,
  opts: EncodePackedOptions = {},
): Uint8Array {
  const version = opts.formatVersion ?? PACKED_FORMAT_VERSION;
  if (!PACKED_FORMAT_VERSIONS.includes(version)) {
    throw inputError(
      `formatVersion must be one of ${PACKED_FORMAT_VERSIONS.join(', ')}, got ${String(version)}.`,
    );
  }
  if (!model || typeof model !== 'object')
    throw inputError('encodePackedModel needs { topology, weights }.');
  const topology = parseTopology(model.topology);
  if (!Array.isArray(model.weights)) {
    throw inputError('weights must be an array with one entry per tensor of model.getWeights().');
  }
  if (
    model.meta !== undefined &&
    (model.meta === null || typeof model.meta !== 'object' || Array.isArray(model.meta))
  ) {
    throw inputError('meta must be a plain JSON object when given.');
  }
  const entries: PackedWeightEntry[] = [];
  const regions: Uint8Array[] = [];
  let offset = 0;
  model.weights.forEach((w, i) => {
    const where = `weights[${i}]`;
    const count = checkShape(w, where);
    let out: ReturnType<typeof encodeCodes>;
    if (w.kind === 'codes') out = encodeCodes(w, count, where, version);
    else if (w.kind === 'float32') out = encodeFloat32(w, count, where);
    else {
      throw inputError(
        `${where} ("${(w as { name?: string }).name}"): kind must be 'codes' or 'float32', ` +
          `got ${JSON.stringify((w as { kind?: unknown }).kind)}.`,
      );
    }
    entries.push({ ...out.entry, offset } as PackedWeightEntry);
    regions.push(out.region);
    offset += out.region.length;
  });
  const manifest: PackedManifest = { format: PACKED_FORMAT_NAME, topology, weights: entries };
  if (model.meta !== undefined) manifest.meta = model.meta;
  let json: string;
  try {
    json = JSON.stringify(manifest);
  } catch (e) {
    throw inputError(`topology and meta must be JSON-serialisable: ${(e as Error).message}`);
  }
  const jsonBytes = new TextEncoder().encode(json);
  const manifestBytes = version >= 2 ? compressManifest(jsonBytes) : jsonBytes;
  const payloadLength = offset;
  if (manifestBytes.length > MAX_SECTION_BYTES || payloadLength > MAX_SECTION_BYTES) {
    throw inputError('the model is too large for the packed format (4 GiB per section).');
  }
  const out = new Uint8Array(PACKED_HEADER_BYTES + manifestBytes.length + payloadLength);
  out.set(PACKED_MAGIC, HEADER.magic);
  out.set(manifestBytes, PACKED_HEADER_BYTES);
  let at = PACKED_HEADER_BYTES + manifestBytes.length;
  for (const r of regions) {
    out.set(r, at);
    at += r.length;
  }
  const payloadStart = PACKED_HEADER_BYTES + manifestBytes.length;
  const view = new DataView(out.buffer);
  view.setUint32(HEADER.version, version, true);
  view.setUint32(HEADER.manifestLength, manifestBytes.length, true);
  view.setUint32(HEADER.payloadLength, payloadLength, true);
  view.setUint32(HEADER.manifestCrc, crc32(out, PACKED_HEADER_BYTES, payloadStart), true);
  view.setUint32(HEADER.payloadCrc, crc32(out, payloadStart, out.length), true);
  view.setUint32(HEADER.headerCrc, crc32(out, 0, HEADER.headerCrc), true);
  return out;
}
