/**
 * Test helpers (not exported by the package): edit a packed file the way a broken writer or an
 * attacker would, with every checksum recomputed so that only the structural checks stand
 * between the file and the loader.
 */
import { crc32 } from '@csq/core';
import { inflateSync } from 'fflate';
import { HEADER, PACKED_HEADER_BYTES } from './format.js';
import { compressManifest, manifestDictionary } from './manifest-codec.js';

type Json = Record<string, unknown>;

/** Recomputes the three CRC-32s (after setting `fields` of the header). */
export function reseal(
  bytes: Uint8Array,
  fields: Partial<Record<keyof typeof HEADER, number>> = {},
): Uint8Array {
  const out = Uint8Array.from(bytes);
  const v = new DataView(out.buffer);
  for (const [k, val] of Object.entries(fields)) {
    v.setUint32(HEADER[k as keyof typeof HEADER], val!, true);
  }
  const m = v.getUint32(HEADER.manifestLength, true);
  const end = Math.min(out.length, PACKED_HEADER_BYTES + m);
  v.setUint32(HEADER.manifestCrc, crc32(out, PACKED_HEADER_BYTES, end), true);
  v.setUint32(HEADER.payloadCrc, crc32(out, end, out.length), true);
  v.setUint32(HEADER.headerCrc, crc32(out, 0, HEADER.headerCrc), true);
  return out;
}

/** The file's sections: version, manifest JSON text, payload bytes. */
export function sections(bytes: Uint8Array): {
  version: number;
  json: string;
  payload: Uint8Array;
} {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint32(HEADER.version, true);
  const m = v.getUint32(HEADER.manifestLength, true);
  const section = bytes.subarray(PACKED_HEADER_BYTES, PACKED_HEADER_BYTES + m);
  const raw =
    version >= 2 ? inflateSync(section.subarray(4), { dictionary: manifestDictionary() }) : section;
  return {
    version,
    json: new TextDecoder().decode(raw),
    payload: bytes.subarray(PACKED_HEADER_BYTES + m),
  };
}

/** Assembles a file from a manifest section and a payload, sealed with valid CRCs. */
export function assemble(version: number, manifestSection: Uint8Array, payload: Uint8Array) {
  const out = new Uint8Array(PACKED_HEADER_BYTES + manifestSection.length + payload.length);
  out.set([0x89, 0x43, 0x53, 0x51, 0x50, 0x0d, 0x0a, 0x1a], 0);
  out.set(manifestSection, PACKED_HEADER_BYTES);
  out.set(payload, PACKED_HEADER_BYTES + manifestSection.length);
  return reseal(out, {
    version,
    manifestLength: manifestSection.length,
    payloadLength: payload.length,
  });
}

/** The file with its manifest JSON edited (text or parsed) and its payload replaced if given. */
export function withManifest(
  bytes: Uint8Array,
  edit: (m: Json) => void,
  payload?: Uint8Array,
): Uint8Array {
  const s = sections(bytes);
  const m = JSON.parse(s.json) as Json;
  edit(m);
  return withManifestText(bytes, JSON.stringify(m), payload ?? s.payload);
}

/** The file with its manifest text replaced (compressed again for version 2). */
export function withManifestText(bytes: Uint8Array, text: string, payload?: Uint8Array) {
  const s = sections(bytes);
  const json = new TextEncoder().encode(text);
  const section = s.version >= 2 ? compressManifest(json) : json;
  return assemble(s.version, section, payload ?? s.payload);
}
