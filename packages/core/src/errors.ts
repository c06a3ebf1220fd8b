/**
 * The one error type csq throws for anything a user can get wrong: a bad option, a wrong
 * shape, a corrupt file. `code` is stable and machine-readable; `message` says what was wrong
 * and how to fix it.
 */
export class CsqError extends Error {
  /** Stable machine-readable reason, e.g. `CSQ_BAD_BITS`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'CsqError';
    this.code = code;
  }
}

/** Largest starting bit width N csq supports (codes then fit comfortably in an int32). */
export const MAX_BITS = 16;

/** Throws a CsqError unless `bits` is an integer in 1..MAX_BITS. */
export function assertBits(bits: number, what = 'bits'): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > MAX_BITS) {
    throw new CsqError(
      'CSQ_BAD_BITS',
      `${what} must be an integer from 1 to ${MAX_BITS}, got ${String(bits)}; ` +
        `use for example 8 (the paper's CIFAR recipe) or 6.`,
    );
  }
}

/** Throws a CsqError unless `x` is a finite number (and positive when asked). */
export function assertFinite(x: number, what: string, opts: { positive?: boolean } = {}): void {
  if (typeof x !== 'number' || !Number.isFinite(x) || (opts.positive && !(x > 0))) {
    throw new CsqError(
      'CSQ_BAD_NUMBER',
      `${what} must be a finite${opts.positive ? ' positive' : ''} number, got ${String(x)}.`,
    );
  }
}
