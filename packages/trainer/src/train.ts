/**
 * The CSQ training loop (spec 2, 3 and 6), backend-agnostic: SGD with momentum and weight decay
 * in one group (masks included), warm-up + cosine per epoch, beta per epoch or per round, the
 * ticket switch, rounds with rewind and the mask reset, the budget term, evaluation of the soft
 * model each epoch and of the exact model, checkpoints that resume exactly, and callbacks.
 */
import { BudgetRegularizer, type BudgetReport } from '@csq/budget';
import { assertGradientsRegistered, CsqError } from '@csq/core';
import { type ImageSource, mixSeed } from '@csq/data';
import { CsqController } from '@csq/layers';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { type Preprocess, type RawBatch, readBatch, toTensors } from './batches.js';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import {
  resolveTrainConfig,
  type TrainConfig,
  type TrainConfigInput,
  totalEpochs,
} from './config.js';
import { evaluateAccuracy } from './evaluate.js';
import { type MetricsLine, parseMetrics } from './metrics.js';
import { SgdMomentum } from './optimizer.js';
import { defaultPreprocess, shuffledOrder } from './preprocess.js';
import { type EpochPlan, planEpoch } from './schedule.js';
import { MemoryRunStore, type RunStore } from './store.js';

/** What a batch-end callback sees. */
export interface BatchLogs {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  ce: number;
  penalty: number;
  accuracy: number;
}

/** Keras-style hooks; each may be async. */
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

/** The data a run needs. */
export interface TrainData {
  train: ImageSource;
  test: ImageSource;
  /** Per-channel normalisation. */
  mean: number[];
  std: number[];
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
  /** Aborting saves a checkpoint after the current batch and returns `stopped: true`. */
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** Custom pixel preprocessing (default: the config's augmentation + data mean/std). */
  preprocess?: Preprocess;
}

/** What `train` returns. */
export interface TrainResult {
  model: 'csq' | 'float';
  stopped: boolean;
  epochsDone: number;
  history: MetricsLine[];
  /** Test accuracy of the soft model at the final temperature (float model: its accuracy). */
  softAccuracy: number;
  /** Test accuracy of the exact (Heaviside) model; the float model's accuracy for a float run. */
  exactAccuracy: number;
  /** Budget report at the end (CSQ runs). */
  report?: BudgetReport;
}

interface Accum {
  loss: number;
  ce: number;
  penalty: number;
  correct: number;
  seen: number;
  seconds: number;
}

interface CheckpointHeader {
  format: 'csq-checkpoint';
  version: 1;
  model: 'csq' | 'float';
  config: TrainConfig;
  epoch: number;
  batch: number;
  accum: Accum;
  history: MetricsLine[];
  weightNames: string[];
  hasRewind: boolean;
}

const zeroAccum = (): Accum => ({ loss: 0, ce: 0, penalty: 0, correct: 0, seen: 0, seconds: 0 });

/** The file names a model kind uses in the run store. */
export function checkpointName(kind: 'csq' | 'float'): string {
  return `checkpoint/${kind}.ckpt`;
}

/** Softmax cross-entropy of logits (or of probabilities when the model ends in softmax). */
function crossEntropy(outputs: tf.Tensor, labels: tf.Tensor1D, probabilities: boolean): tf.Scalar {
  return tf.tidy(() => {
    const classes = outputs.shape[outputs.rank - 1]!;
    const oneHot = tf.oneHot(labels, classes);
    if (probabilities) {
      const p = tf.sum(tf.mul(oneHot, outputs), -1);
      return tf.neg(tf.mean(tf.log(tf.add(p, 1e-7)))) as tf.Scalar;
    }
    const lse = tf.logSumExp(outputs, -1);
    return tf.mean(tf.sub(lse, tf.sum(tf.mul(oneHot, outputs), -1))) as tf.Scalar;
  });
}

function endsInSoftmax(model: tfl.LayersModel): boolean {
  const out = model.outputLayers[model.outputLayers.length - 1];
  const act = (out?.getConfig() as { activation?: unknown } | undefined)?.activation;
  return act === 'softmax';
}

/**
 * Trains `model` (a CSQ model when `config.csq` is set, a float baseline otherwise) and returns
 * its accuracies. Resumable: with `resume`, continues from the store's checkpoint exactly where it
 * stopped (same numbers as an uninterrupted run on cpu/wasm for the same seed).
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  assertGradientsRegistered();
  const cfg = resolveTrainConfig(opts.config as TrainConfigInput);
  const { model, data } = opts;
  const store = opts.store ?? new MemoryRunStore();
  const log = opts.log ?? (() => {});
  const callbacks = opts.callbacks
    ? Array.isArray(opts.callbacks)
      ? opts.callbacks
      : [opts.callbacks]
    : [];
  const controller = new CsqController(model);
  const kind: 'csq' | 'float' = cfg.csq ? 'csq' : 'float';
  if (cfg.csq && controller.layers.length === 0) {
    throw new CsqError(
      'CSQ_NO_CSQ_LAYERS',
      'the config asks for CSQ training but the model has no CSQ layers; build it with quantized: true ' +
        'or convert it with quantizeModel(), or drop the csq section to train a float baseline.',
    );
  }
  if (!cfg.csq && controller.layers.length > 0) {
    throw new CsqError(
      'CSQ_MISSING_CSQ_CONFIG',
      `the model has ${controller.layers.length} CSQ layers but the config has no csq section; add one ` +
        '(schedule, ticket, budget) or train a float model.',
    );
  }
  checkDataMatchesModel(model, data);

  const budget = cfg.csq
    ? new BudgetRegularizer(controller, {
        mode: cfg.csq.budget.mode,
        targetBits: cfg.csq.budget.targetBits,
        lambda: cfg.csq.budget.lambda,
      })
    : undefined;
  const preprocess = opts.preprocess ?? defaultPreprocess(cfg, data.mean, data.std);
  const probabilities = endsInSoftmax(model);
  // model.weights lists trainable weights first, and the frozen masks of the ticket phase are
  // not trainable, so its order changes with the phase: use a stable order
  const ordered = stableWeights(model);
  const allWeights = ordered.map((w) => w.read() as tf.Variable);
  const masks = new Set(controller.maskVariables().map((w) => w.read() as tf.Variable));
  // masks count as trainable in every phase
  const trainable = ordered
    .filter((w) => w.trainable || masks.has(w.read() as tf.Variable))
    .map((w) => w.read() as tf.Variable);
  const optimizer = new SgdMomentum(cfg.momentum, cfg.weightDecay);
  const step = createTrainStep(model, { optimizer, budget, probabilities });
  const total = totalEpochs(cfg);
  const trainCount =
    cfg.limitTrain > 0 ? Math.min(cfg.limitTrain, data.train.count) : data.train.count;
  const batchesPerEpoch = Math.ceil(trainCount / cfg.batchSize);
  const ckptName = checkpointName(kind);

  let epoch = 0;
  let batch = 0;
  let accum = zeroAccum();
  let history: MetricsLine[] = [];
  let rewind: Float32Array[] | undefined;

  // ---- resume -----------------------------------------------------------------------------
  if (opts.resume) {
    const bytes = await store.readBytes(ckptName);
    if (!bytes) {
      throw new CsqError(
        'CSQ_NO_CHECKPOINT',
        `cannot resume: no checkpoint ${ckptName} in ${store.location}; start the run without --resume.`,
      );
    }
    const ck = decodeCheckpoint<CheckpointHeader>(bytes, `${store.location}/${ckptName}`);
    const h = ck.header;
    if (h.format !== 'csq-checkpoint' || h.model !== kind) {
      throw new CsqError(
        'CSQ_BAD_CHECKPOINT',
        `${ckptName} holds a "${h.model}" run, not a "${kind}" run.`,
      );
    }
    const diff = configDifference(h.config, cfg);
    if (diff) {
      throw new CsqError(
        'CSQ_RESUME_CONFIG_MISMATCH',
        `cannot resume ${store.location}: it was started with ${diff}. Resume with the same settings, ` +
          'or start a new run in another output directory.',
      );
    }
    // auto-generated layer names (batch_normalization_3...) differ between model instances,
    // so the model is matched on each weight's kind (kernel, gamma...) and shape
    const names = weightSignature(model);
    const mismatch =
      h.weightNames.length !== names.length || h.weightNames.some((n, i) => n !== names[i]);
    if (mismatch) {
      throw new CsqError(
        'CSQ_RESUME_MODEL_MISMATCH',
        `cannot resume ${store.location}: its checkpoint holds a different model (${h.weightNames.length} weights) than ` +
          `the one given (${names.length} weights). Use the same model (and --bits/--act-bits) as the original run.`,
      );
    }
    allWeights.forEach((v, i) => {
      const t = ck.tensors.get(`w${i}`);
      if (!t || !tf.util.arraysEqual(t.shape, v.shape)) {
        throw new CsqError(
          'CSQ_BAD_CHECKPOINT',
          `checkpoint weight ${i} (${names[i]}) is missing or has the wrong shape.`,
        );
      }
      v.assign(tf.tensor(t.values, t.shape));
    });
    const state = trainable.map((_, i) => {
      const t = ck.tensors.get(`m${i}`);
      return t ? tf.tensor(t.values, t.shape) : undefined;
    });
    optimizer.setState(trainable, state);
    tf.dispose(state.filter((s): s is tf.Tensor => s !== undefined));
    if (h.hasRewind)
      rewind = allWeights.map((_, i) => ck.tensors.get(`r${i}`)?.values ?? new Float32Array(0));
    epoch = h.epoch;
    batch = h.batch;
    accum = h.accum;
    history = h.history;
    log(`resumed ${kind} run from ${store.location} at epoch ${epoch + 1}, batch ${batch}`);
  }

  const saveCheckpoint = async (e: number, b: number, acc: Accum) => {
    const tensors: { name: string; shape: number[]; values: Float32Array }[] = [];
    for (const [i, v] of allWeights.entries())
      tensors.push({ name: `w${i}`, shape: v.shape, values: (await v.data()) as Float32Array });
    for (const [i, s] of optimizer.getState(trainable).entries()) {
      if (s)
        tensors.push({ name: `m${i}`, shape: s.shape, values: (await s.data()) as Float32Array });
    }
    for (const [i, values] of (rewind ?? []).entries()) {
      tensors.push({ name: `r${i}`, shape: [values.length], values });
    }
    const header: CheckpointHeader = {
      format: 'csq-checkpoint',
      version: 1,
      model: kind,
      config: cfg,
      epoch: e,
      batch: b,
      accum: acc,
      history,
      weightNames: weightSignature(model),
      hasRewind: rewind !== undefined,
    };
    await store.writeBytes(ckptName, encodeCheckpoint(header, tensors));
  };

  const writeMetrics = () =>
    store.updateText('metrics.jsonl', (old) => {
      const others = parseMetrics(old ?? '').filter((l) => l.model !== kind);
      return [...others, ...history].map((l) => `${JSON.stringify(l)}\n`).join('');
    });

  const evalSoft = () =>
    evaluateAccuracy(model, data.test, { batchSize: cfg.evalBatchSize, preprocess });
  const evalExact = async () => {
    controller.setExact(true);
    try {
      return await evalSoft();
    } finally {
      controller.setExact(false);
    }
  };

  for (const cb of callbacks)
    await cb.onTrainBegin?.({
      epochs: total,
      batchesPerEpoch,
      startEpoch: epoch,
      startBatch: batch,
    });

  let stopped = false;
  let lastExact: number | undefined;
  for (; epoch < total; epoch++) {
    const plan = planEpoch(epoch, cfg);
    const csq = cfg.csq;
    // Round transitions happen once, at the very start of an epoch (batch 0).
    if (csq?.schedule === 'rounds' && batch === 0) {
      if (plan.round === 0 && plan.cycleEpoch === csq.rewindEpoch) {
        rewind = [];
        for (const v of allWeights)
          rewind.push(
            masks.has(v) ? new Float32Array(0) : ((await v.data()) as Float32Array).slice(),
          );
        log(`rewind point saved at epoch ${epoch + 1}`);
      }
      if (plan.round > 0 && plan.cycleEpoch === 0) {
        // spec 2, between search rounds: m <- min(beta m, s0), beta restarts at 1. Not before the
        // final run: its hard masks H(m) keep the bits the last round selected (m > 0), which a
        // reset to s0 = 0 would all turn off.
        if (plan.round < csq.rounds) controller.resetMasks(csq.finalTemp, csq.s0);
        if (plan.round === csq.rounds) {
          // the final run: hard masks, bit planes and float weights rewound (not the masks)
          if (!rewind) throw new CsqError('CSQ_INTERNAL', 'no rewind point was saved in round 0');
          allWeights.forEach((v, i) => {
            if (!masks.has(v)) v.assign(tf.tensor(rewind![i]!, v.shape));
          });
          optimizer.reset();
          log('final run: masks hardened, weights rewound');
        }
      }
    }
    controller.setBeta(plan.beta);
    controller.setTicket(plan.ticket);
    const vars = plan.ticket ? trainable.filter((v) => !masks.has(v)) : trainable;
    const withPenalty =
      budget !== undefined && !plan.ticket && csq !== undefined && csq.budget.lambda > 0;
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch, plan);

    const order = shuffledOrder(trainCount, cfg.seed, epoch);
    const indicesOf = (b: number) =>
      order.subarray(b * cfg.batchSize, Math.min(trainCount, (b + 1) * cfg.batchSize));
    const started = performance.now();
    let pending: Promise<RawBatch> | undefined =
      batch < batchesPerEpoch
        ? readBatch(data.train, indicesOf(batch), {
            train: true,
            seed: mixSeed(cfg.seed, epoch, batch),
          })
        : undefined;
    for (; batch < batchesPerEpoch; batch++) {
      const raw = await pending!;
      pending =
        batch + 1 < batchesPerEpoch
          ? readBatch(data.train, indicesOf(batch + 1), {
              train: true,
              seed: mixSeed(cfg.seed, epoch, batch + 1),
            })
          : undefined;
      if (withPenalty) await budget!.refresh();
      const { x, labels, count } = toTensors(data.train, raw, preprocess);
      const { loss, ce, penalty, correct } = await step(x, labels, {
        lr: plan.lr,
        vars,
        withPenalty,
      });
      tf.dispose([x, labels]);
      if (!Number.isFinite(loss)) {
        throw new CsqError(
          'CSQ_NAN_LOSS',
          `the loss became ${loss} at epoch ${epoch + 1}, batch ${batch + 1} (ce ${ce}, budget term ${penalty}); ` +
            `training stopped. The last good checkpoint is kept in ${store.location}/${ckptName}. ` +
            'Lower the learning rate (--lr) or lambda (--lambda), then start again or --resume.',
        );
      }
      accum.loss += loss * count;
      accum.ce += ce * count;
      accum.penalty += penalty * count;
      accum.correct += correct;
      accum.seen += count;
      const logs: BatchLogs = {
        epoch,
        batch,
        batches: batchesPerEpoch,
        loss,
        ce,
        penalty,
        accuracy: accum.correct / accum.seen,
      };
      for (const cb of callbacks) await cb.onBatchEnd?.(logs);
      if (opts.signal?.aborted) {
        accum.seconds += (performance.now() - started) / 1000;
        await saveCheckpoint(epoch, batch + 1, accum);
        log(
          `stopped: checkpoint saved at epoch ${epoch + 1}, batch ${batch + 1} in ${store.location}`,
        );
        stopped = true;
        break;
      }
    }
    if (stopped) break;
    await pending; // nothing left to read; keeps no promise dangling

    // ---- end of epoch: evaluate, record, checkpoint ------------------------------------------
    accum.seconds += (performance.now() - started) / 1000;
    const evalStart = performance.now();
    const acc = await evalSoft();
    const last = epoch === total - 1;
    lastExact =
      kind === 'csq' && (cfg.exactEval === 'epoch' || last) ? await evalExact() : undefined;
    const line: MetricsLine = {
      model: kind,
      epoch,
      epochs: total,
      ...(cfg.csq?.schedule === 'rounds' ? { round: plan.round } : {}),
      phase: plan.phase,
      lr: plan.lr,
      loss: accum.loss / accum.seen,
      ce: accum.ce / accum.seen,
      trainAccuracy: accum.correct / accum.seen,
      seconds: accum.seconds + (performance.now() - evalStart) / 1000,
    };
    if (kind === 'float') line.floatAccuracy = acc;
    if (budget) {
      await budget.refresh();
      const r = budget.report();
      Object.assign(line, {
        beta: plan.beta,
        penalty: accum.penalty / accum.seen,
        softAccuracy: acc,
        ...(lastExact !== undefined ? { exactAccuracy: lastExact } : {}),
        R: r.ratio,
        targetR: r.targetRatio,
        avgBitsSlots: r.avgBitsSlots,
        avgBitsParams: r.avgBitsParams,
        layerBits: Object.fromEntries(r.layers.map((l) => [l.name, l.bits])),
      });
    }
    history.push(line);
    accum = zeroAccum();
    batch = 0;
    await writeMetrics();
    await saveCheckpoint(epoch + 1, 0, accum);
    log(formatLine(line));
    for (const cb of callbacks) await cb.onEpochEnd?.(line);
  }

  const lastLine = history[history.length - 1];
  const softAccuracy = lastLine ? (lastLine.softAccuracy ?? lastLine.floatAccuracy ?? 0) : 0;
  if (budget) await budget.refresh();
  const result: TrainResult = {
    model: kind,
    stopped,
    epochsDone: history.length,
    history,
    softAccuracy,
    exactAccuracy:
      kind === 'csq'
        ? (lastLine?.exactAccuracy ?? (stopped ? Number.NaN : await evalExact()))
        : softAccuracy,
    ...(budget ? { report: budget.report() } : {}),
  };
  optimizer.dispose();
  for (const cb of callbacks) await cb.onTrainEnd?.(result);
  return result;
}

/** What one training step reports (means over the batch; `correct` is a count). */
export interface StepStats {
  loss: number;
  ce: number;
  penalty: number;
  correct: number;
}

/**
 * One training step of the loop, exactly as `train` runs it: forward in training mode, softmax
 * cross-entropy plus the budget term, gradients of `vars`, the SGD-momentum update with weight
 * decay, and one read of the step's numbers. Exported for benchmarks and custom loops.
 */
export function createTrainStep(
  model: tfl.LayersModel,
  opts: { optimizer: SgdMomentum; budget?: BudgetRegularizer; probabilities?: boolean },
): (
  x: tf.Tensor,
  labels: tf.Tensor1D,
  args: { lr: number; vars: tf.Variable[]; withPenalty: boolean },
) => Promise<StepStats> {
  const probabilities = opts.probabilities ?? endsInSoftmax(model);
  return async (x, labels, { lr, vars, withPenalty }) => {
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const outputs = model.apply(x, { training: true }) as tf.Tensor;
      const ce = crossEntropy(outputs, labels, probabilities);
      const penalty = withPenalty && opts.budget ? opts.budget.penalty() : tf.scalar(0);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(outputs, -1), labels), 'float32'));
      kept = [tf.keep(ce), tf.keep(penalty), tf.keep(correct)];
      return tf.add(ce, penalty) as tf.Scalar;
    }, vars);
    opts.optimizer.step(
      vars,
      vars.map((v) => grads[v.name]),
      lr,
    );
    const statsT = tf.stack([value, ...kept]);
    const stats = await statsT.data();
    tf.dispose([statsT, value, ...kept, ...Object.values(grads)]);
    return { loss: stats[0]!, ce: stats[1]!, penalty: stats[2]!, correct: stats[3]! };
  };
}

/** Per weight: its kind (the part after the layer name) and shape, e.g. "kernel[3,3,1,16]". */
function weightSignature(model: tfl.LayersModel): string[] {
  return stableWeights(model).map(
    (w) => `${w.originalName.split('/').pop()}[${w.shape.join(',')}]`,
  );
}

/** Every weight of the model, layer by layer, in an order that does not depend on trainability. */
function stableWeights(model: tfl.LayersModel): tfl.LayerVariable[] {
  const seen = new Set<tfl.LayerVariable>();
  const out: tfl.LayerVariable[] = [];
  for (const layer of model.layers) {
    // creation order (a layer lists trainable weights first, which moves frozen masks)
    for (const w of [...layer.weights].sort((a, b) => a.id - b.id)) {
      if (!seen.has(w)) {
        seen.add(w);
        out.push(w);
      }
    }
  }
  return out;
}

/** One human-readable line per epoch. */
export function formatLine(l: MetricsLine): string {
  const pct = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);
  const parts = [
    `[${l.model}] epoch ${l.epoch + 1}/${l.epochs}`,
    l.phase,
    `lr ${l.lr.toPrecision(3)}`,
    `loss ${l.loss.toFixed(4)}`,
    `train ${pct(l.trainAccuracy)}`,
  ];
  if (l.model === 'float') parts.push(`test ${pct(l.floatAccuracy)}`);
  else {
    parts.push(`beta ${l.beta?.toPrecision(4)}`, `soft ${pct(l.softAccuracy)}`);
    if (l.exactAccuracy !== undefined) parts.push(`exact ${pct(l.exactAccuracy)}`);
    parts.push(
      `R ${l.R?.toFixed(3)} (target ${l.targetR?.toFixed(3)})`,
      `avg bits ${l.avgBitsSlots?.toFixed(2)}`,
    );
  }
  parts.push(`${l.seconds.toFixed(1)} s`);
  return parts.join(' | ');
}

function configDifference(a: TrainConfig, b: TrainConfig): string | undefined {
  const flat = (o: unknown, prefix = ''): Record<string, unknown> => {
    if (o === null || typeof o !== 'object') return { [prefix]: o };
    return Object.assign(
      {},
      ...Object.entries(o).map(([k, v]) => flat(v, prefix ? `${prefix}.${k}` : k)),
    );
  };
  const fa = flat(a);
  const fb = flat(b);
  for (const k of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
    if (fa[k] !== fb[k])
      return `${k} = ${JSON.stringify(fa[k])}, but now ${k} = ${JSON.stringify(fb[k])}`;
  }
  return undefined;
}

function checkDataMatchesModel(model: tfl.LayersModel, data: TrainData): void {
  const shape = model.inputs[0]?.shape ?? [];
  const [h, w, c] = [shape[1], shape[2], shape[3]];
  for (const [name, s] of [
    ['train', data.train],
    ['test', data.test],
  ] as const) {
    if ((h && h !== s.height) || (w && w !== s.width) || (c && c !== s.channels)) {
      throw new CsqError(
        'CSQ_DATA_SHAPE',
        `the ${name} images are ${s.height}x${s.width}x${s.channels} but the model expects ${h}x${w}x${c}; ` +
          'choose a model built for this data (or set its inputShape).',
      );
    }
  }
  const classes = model.outputs[0]?.shape[model.outputs[0].shape.length - 1];
  if (classes && data.train.numClasses > classes) {
    throw new CsqError(
      'CSQ_DATA_CLASSES',
      `the data has ${data.train.numClasses} classes but the model outputs ${classes}; build the model with numClasses: ${data.train.numClasses}.`,
    );
  }
  if (data.mean.length !== data.train.channels || data.std.length !== data.train.channels) {
    throw new CsqError(
      'CSQ_DATA_NORMALISATION',
      `mean/std have ${data.mean.length}/${data.std.length} values but the images have ${data.train.channels} channels.`,
    );
  }
}
