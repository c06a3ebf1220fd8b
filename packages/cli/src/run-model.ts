/**
 * A run's data and network from its validated RunConfig, the same way in every thread (the
 * main one and the baseline worker) and every command.
 */

import { CsqError } from '@csq/core';
import { type DataSplits, loadData } from '@csq/data/node';
import { buildModel } from '@csq/layers';
import type { ModelKind, RunConfig } from '@csq/run-format';
import type * as tf from '@tensorflow/tfjs';

/** Loads the run's data (`--download` fetches MNIST or CIFAR-10 first). */
export function loadRunData(
  cfg: Pick<RunConfig, 'data' | 'imageSize' | 'workers'>,
  opts: { download?: boolean } = {},
): Promise<DataSplits> {
  if (cfg.data === undefined) {
    throw new CsqError(
      'CSQ_NO_DATA_SPEC',
      'this run was trained from code on data csq cannot reload by name; pass --data SPEC ' +
        '(mnist, idx:DIR, cifar10:DIR or imagefolder:DIR).',
    );
  }
  return loadData(cfg.data, {
    seed: 0,
    // CSQ_DOWNLOAD_BASE_URL: a mirror of the MNIST / CIFAR-10 files (same names and checksums)
    ...(opts.download
      ? {
          download: process.env.CSQ_DOWNLOAD_BASE_URL
            ? { baseUrl: process.env.CSQ_DOWNLOAD_BASE_URL }
            : true,
        }
      : {}),
    imageFolder: {
      ...(cfg.imageSize !== undefined ? { size: cfg.imageSize } : {}),
      ...(cfg.workers !== undefined ? { workers: cfg.workers } : {}),
    },
  });
}

/** Builds the run's network, CSQ or float, for this data. */
export function buildRunModel(cfg: RunConfig, data: DataSplits, kind: ModelKind): tf.LayersModel {
  if (cfg.model === undefined || cfg.bits === undefined) {
    throw new CsqError(
      'CSQ_NO_MODEL_NAME',
      'the run config names no model (and bits); give "model" and "bits" in the recipe or config.',
    );
  }
  return buildModel(cfg.model, {
    quantized: kind === 'csq',
    bits: cfg.bits,
    actBits: cfg.actBits ?? 0,
    seed: cfg.seed,
    numClasses: data.train.numClasses,
    inputShape: [data.train.height, data.train.width, data.train.channels],
    ...(cfg.widthMultiplier !== undefined ? { widthMultiplier: cfg.widthMultiplier } : {}),
  });
}
