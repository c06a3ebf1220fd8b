/**
 * Everything a run is made of before its first batch: the resolved config, checks that model,
 * config and data fit together, the controller, budget term and optimizer, and the model's
 * weights in a stable order.
 */
import { BudgetRegularizer } from '@csq/budget';
import { CsqError } from '@csq/core';
import { CsqController } from '@csq/layers';
import { resolveTrainConfig, type TrainConfigInput, totalEpochs, zeroAccum } from '@csq/run-format';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SgdMomentum } from './optimizer.js';
import { MemoryRunStore } from './store.js';
import type { TrainData, TrainingState, TrainOptions } from './types.js';

/** Resolves and checks the options of `train` into the state the loop starts from. */
export function createTrainingState(opts: TrainOptions): TrainingState {
  const cfg = resolveTrainConfig(opts.config as TrainConfigInput);
  const { model, data } = opts;
  const controller = new CsqController(model);
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
  // model.weights lists trainable weights first, and the frozen masks of the ticket phase are
  // not trainable, so its order changes with the phase: use a stable order
  const ordered = stableWeights(model);
  const masks = new Set(controller.maskVariables().map((w) => w.read() as tf.Variable));
  const trainCount =
    cfg.limitTrain > 0 ? Math.min(cfg.limitTrain, data.train.count) : data.train.count;
  return {
    model,
    controller,
    cfg,
    kind: cfg.csq ? 'csq' : 'float',
    store: opts.store ?? new MemoryRunStore(),
    log: opts.log ?? (() => {}),
    budget: cfg.csq
      ? new BudgetRegularizer(controller, {
          mode: cfg.csq.budget.mode,
          targetBits: cfg.csq.budget.targetBits,
          lambda: cfg.csq.budget.lambda,
          enforce: cfg.csq.budget.enforce,
          ...(cfg.csq.budget.layers ? { layers: cfg.csq.budget.layers } : {}),
        })
      : undefined,
    optimizer: new SgdMomentum(cfg.momentum, cfg.weightDecay),
    weights: ordered.map((w) => w.read() as tf.Variable),
    masks,
    // masks count as trainable in every phase
    trainable: ordered
      .filter((w) => w.trainable || masks.has(w.read() as tf.Variable))
      .map((w) => w.read() as tf.Variable),
    totalEpochs: totalEpochs(cfg),
    batchesPerEpoch: Math.ceil(trainCount / cfg.batchSize),
    epoch: 0,
    batch: 0,
    accum: zeroAccum(),
    history: [],
    rewind: undefined,
    trims: [],
  };
}

/** Every weight of the model, layer by layer, in an order that does not depend on trainability. */
export function stableWeights(model: tfl.LayersModel): tfl.LayerVariable[] {
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

/** Per weight: its kind (the part after the layer name) and shape, e.g. "kernel[3,3,1,16]". */
export function weightSignature(model: tfl.LayersModel): string[] {
  return stableWeights(model).map(
    (w) => `${w.originalName.split('/').pop()}[${w.shape.join(',')}]`,
  );
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
