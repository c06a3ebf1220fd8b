/**
 * One epoch of the loop: its batches (each read while the previous one trains), then the
 * evaluation and the epoch's metrics line.
 */
import { CsqError } from '@csq/core';
import { mixSeed } from '@csq/data';
import { checkpointName, type MetricsLine, zeroAccum } from '@csq/run-format';
import * as tf from '@tensorflow/tfjs-core';
import { type Preprocess, type RawBatch, readBatch, toTensors } from './batches.js';
import { evaluateAccuracy } from './evaluate.js';
import { shuffledOrder } from './preprocess.js';
import type { EpochPlan } from './schedule.js';
import type { StepStats } from './step.js';
import type { TrainData, TrainerCallbacks, TrainingState } from './types.js';

/** What an epoch needs besides the state. */
export interface EpochContext {
  data: TrainData;
  preprocess: Preprocess;
  step: (
    x: tf.Tensor,
    labels: tf.Tensor1D,
    args: { lr: number; vars: tf.Variable[]; withPenalty: boolean },
  ) => Promise<StepStats>;
  callbacks: TrainerCallbacks[];
  signal: AbortSignal | undefined;
}

/**
 * Trains the batches of the epoch from `state.batch` on. Returns true when stopped by the
 * signal (then `state.batch` is the first batch not trained).
 */
export async function trainBatches(
  s: TrainingState,
  plan: EpochPlan,
  ctx: EpochContext,
): Promise<boolean> {
  const { cfg, batchesPerEpoch } = s;
  const train = ctx.data.train;
  const trainCount = cfg.limitTrain > 0 ? Math.min(cfg.limitTrain, train.count) : train.count;
  const order = shuffledOrder(trainCount, cfg.seed, s.epoch);
  const read = (b: number): Promise<RawBatch> | undefined =>
    b < batchesPerEpoch
      ? readBatch(train, order.subarray(b * cfg.batchSize, (b + 1) * cfg.batchSize), {
          train: true,
          seed: mixSeed(cfg.seed, s.epoch, b),
        })
      : undefined;
  const vars = plan.ticket ? s.trainable.filter((v) => !s.masks.has(v)) : [...s.trainable];
  const withPenalty = s.budget !== undefined && !plan.ticket && (cfg.csq?.budget.lambda ?? 0) > 0;
  const started = performance.now();
  let pending = read(s.batch);
  for (; s.batch < batchesPerEpoch; s.batch++) {
    const raw = await pending!;
    pending = read(s.batch + 1);
    if (withPenalty) await s.budget!.refresh();
    const { x, labels, count: n } = toTensors(train, raw, ctx.preprocess);
    const stats = await ctx.step(x, labels, { lr: plan.lr, vars, withPenalty });
    tf.dispose([x, labels]);
    if (!Number.isFinite(stats.loss)) {
      throw new CsqError(
        'CSQ_NAN_LOSS',
        `the loss became ${stats.loss} at epoch ${s.epoch + 1}, batch ${s.batch + 1} (ce ${stats.ce}, budget term ${stats.penalty}); ` +
          `training stopped. The last good checkpoint is kept in ${s.store.location}/${checkpointName(s.kind)}. ` +
          'Lower the learning rate (--lr) or lambda (--lambda), then start again or --resume.',
      );
    }
    const a = s.accum;
    a.loss += stats.loss * n;
    a.ce += stats.ce * n;
    a.penalty += stats.penalty * n;
    a.correct += stats.correct;
    a.seen += n;
    const logs = { ...stats, epoch: s.epoch, batch: s.batch, batches: batchesPerEpoch };
    for (const cb of ctx.callbacks)
      await cb.onBatchEnd?.({ ...logs, accuracy: a.correct / a.seen });
    if (ctx.signal?.aborted) {
      s.batch++;
      s.accum.seconds += (performance.now() - started) / 1000;
      return true;
    }
  }
  await pending; // nothing left to read; keeps no promise dangling
  s.accum.seconds += (performance.now() - started) / 1000;
  return false;
}

/** Test accuracy of the soft model, and of the exact (Heaviside) one. */
export function evaluators(s: TrainingState, ctx: Pick<EpochContext, 'data' | 'preprocess'>) {
  const soft = () =>
    evaluateAccuracy(s.model, ctx.data.test, {
      batchSize: s.cfg.evalBatchSize,
      preprocess: ctx.preprocess,
    });
  const exact = async () => {
    s.controller.setExact(true);
    try {
      return await soft();
    } finally {
      s.controller.setExact(false);
    }
  };
  return { soft, exact };
}

/**
 * Ends the epoch: evaluates, appends the epoch's line to `state.history`, and starts the next
 * epoch's sums at 0.
 */
export async function finishEpoch(
  s: TrainingState,
  plan: EpochPlan,
  evaluate: ReturnType<typeof evaluators>,
): Promise<MetricsLine> {
  const evalStart = performance.now();
  const acc = await evaluate.soft();
  const last = s.epoch === s.totalEpochs - 1;
  const exact =
    s.kind === 'csq' && (s.cfg.exactEval === 'epoch' || last) ? await evaluate.exact() : undefined;
  const a = s.accum;
  const line: MetricsLine = {
    model: s.kind,
    epoch: s.epoch,
    epochs: s.totalEpochs,
    ...(s.cfg.csq?.schedule === 'rounds' ? { round: plan.round } : {}),
    phase: plan.phase,
    lr: plan.lr,
    loss: a.loss / a.seen,
    ce: a.ce / a.seen,
    trainAccuracy: a.correct / a.seen,
    seconds: a.seconds + (performance.now() - evalStart) / 1000,
  };
  if (s.kind === 'float') line.floatAccuracy = acc;
  if (s.budget) {
    await s.budget.refresh();
    const r = s.budget.report();
    Object.assign(line, {
      beta: plan.beta,
      penalty: a.penalty / a.seen,
      softAccuracy: acc,
      ...(exact !== undefined ? { exactAccuracy: exact } : {}),
      R: r.ratio,
      targetR: r.targetRatio,
      avgBitsSlots: r.avgBitsSlots,
      avgBitsParams: r.avgBitsParams,
      layerBits: Object.fromEntries(r.layers.map((l) => [l.name, l.bits])),
    });
  }
  s.history.push(line);
  s.accum = zeroAccum();
  s.batch = 0;
  return line;
}
