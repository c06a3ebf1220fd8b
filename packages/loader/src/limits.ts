/**
 * Limits the reader enforces before it allocates: a hostile or damaged file (valid checksums
 * included) cannot make the loader allocate more than the caller allows.
 */
import { CsqError } from '@csq/core';

/** Limits of `decodePackedModel`, `loadPackedModel` and `readPackedSource`. */
export interface PackedLimits {
  /**
   * Largest total number of weight values (all tensors together) a file may declare
   * (default 2^26 = 67,108,864: a float32 copy takes 256 MiB; ResNet-50 has 25.6 M).
   */
  maxElements?: number;
  /**
   * Largest size in bytes of the file, of its manifest once inflated, and of the decoded
   * weights as float32 (4 bytes per value) (default 2^30 = 1 GiB).
   */
  maxBytes?: number;
}

/** Default of `PackedLimits.maxElements`. */
export const DEFAULT_MAX_ELEMENTS = 2 ** 26;
/** Default of `PackedLimits.maxBytes`. */
export const DEFAULT_MAX_BYTES = 2 ** 30;

/** Both limits, checked and defaulted. */
export function resolveLimits(opts: PackedLimits = {}): Required<PackedLimits> {
  const pick = (v: number | undefined, fallback: number, name: string): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      throw new CsqError(
        'CSQ_BAD_OPTION',
        `${name} must be a positive integer (a count), got ${String(v)}.`,
      );
    }
    return v;
  };
  return {
    maxElements: pick(opts.maxElements, DEFAULT_MAX_ELEMENTS, 'maxElements'),
    maxBytes: pick(opts.maxBytes, DEFAULT_MAX_BYTES, 'maxBytes'),
  };
}

/** The CsqError of a file past a limit. */
export function limitError(what: string, option: 'maxElements' | 'maxBytes'): CsqError {
  return new CsqError(
    'CSQ_PACKED_LIMIT',
    `${what}. That is more than this load allows (option ${option}); a damaged or hostile file ` +
      `can declare huge tensors. If the file is trusted and really that large, pass a larger ${option}.`,
  );
}
