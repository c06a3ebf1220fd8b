/**
 * Checkpoints as a plugin of the loop: with `resume`, the run continues from the store's
 * checkpoint exactly where it stopped; a checkpoint is written at every epoch's end and when the
 * run is stopped. One file per model (`checkpoint/csq.ckpt`), written atomically by the store.
 */
import { CsqError } from '@csq/core';
import {
  type CheckpointHeader,
  checkpointName,
  configDifference,
  decodeCheckpoint,
  encodeCheckpoint,
} from '@csq/run-format';
import * as tf from '@tensorflow/tfjs-core';
import { weightSignature } from './run-state.js';
import type { TrainerPlugin, TrainingState } from './types.js';

/** The checkpoint plugin; `resume` restores the state before the first batch. */
export function checkpointing(resume: boolean): TrainerPlugin {
  return {
    onTrainBegin: async (s) => {
      if (resume) await restoreCheckpoint(s);
    },
    onEpochEnd: (s) => saveCheckpoint(s, s.epoch + 1, 0),
    onStop: async (s) => {
      await saveCheckpoint(s, s.epoch, s.batch);
      s.log(
        `stopped: checkpoint saved at epoch ${s.epoch + 1}, batch ${s.batch} in ${s.store.location}`,
      );
    },
  };
}

/** Writes the checkpoint: continue at 0-based `epoch`, batch `batch`, with the state's sums. */
async function saveCheckpoint(s: TrainingState, epoch: number, batch: number): Promise<void> {
  const tensors: { name: string; shape: number[]; values: Float32Array }[] = [];
  for (const [i, v] of s.weights.entries())
    tensors.push({ name: `w${i}`, shape: v.shape, values: (await v.data()) as Float32Array });
  for (const [i, m] of s.optimizer.getState(s.trainable).entries()) {
    if (m)
      tensors.push({ name: `m${i}`, shape: m.shape, values: (await m.data()) as Float32Array });
  }
  for (const [i, values] of (s.rewind ?? []).entries()) {
    tensors.push({ name: `r${i}`, shape: [values.length], values });
  }
  const header: CheckpointHeader = {
    format: 'csq-checkpoint',
    version: 1,
    model: s.kind,
    config: s.cfg,
    epoch,
    batch,
    accum: s.accum,
    history: s.history,
    weightNames: weightSignature(s.model),
    hasRewind: s.rewind !== undefined,
    trims: s.trims,
  };
  await s.store.writeBytes(checkpointName(s.kind), encodeCheckpoint(header, tensors));
}

/** Restores weights, momentum, rewind point and progress; refuses another config or model. */
async function restoreCheckpoint(s: TrainingState): Promise<void> {
  const name = checkpointName(s.kind);
  const bytes = await s.store.readBytes(name);
  if (!bytes) {
    throw new CsqError(
      'CSQ_NO_CHECKPOINT',
      `cannot resume: no checkpoint ${name} in ${s.store.location}; start the run without --resume.`,
    );
  }
  const ck = decodeCheckpoint<CheckpointHeader>(bytes, `${s.store.location}/${name}`);
  const h = ck.header;
  if (h.format !== 'csq-checkpoint' || h.model !== s.kind) {
    throw new CsqError(
      'CSQ_BAD_CHECKPOINT',
      `${name} holds a "${h.model}" run, not a "${s.kind}" run.`,
    );
  }
  // checkpoints from before budget.enforce existed: the setting is new, not a different one
  const older = h.config.csq && h.config.csq.budget.enforce === undefined;
  const diff = configDifference(h.config, s.cfg, older ? ['csq.budget.enforce'] : []);
  if (diff) {
    throw new CsqError(
      'CSQ_RESUME_CONFIG_MISMATCH',
      `cannot resume ${s.store.location}: it was started with ${diff}. Resume with the same settings, ` +
        'or start a new run in another output directory.',
    );
  }
  // auto-generated layer names (batch_normalization_3...) differ between model instances,
  // so the model is matched on each weight's kind (kernel, gamma...) and shape
  const names = weightSignature(s.model);
  if (h.weightNames.length !== names.length || h.weightNames.some((n, i) => n !== names[i])) {
    throw new CsqError(
      'CSQ_RESUME_MODEL_MISMATCH',
      `cannot resume ${s.store.location}: its checkpoint holds a different model (${h.weightNames.length} weights) than ` +
        `the one given (${names.length} weights). Use the same model (and --bits/--act-bits) as the original run.`,
    );
  }
  s.weights.forEach((v, i) => {
    const t = ck.tensors.get(`w${i}`);
    if (!t || !tf.util.arraysEqual(t.shape, v.shape)) {
      throw new CsqError(
        'CSQ_BAD_CHECKPOINT',
        `checkpoint weight ${i} (${names[i]}) is missing or has the wrong shape.`,
      );
    }
    v.assign(tf.tensor(t.values, t.shape));
  });
  const momentum = s.trainable.map((_, i) => {
    const t = ck.tensors.get(`m${i}`);
    return t ? tf.tensor(t.values, t.shape) : undefined;
  });
  s.optimizer.setState(s.trainable, momentum);
  tf.dispose(momentum.filter((m): m is tf.Tensor => m !== undefined));
  if (h.hasRewind)
    s.rewind = s.weights.map((_, i) => ck.tensors.get(`r${i}`)?.values ?? new Float32Array(0));
  s.epoch = h.epoch;
  s.batch = h.batch;
  s.accum = h.accum;
  s.history = h.history;
  s.trims = (h.trims ?? []) as TrainingState['trims'];
  s.log(`resumed ${s.kind} run from ${s.store.location} at epoch ${s.epoch + 1}, batch ${s.batch}`);
}
