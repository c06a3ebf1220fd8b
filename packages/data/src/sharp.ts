/**
 * sharp, the native image library that decodes image folders, is an optional peer dependency of
 * @csq/data: MNIST, IDX and CIFAR-10 never load it, so users who train on those need not install
 * it. Image-folder sources load it when they open and say how to install it when it is missing.
 */
import { CsqError } from '@csq/core';
import type sharpFunction from 'sharp';

/** The sharp function. */
export type Sharp = typeof sharpFunction;

/** The sharp versions @csq/data is tested with (its optional peer range). */
export const SHARP_RANGE = '^0.35.5';

/** Whether `err` (or an error in its `cause` chain) says that sharp is not installed. */
function notInstalled(err: unknown, depth = 0): boolean {
  const { code, message, cause } = (err ?? {}) as {
    code?: string;
    message?: string;
    cause?: unknown;
  };
  const named = /['"]sharp['"]/.test(message ?? '');
  if (named && (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')) return true;
  if (/Cannot find (package|module) ['"]sharp['"]/.test(message ?? '')) return true;
  return cause !== undefined && depth < 4 && notInstalled(cause, depth + 1);
}

/**
 * The `CSQ_DATA_MISSING_PACKAGE` error for a sharp that could not be imported (`err`): not
 * installed (install it), or installed but not loadable here (its native part).
 */
export function sharpError(err: unknown): CsqError {
  const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
  if (notInstalled(err)) {
    return new CsqError(
      'CSQ_DATA_MISSING_PACKAGE',
      `imagefolder data needs the image library sharp, an optional dependency of @csq/data ` +
        `that is not installed; install it beside @csq/data: npm install sharp@"${SHARP_RANGE}" ` +
        `(or pnpm add / yarn add). MNIST, IDX and CIFAR-10 data do not need it.`,
    );
  }
  return new CsqError(
    'CSQ_DATA_MISSING_PACKAGE',
    `imagefolder data needs the image library sharp, which is installed but cannot be loaded ` +
      `here (${why}); reinstall it for this platform (npm install sharp@"${SHARP_RANGE}"; see ` +
      `https://sharp.pixelplumbing.com/install), or, if it was installed after this process ` +
      `started, start it again.`,
  );
}

let loaded: Promise<Sharp> | undefined;

/** Imports sharp once; rejects with {@link sharpError} when it cannot be imported. */
export function loadSharp(): Promise<Sharp> {
  loaded ??= import('sharp').then(
    (m) => ((m as unknown as { default?: Sharp }).default ?? m) as Sharp,
    (err: unknown) => {
      loaded = undefined; // installed later in the same process: try again then
      throw sharpError(err);
    },
  );
  return loaded;
}
