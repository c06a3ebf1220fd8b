/**
 * The CSQ training loop (spec 2, 3 and 6), backend-agnostic: SGD with momentum and weight decay
 * in one group (masks included), warm-up + cosine per epoch, beta per epoch or per round, the
 * ticket switch, the budget term, and evaluation of the soft and exact model each epoch. Its
 * other jobs are plugins: checkpoints and resume (checkpointing.ts), the rounds schedule with
 * rewind (rounds.ts) and the metrics file (metrics-file.ts).
 */
import type { BudgetReport } from '@csq/budget';
import { assertGradientsRegistered } from '@csq/core';
import { budgetEnforcement } from './budget-enforcement.js';
import { checkpointing } from './checkpointing.js';
import { type EpochContext, evaluators, finishEpoch, trainBatches } from './epoch.js';
import { metricsFile } from './metrics-file.js';
import { defaultPreprocess } from './preprocess.js';
import { roundsSchedule } from './rounds.js';
import { createTrainingState } from './run-state.js';
import { type EpochPlan, planEpoch } from './schedule.js';
import { createTrainStep, endsInSoftmax } from './step.js';
import type { CsqTrainResult, TrainerPlugin, TrainOptions, TrainResult } from './types.js';

/**
 * Trains `model` (a CSQ model when `config.csq` is set, a float baseline otherwise) and returns
 * its accuracies. Resumable: with `resume`, continues from the store's checkpoint exactly where it
 * stopped (same numbers as an uninterrupted run on cpu/wasm for the same seed).
 */
export async function train(
  opts: TrainOptions & { config: { csq: object } },
): Promise<CsqTrainResult>;
export async function train(opts: TrainOptions): Promise<TrainResult>;
export async function train(opts: TrainOptions): Promise<TrainResult> {
  assertGradientsRegistered();
  const s = createTrainingState(opts);
  const plugins: TrainerPlugin[] = [
    checkpointing(opts.resume === true),
    budgetEnforcement(), // before the rounds plugin: a round's trim comes before its mask reset
    roundsSchedule(),
    metricsFile(),
    ...(opts.plugins ?? []),
  ];
  const callbacks = [opts.callbacks ?? []].flat();
  const ctx: EpochContext = {
    data: opts.data,
    preprocess: opts.preprocess ?? defaultPreprocess(s.cfg, opts.data.mean, opts.data.std),
    step: createTrainStep(s.model, {
      optimizer: s.optimizer,
      ...(s.budget ? { budget: s.budget } : {}),
      probabilities: endsInSoftmax(s.model),
    }),
    callbacks,
    signal: opts.signal,
  };
  const evaluate = evaluators(s, ctx);

  for (const p of plugins) await p.onTrainBegin?.(s);
  const info = { epochs: s.totalEpochs, batchesPerEpoch: s.batchesPerEpoch };
  for (const cb of callbacks)
    await cb.onTrainBegin?.({ ...info, startEpoch: s.epoch, startBatch: s.batch });
  const alreadyFinished = s.epoch >= s.totalEpochs && s.totalEpochs > 0;
  if (alreadyFinished) {
    // resumed after the last epoch: the model ends as the last epoch left it (beta, ticket)
    const plan = planEpoch(s.totalEpochs - 1, s.cfg);
    s.controller.setBeta(plan.beta);
    s.controller.setTicket(plan.ticket);
  }
  let stopped = false;
  for (; s.epoch < s.totalEpochs; s.epoch++) {
    const plan = planEpoch(s.epoch, s.cfg);
    const fresh = s.batch === 0; // not resumed in the middle of this epoch
    if (fresh) for (const p of plugins) await p.onEpochBegin?.(s, plan);
    s.controller.setBeta(plan.beta);
    s.controller.setTicket(plan.ticket);
    if (fresh && startsTicket(plan, s.epoch, s.cfg))
      for (const p of plugins) await p.onTicketBegin?.(s, plan);
    for (const cb of callbacks) await cb.onEpochBegin?.(s.epoch, plan);
    stopped = await trainBatches(s, plan, ctx);
    if (stopped) {
      for (const p of plugins) await p.onStop?.(s);
      break;
    }
    const line = await finishEpoch(s, plan, evaluate);
    for (const p of plugins) await p.onEpochEnd?.(s, line);
    for (const cb of callbacks) await cb.onEpochEnd?.(line);
  }

  const last = s.history[s.history.length - 1];
  const softAccuracy = last ? (last.softAccuracy ?? last.floatAccuracy ?? 0) : 0;
  let report: BudgetReport | undefined;
  if (s.budget) {
    await s.budget.refresh();
    report = s.budget.report();
  }
  const result: TrainResult = {
    kind: s.kind,
    model: s.kind,
    stopped,
    epochsDone: s.history.length,
    history: s.history,
    softAccuracy,
    exactAccuracy:
      s.kind === 'csq'
        ? (last?.exactAccuracy ?? (stopped ? Number.NaN : await evaluate.exact()))
        : softAccuracy,
    ...(report ? { report } : {}),
    ...(alreadyFinished ? { alreadyFinished: true } : {}),
    ...(s.trims.length ? { trim: s.trims[s.trims.length - 1] } : {}),
  };
  s.optimizer.dispose();
  for (const cb of callbacks) await cb.onTrainEnd?.(result);
  return result;
}

/** True for the first epoch of a ticket phase (the epoch form's ticket, or the final run). */
function startsTicket(plan: EpochPlan, epoch: number, cfg: Parameters<typeof planEpoch>[1]) {
  return plan.ticket && (epoch === 0 || !planEpoch(epoch - 1, cfg).ticket);
}
