/**
 * One call to train a CSQ (or float) model in Node on the best backend present, with a run
 * directory on disk, Ctrl-C that saves a checkpoint, and --resume.
 */
import { type TrainOptions, type TrainResult, train } from '@csq/trainer';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type BackendChoice, type BackendSelection, selectBackend } from './backend.js';
import { interruptSignal } from './interrupt.js';
import { fileRunStore } from './run-store.js';

/** Options of trainNode: train()'s, plus a run directory and a backend choice. */
export interface TrainNodeOptions extends Omit<TrainOptions, 'store' | 'signal' | 'model'> {
  /**
   * The model, or a function that builds it: a function runs after the backend is chosen, so
   * the weights live on that backend (a model built before must be built on the same backend).
   */
  model: tfl.LayersModel | (() => tfl.LayersModel);
  /** Run directory (metrics.jsonl, checkpoint/, model/ at the end). */
  out: string;
  /** 'auto' (default): tfjs-node-gpu, tfjs-node, wasm, cpu, the first that works. */
  backend?: BackendChoice;
  /** Save the final model to OUT/model (default true). */
  saveModel?: boolean;
  /** Install the Ctrl-C handler (default true). */
  handleInterrupt?: boolean;
}

/** Selects the backend, trains with a file run store, saves the model; see TrainNodeOptions. */
export async function trainNode(
  opts: TrainNodeOptions,
): Promise<TrainResult & { backend: BackendSelection; network: tfl.LayersModel }> {
  const log = opts.log ?? ((m: string) => console.log(m));
  const backend = await selectBackend({ backend: opts.backend ?? 'auto' });
  log(`csq: ${backend.message}`);
  const model = typeof opts.model === 'function' ? opts.model() : opts.model;
  const store = fileRunStore(opts.out);
  const interrupt =
    opts.handleInterrupt === false
      ? undefined
      : interruptSignal({
          onFirst: () => log('csq: stopping after this batch and saving a checkpoint'),
        });
  try {
    const result = await train({
      ...opts,
      model,
      store,
      log,
      ...(interrupt ? { signal: interrupt.signal } : {}),
    });
    if (!result.stopped && opts.saveModel !== false) await model.save(store.modelHandler('model'));
    return { ...result, backend, network: model };
  } finally {
    interrupt?.dispose();
  }
}
