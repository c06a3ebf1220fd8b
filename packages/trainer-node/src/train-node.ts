/**
 * One call to train a CSQ (or float) model in Node on the best backend present, into a run
 * directory on disk that every `csq` command and @csq/report read: config.json, metrics.jsonl,
 * checkpoint/, model/ and summary.json. Ctrl-C saves a checkpoint; `resume` continues from it.
 */
import { rmdir } from 'node:fs/promises';
import type { BudgetReport } from '@csq/budget';
import { CsqError } from '@csq/core';
import {
  checkpointName,
  configDifference,
  type ModelKind,
  parseSummary,
  RUN_FILES,
  type RunConfig,
  type RunConfigInput,
  type RunSummary,
  resolveTrainConfig,
  runConfigFromTrain,
  type TrainConfig,
  type TrainConfigInput,
  toTrainConfig,
  validateRunConfig,
} from '@csq/run-format';
import { type TrainOptions, type TrainResult, train } from '@csq/trainer';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BackendChoice, type BackendSelection, selectBackend } from './backend.js';
import { interruptSignal } from './interrupt.js';
import { guardMemory } from './memory.js';
import { removeFailedStart, startRunDir, writeSummary } from './run-dir.js';
import { acquireRunLock } from './run-lock.js';
import { type FileRunStore, fileRunStore } from './run-store.js';

/** Options of trainNode: train()'s, plus a run directory and a backend choice. */
export interface TrainNodeOptions extends Omit<TrainOptions, 'store' | 'model' | 'resume'> {
  /**
   * The model, or a function that builds it: a function runs after the backend is chosen, so
   * the weights live on that backend (a model built before must be built on the same backend).
   */
  model: tfl.LayersModel | (() => tfl.LayersModel);
  /** Run directory (config.json, metrics.jsonl, checkpoint/, model/, summary.json). */
  out: string;
  /** Continue from the run's checkpoint; `'if-checkpoint'`: when there is one, else start. */
  resume?: boolean | 'if-checkpoint';
  /**
   * 'auto' (default): tfjs-node-gpu, tfjs-node, wasm, cpu, the first that works; or a backend
   * already selected with {@link selectBackend} (used as it is).
   */
  backend?: BackendChoice | BackendSelection;
  /**
   * Threads for the wasm backend when this call selects it (1 = single-thread build). Default:
   * `CSQ_WASM_THREADS`, else every core. Ignored when wasm already runs in this thread.
   */
  threads?: number;
  /**
   * What config.json says beyond the training settings, for `csq` commands to rebuild model and
   * data (`model: 'mnist-cnn'`, `data: 'mnist'`, `bits`...). `csq train` passes its whole run
   * config; the training settings in it must agree with `config`.
   */
  run?: RunConfigInput;
  /** Save the final model to OUT/model (default true). */
  saveModel?: boolean;
  /** Test accuracy of a float baseline, for summary.json (default null; awaited at the end). */
  floatAccuracy?: number | null | Promise<number | null>;
  /** Install the Ctrl-C handler (default true). */
  handleInterrupt?: boolean;
  /**
   * Hold `run.lock` in `out` for the whole run (default true): a second process is refused.
   * Pass false when the caller holds it already ({@link acquireRunLock}), as `csq train` does
   * for its baseline thread and CSQ run.
   */
  lock?: boolean;
}

/** What trainNode returns: train()'s result, with `model` the trained network. */
export interface TrainNodeResult extends Omit<TrainResult, 'model'> {
  /** The trained network. */
  model: tfl.LayersModel;
  /** @deprecated the same as `model`. */
  network: tfl.LayersModel;
  backend: BackendSelection;
  /** The run directory's summary.json (CSQ runs that finished). */
  summary?: RunSummary;
}

/** Selects the backend, trains into the run directory `out`; see TrainNodeOptions. */
export async function trainNode(
  opts: TrainNodeOptions & { config: { csq: object } },
): Promise<TrainNodeResult & { kind: 'csq'; report: BudgetReport }>;
export async function trainNode(opts: TrainNodeOptions): Promise<TrainNodeResult>;
export async function trainNode(opts: TrainNodeOptions): Promise<TrainNodeResult> {
  const started = performance.now();
  const log = opts.log ?? ((m: string) => console.log(m));
  let backend: BackendSelection;
  if (typeof opts.backend === 'object') backend = opts.backend;
  else {
    backend = await selectBackend({
      backend: opts.backend ?? 'auto',
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    });
    log(`csq: ${backend.message}`);
  }
  const model = typeof opts.model === 'function' ? opts.model() : opts.model;
  const trainConfig = resolveTrainConfig(opts.config as TrainConfigInput);
  const kind = trainConfig.csq ? 'csq' : 'float';
  const run: RunConfig = opts.run
    ? validateRunConfig(opts.run, 'run')
    : runConfigFromTrain(trainConfig, { backend: backend.name });
  // config.json must describe the training that runs: `run` and `config` agree
  const disagree = configDifference(resolveTrainConfig(toTrainConfig(run, kind)), trainConfig);
  if (disagree) {
    throw new CsqError(
      'CSQ_BAD_CONFIG',
      `the run config and the training config disagree: run has ${disagree.replace(', but now', ' while config has')}; ` +
        'pass the same settings in both (or only config).',
    );
  }
  const store = fileRunStore(opts.out);
  const lock = opts.lock === false ? undefined : await acquireRunLock(opts.out);
  try {
    return await trainInRunDir(opts, {
      store,
      run,
      kind,
      trainConfig,
      backend,
      model,
      log,
      started,
    });
  } finally {
    lock?.release();
    // a failed start removed its files: the folder goes too when trainNode made it
    if (lock?.created) await rmdir(store.location).catch(() => {});
  }
}

async function trainInRunDir(
  opts: TrainNodeOptions,
  c: {
    store: FileRunStore;
    run: RunConfig;
    kind: ModelKind;
    trainConfig: TrainConfig;
    backend: BackendSelection;
    model: tfl.LayersModel;
    log: (m: string) => void;
    started: number;
  },
): Promise<TrainNodeResult> {
  const { store, run, kind, trainConfig, backend, model, log, started } = c;
  const resume =
    opts.resume === 'if-checkpoint'
      ? (await store.readBytes(checkpointName(kind))) !== undefined
      : opts.resume === true;
  const fresh = !resume && (await store.readText(RUN_FILES.config)) === undefined;
  const { backendWas } = await startRunDir(store, run, { resume, kind });
  if (backendWas && backendWas !== backend.name) {
    log(
      `csq: warning: ${store.location} was trained on backend ${backendWas} and continues on ${backend.name}; ` +
        'the numbers will differ slightly from an uninterrupted run.',
    );
  }
  const interrupt =
    opts.handleInterrupt === false
      ? undefined
      : interruptSignal({
          onFirst: () => log('csq: stopping after this batch and saving a checkpoint'),
        });
  const signals = [opts.signal, interrupt?.signal].filter((s): s is AbortSignal => !!s);
  try {
    let result: TrainResult;
    try {
      result = await guardMemory(
        () =>
          train({
            ...opts,
            model,
            store,
            log,
            resume,
            config: trainConfig,
            ...(signals.length ? { signal: AbortSignal.any(signals) } : {}),
          }),
        { model, batch: trainConfig.batchSize, backend: backend.name },
      );
    } catch (e) {
      // a start that failed before its first checkpoint leaves no run behind to block a retry
      const saved = await Promise.all(
        (['csq', 'float'] as const).map((k) => store.readBytes(checkpointName(k))),
      );
      if (fresh && saved.every((b) => b === undefined)) await removeFailedStart(store.location);
      throw e;
    }
    const out: TrainNodeResult = { ...result, model, network: model, backend };
    if (result.stopped) return out;
    const savedSummary = await store.readText(RUN_FILES.summary);
    const hasModel = (await store.readText(`${RUN_FILES.model}/model.json`)) !== undefined;
    if (
      result.alreadyFinished &&
      savedSummary !== undefined &&
      (hasModel || opts.saveModel === false)
    ) {
      log(
        `csq: ${store.location} has already finished all ${result.epochsDone} epochs; nothing to do ` +
          '(model and summary.json left as they are).',
      );
      if (kind === 'csq')
        out.summary = parseSummary(
          savedSummary,
          `${store.location}/${RUN_FILES.summary}`,
        ) as RunSummary;
      return out;
    }
    if (opts.saveModel !== false) await model.save(store.modelHandler('model'));
    if (result.report) {
      out.summary = await writeSummary(store, {
        run,
        backend: backend.name,
        model,
        result: result as TrainResult & { report: BudgetReport },
        floatAccuracy: (await opts.floatAccuracy) ?? null,
        wallSeconds: (performance.now() - started) / 1000,
      });
    }
    return out;
  } finally {
    interrupt?.dispose();
  }
}
