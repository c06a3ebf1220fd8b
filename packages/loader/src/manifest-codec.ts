/**
 * Version 2's manifest section: the UTF-8 JSON manifest's byte length (u32 little-endian), then
 * the JSON compressed with raw DEFLATE (RFC 1951; fflate) against a preset dictionary of the
 * strings tfjs topologies repeat. Decompression is bounded: it stops as soon as the output
 * passes the declared length, so a small file cannot expand into gigabytes.
 */
import { CsqError } from '@csq/core';
import { deflateSync, Inflate } from 'fflate';
import { MANIFEST_DICTIONARY } from './manifest-dictionary.js';

const encoder = new TextEncoder();
let dictionary: Uint8Array | undefined;
/** The preset dictionary's bytes (UTF-8 of MANIFEST_DICTIONARY). */
export function manifestDictionary(): Uint8Array {
  dictionary ??= encoder.encode(MANIFEST_DICTIONARY);
  return dictionary;
}

/** Input bytes handed to the inflater at a time (bounds the output of one step to ~1 MiB). */
const CHUNK = 1024;

function manifestError(message: string): CsqError {
  return new CsqError(
    'CSQ_PACKED_MANIFEST',
    `packed model manifest is invalid: ${message} The writer of this file is broken or the file ` +
      'was edited; export it again with `csq export`.',
  );
}

/** [u32 LE length of `json`][raw DEFLATE of `json` with the preset dictionary]. */
export function compressManifest(json: Uint8Array): Uint8Array {
  const packed = deflateSync(json, { level: 9, mem: 8, dictionary: manifestDictionary() });
  const out = new Uint8Array(4 + packed.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(packed, 4);
  return out;
}

/**
 * The JSON bytes of a version 2 manifest section. Throws CSQ_PACKED_MANIFEST when the declared
 * length passes `maxBytes` (CSQ_PACKED_LIMIT) or the stream is broken or inflates to another
 * length.
 */
export function inflateManifest(section: Uint8Array, maxBytes: number): Uint8Array {
  if (section.length < 5) throw manifestError('the compressed manifest is cut short.');
  const length = new DataView(section.buffer, section.byteOffset, 4).getUint32(0, true);
  if (length > maxBytes) {
    throw new CsqError(
      'CSQ_PACKED_LIMIT',
      `packed model manifest declares ${length} bytes of JSON, more than the limit of ${maxBytes} ` +
        'bytes (option maxBytes). If the file is trusted, load it with a larger maxBytes.',
    );
  }
  const out = new Uint8Array(length);
  let at = 0;
  let done = false;
  const inflater = new Inflate({ dictionary: manifestDictionary() }, (chunk, final) => {
    if (at + chunk.length > length) {
      throw manifestError(`the compressed manifest inflates past its declared ${length} bytes.`);
    }
    out.set(chunk, at);
    at += chunk.length;
    if (final) done = true;
  });
  try {
    for (let i = 4; i < section.length; i += CHUNK) {
      const end = Math.min(section.length, i + CHUNK);
      inflater.push(section.subarray(i, end), end === section.length);
    }
  } catch (e) {
    if (e instanceof CsqError) throw e;
    throw manifestError(`the compressed manifest is broken (${(e as Error).message}).`);
  }
  if (!done || at !== length) {
    throw manifestError(
      `the compressed manifest inflates to ${at} bytes, not the ${length} it declares.`,
    );
  }
  return out;
}
