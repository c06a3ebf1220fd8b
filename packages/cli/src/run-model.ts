/**
 * Trains one model of a run (the CSQ model, or the float baseline) from a validated RunConfig:
 * loads the data, builds the network, picks nothing itself (the backend is already set).
 * Shared by the main thread and the baseline worker.
 */
import { type DataSplits, loadData } from '@csq/data/node';
import { buildModel } from '@csq/layers';
import {
  checkpointName,
  type TrainConfigInput,
  type TrainerCallbacks,
  type TrainResult,
  train,
} from '@csq/trainer';
import { fileRunStore } from '@csq/trainer-node';
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from './config.js';

/** The trainer config of a run config (CSQ part omitted for the float baseline). */
export function toTrainConfig(cfg: RunConfig, kind: 'csq' | 'float'): TrainConfigInput {
  return {
    epochs: cfg.epochs,
    batchSize: cfg.batch,
    lr: cfg.lr,
    momentum: cfg.momentum,
    weightDecay: cfg.weightDecay,
    warmupEpochs: cfg.warmupEpochs,
    seed: cfg.seed,
    augment: cfg.augment,
    limitTrain: cfg.limitTrain,
    evalBatchSize: cfg.evalBatch,
    exactEval: cfg.exactEval,
    csq:
      kind === 'csq'
        ? {
            schedule: cfg.schedule,
            ...(cfg.ticket !== undefined ? { ticket: cfg.ticket } : {}),
            finalTemp: cfg.finalTemp,
            ...(cfg.rounds !== undefined ? { rounds: cfg.rounds } : {}),
            ...(cfg.rewindEpoch !== undefined ? { rewindEpoch: cfg.rewindEpoch } : {}),
            ...(cfg.s0 !== undefined ? { s0: cfg.s0 } : {}),
            budget: { mode: cfg.budget, targetBits: cfg.targetBits, lambda: cfg.lambda },
          }
        : false,
  };
}

/** Loads the run's data (the same way in every thread). */
export function loadRunData(
  cfg: RunConfig,
  opts: { download?: boolean } = {},
): Promise<DataSplits> {
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
export function buildRunModel(
  cfg: RunConfig,
  data: DataSplits,
  kind: 'csq' | 'float',
): tf.LayersModel {
  return buildModel(cfg.model, {
    quantized: kind === 'csq',
    bits: cfg.bits,
    actBits: cfg.actBits,
    seed: cfg.seed,
    numClasses: data.train.numClasses,
    inputShape: [data.train.height, data.train.width, data.train.channels],
    ...(cfg.widthMultiplier !== undefined ? { widthMultiplier: cfg.widthMultiplier } : {}),
  });
}

/** Trains one model of the run in `out`, resuming from its checkpoint when asked and present. */
export async function trainRunModel(args: {
  cfg: RunConfig;
  kind: 'csq' | 'float';
  out: string;
  resume: boolean;
  data: DataSplits;
  callbacks?: TrainerCallbacks[];
  signal?: AbortSignal;
  log?: (m: string) => void;
}): Promise<{ result: TrainResult; model: tf.LayersModel }> {
  const { cfg, kind, out, data } = args;
  const store = fileRunStore(out);
  const model = buildRunModel(cfg, data, kind);
  const resume = args.resume && (await store.readBytes(checkpointName(kind))) !== undefined;
  const result = await train({
    model,
    data,
    config: toTrainConfig(cfg, kind),
    store,
    resume,
    ...(args.callbacks ? { callbacks: args.callbacks } : {}),
    ...(args.signal ? { signal: args.signal } : {}),
    ...(args.log ? { log: args.log } : {}),
  });
  return { result, model };
}
