/** The scenario both WebGPU tests (Node and browser) run on cpu and on WebGPU. Browser-safe. */
import { coreOpsResults, type OpResults } from './core-ops.js';
import { type TinyTrainResult, tinyCsqTraining } from './tiny-train.js';

export interface CoreScenario {
  ops: OpResults;
  train: TinyTrainResult;
}

/** The @csq/core checks and the tiny training, on the active backend. */
export async function coreScenario(): Promise<CoreScenario> {
  return { ops: await coreOpsResults(), train: await tinyCsqTraining() };
}
