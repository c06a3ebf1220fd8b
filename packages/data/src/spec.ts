/**
 * Data specs: the strings `--data` accepts (`mnist`, `idx:DIR`, `cifar10:DIR`,
 * `imagefolder:DIR`).
 */
import { CsqError } from '@csq/core';

/** A parsed data spec. */
export type DataSpec =
  | { kind: 'mnist' }
  | { kind: 'idx'; dir: string }
  | { kind: 'cifar10'; dir: string }
  | { kind: 'imagefolder'; dir: string };

/** The valid forms of a data spec, one per line, for error messages and help texts. */
export const DATA_SPEC_FORMS: readonly string[] = Object.freeze([
  'mnist                the embedded MNIST digits (10,000 real digits; the default)',
  'idx:DIR              MNIST IDX files in DIR (train-images-idx3-ubyte, ...; plain or .gz)',
  'cifar10:DIR          CIFAR-10 binary batches in DIR (data_batch_1..5.bin, test_batch.bin)',
  'imagefolder:DIR      images in DIR/train/CLASS/*.jpg|png and DIR/val/CLASS/*',
]);

/** The valid forms as an indented block for messages. */
export function dataSpecHelp(): string {
  return DATA_SPEC_FORMS.map((line) => `  ${line}`).join('\n');
}

/**
 * Parses a data spec. An empty or missing spec is the embedded MNIST default. Unknown schemes
 * and missing directories throw a CsqError listing the valid forms.
 */
export function parseDataSpec(spec: string | undefined | null): DataSpec {
  const text = (spec ?? '').trim();
  if (text === '' || text.toLowerCase() === 'mnist') return { kind: 'mnist' };
  const colon = text.indexOf(':');
  const scheme = (colon < 0 ? text : text.slice(0, colon)).toLowerCase();
  const dir = colon < 0 ? '' : text.slice(colon + 1).trim();
  if (scheme === 'idx' || scheme === 'cifar10' || scheme === 'imagefolder') {
    if (dir === '') {
      throw new CsqError(
        'CSQ_DATA_BAD_SPEC',
        `data spec "${text}" names no directory: write ${scheme}:DIR. Valid forms:\n` +
          dataSpecHelp(),
      );
    }
    return { kind: scheme, dir };
  }
  throw new CsqError(
    'CSQ_DATA_BAD_SPEC',
    `unknown data spec "${text}". Valid forms:\n${dataSpecHelp()}`,
  );
}

/** The canonical string of a parsed spec (inverse of {@link parseDataSpec}). */
export function formatDataSpec(spec: DataSpec): string {
  return spec.kind === 'mnist' ? 'mnist' : `${spec.kind}:${spec.dir}`;
}
