/**
 * One call from a data spec string to train/test sources (Node): what `csq train --data SPEC`
 * uses.
 */
import { statSync } from 'node:fs';
import { CsqError } from '@csq/core';
import { loadCifar10 } from './cifar10.js';
import { type DownloadOptions, download } from './download.js';
import { loadIdx } from './idx.js';
import { type ImageFolderSplitOptions, loadImageFolder } from './image-folder.js';
import { loadMnistEmbedded } from './mnist-embedded.js';
import type { DataSplits } from './source.js';
import { type DataSpec, dataSpecHelp, parseDataSpec } from './spec.js';

/** Options of {@link loadData}; each applies to the sources that use it. */
export interface LoadDataOptions {
  /** mnist: seed of the embedded split (default 0). */
  seed?: number;
  /** mnist: examples held out for testing (default 2000). */
  testCount?: number;
  /** idx: number of classes (default: 1 + largest training label). */
  numClasses?: number;
  /** imagefolder: image side, channels, decode workers, crop options... */
  imageFolder?: ImageFolderSplitOptions;
  /**
   * idx and cifar10: fetch MNIST / CIFAR-10 into DIR first (skipping valid files already
   * there). `true` or download options (baseUrl, fetchImpl, checksums, onProgress).
   */
  download?: boolean | Omit<DownloadOptions, 'dataset' | 'dir'>;
}

function assertDir(spec: DataSpec & { dir: string }): void {
  let ok = false;
  try {
    ok = statSync(spec.dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CsqError(
      'CSQ_DATA_MISSING_DIR',
      `data directory ${spec.dir} (from ${spec.kind}:${spec.dir}) does not exist or is not a ` +
        `directory` +
        (spec.kind === 'idx' || spec.kind === 'cifar10'
          ? ' (add --download to fetch the data set into it)'
          : '') +
        `. Valid forms:\n${dataSpecHelp()}`,
    );
  }
}

/**
 * Loads the data set a spec names (see {@link parseDataSpec}): `mnist` (also the empty spec),
 * `idx:DIR`, `cifar10:DIR` or `imagefolder:DIR`.
 */
export async function loadData(
  spec: string | DataSpec | undefined,
  opts: LoadDataOptions = {},
): Promise<DataSplits> {
  const parsed = typeof spec === 'object' && spec !== null ? spec : parseDataSpec(spec);
  if (parsed.kind === 'mnist') {
    return loadMnistEmbedded({ seed: opts.seed, testCount: opts.testCount });
  }
  if (opts.download && (parsed.kind === 'idx' || parsed.kind === 'cifar10')) {
    const extra = typeof opts.download === 'object' ? opts.download : {};
    await download({
      ...extra,
      dataset: parsed.kind === 'idx' ? 'mnist' : 'cifar10',
      dir: parsed.dir,
    });
  } else if (opts.download) {
    throw new CsqError(
      'CSQ_DOWNLOAD_DATASET',
      `--download fetches MNIST (idx:DIR) or CIFAR-10 (cifar10:DIR), not ${parsed.kind}:DIR.`,
    );
  }
  assertDir(parsed);
  switch (parsed.kind) {
    case 'idx':
      return loadIdx(parsed.dir, { numClasses: opts.numClasses });
    case 'cifar10':
      return loadCifar10(parsed.dir);
    case 'imagefolder':
      return loadImageFolder(parsed.dir, opts.imageFolder);
  }
}
