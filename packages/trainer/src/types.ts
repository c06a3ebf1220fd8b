/**
 * The shapes around the loop: what `train` takes and returns, the user callbacks (Keras-style),
 * and the plugins that make up the loop's own jobs (checkpoints, rounds, the metrics file).
 */
import type { BudgetRegularizer, BudgetReport, BudgetTrimReport } from '@csq/budget';
import type { ImageSource } from '@csq/data';
import type { CsqController } from '@csq/layers';
import type {
  EpochAccum,
  MetricsLine,
  ModelKind,
  TrainConfig,
  TrainConfigInput,
} from '@csq/run-format';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Preprocess } from './batches.js';
import type { SgdMomentum } from './optimizer.js';
import type { EpochPlan } from './schedule.js';
import type { RunStore } from './store.js';

/** The data a run needs. */
export interface TrainData {
  train: ImageSource;
  test: ImageSource;
  /** Per-channel normalisation. */
  mean: number[];
  std: number[];
}

/** What a batch-end callback sees (`epoch` and `batch` are 0-based). */
export interface BatchLogs {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  ce: number;
  penalty: number;
  accuracy: number;
}

/** Keras-style hooks; each may be async. Epoch numbers are 0-based. */
export interface TrainerCallbacks {
  onTrainBegin?(info: {
    epochs: number;
    batchesPerEpoch: number;
    startEpoch: number;
    startBatch: number;
  }): void | Promise<void>;
  onEpochBegin?(epoch: number, plan: EpochPlan): void | Promise<void>;
  onBatchEnd?(logs: BatchLogs): void | Promise<void>;
  onEpochEnd?(line: MetricsLine): void | Promise<void>;
  onTrainEnd?(result: TrainResult): void | Promise<void>;
}

/**
 * The state of a run that the loop and its plugins share. The loop advances `epoch`, `batch`,
 * `accum` and `history`; plugins may read everything and change the model's weights.
 */
export interface TrainingState {
  readonly model: tfl.LayersModel;
  readonly controller: CsqController;
  readonly cfg: TrainConfig;
  readonly kind: ModelKind;
  readonly store: RunStore;
  readonly log: (message: string) => void;
  /** The budget term (CSQ runs). */
  readonly budget: BudgetRegularizer | undefined;
  readonly optimizer: SgdMomentum;
  /** Every weight of the model in a stable order (the checkpoint's order). */
  readonly weights: readonly tf.Variable[];
  /** The bit-selection masks among `weights`. */
  readonly masks: ReadonlySet<tf.Variable>;
  /** The weights SGD updates (masks included; the ticket phase leaves them out per step). */
  readonly trainable: readonly tf.Variable[];
  readonly totalEpochs: number;
  readonly batchesPerEpoch: number;
  /** 0-based epoch in progress and the next batch in it. */
  epoch: number;
  batch: number;
  /** Running sums of the epoch in progress. */
  accum: EpochAccum;
  /** One line per finished epoch. */
  history: MetricsLine[];
  /** Rounds schedule: the float weights and bit planes the final run starts from. */
  rewind: Float32Array[] | undefined;
  /** Budget enforcement at the end of each search (ticket epoch, end of each round), in order. */
  trims: BudgetTrimReport[];
}

/**
 * One job of the loop, plugged in with access to its state. Checkpointing, the rounds schedule
 * and the metrics file are plugins; so can be, for example, budget enforcement at the ticket
 * epoch (`onTicketBegin`). Hooks run in the order the plugins are listed, before the user's
 * callbacks.
 */
export interface TrainerPlugin {
  /** Before the first batch (resume restores the state here). */
  onTrainBegin?(state: TrainingState): void | Promise<void>;
  /** At the start of an epoch (batch 0 only: not when resuming in the middle of one). */
  onEpochBegin?(state: TrainingState, plan: EpochPlan): void | Promise<void>;
  /**
   * At the first epoch of the ticket phase, before its first batch: the masks are hard and
   * frozen from here on, so this is where the selected bits can still be trimmed to a budget.
   */
  onTicketBegin?(state: TrainingState, plan: EpochPlan): void | Promise<void>;
  /** After an epoch's line is in `state.history` (`state.epoch` is the epoch just finished). */
  onEpochEnd?(state: TrainingState, line: MetricsLine): void | Promise<void>;
  /** After a stop on abort (`state.batch`: the first batch not yet trained). */
  onStop?(state: TrainingState): void | Promise<void>;
}

/** Options of `train`. */
export interface TrainOptions {
  model: tfl.LayersModel;
  data: TrainData;
  config: TrainConfig | TrainConfigInput;
  /** Where checkpoints and metrics go (default: memory). */
  store?: RunStore;
  /** Continue from the store's checkpoint for this model. */
  resume?: boolean;
  callbacks?: TrainerCallbacks | TrainerCallbacks[];
  /** Extra jobs with access to the loop's state (see TrainerPlugin). */
  plugins?: TrainerPlugin[];
  /** Aborting saves a checkpoint after the current batch and returns `stopped: true`. */
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** Custom pixel preprocessing (default: the config's augmentation + data mean/std). */
  preprocess?: Preprocess;
}

/** What `train` returns. */
export interface TrainResult {
  /** Which model was trained: the CSQ model, or a float baseline. */
  kind: ModelKind;
  /** @deprecated the same as `kind` (trainNode's `model` is the network). */
  model: ModelKind;
  stopped: boolean;
  epochsDone: number;
  history: MetricsLine[];
  /** Test accuracy of the soft model at the final temperature (float model: its accuracy). */
  softAccuracy: number;
  /** Test accuracy of the exact (Heaviside) model; the float model's accuracy for a float run. */
  exactAccuracy: number;
  /** Budget report at the end (CSQ runs). */
  report?: BudgetReport;
  /** True when a resumed run had already done all its epochs: nothing was trained. */
  alreadyFinished?: boolean;
  /**
   * The last budget enforcement (`csq.budget.enforce`): what `trimToBudget` trimmed at the
   * ticket epoch, or with 'off' only the floors brought up and how far the search was from the
   * target. Absent when the run never reached the end of a search.
   */
  trim?: BudgetTrimReport;
}

/** What `train` returns for a CSQ run: the budget report is always there. */
export type CsqTrainResult = TrainResult & { kind: 'csq'; report: BudgetReport };
