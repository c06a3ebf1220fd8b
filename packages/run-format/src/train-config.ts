/**
 * The trainer's configuration (spec 2, 3 and 6), its defaults and its validation. The checkpoint
 * header stores it, and config.json's RunConfig maps onto it (run-config.ts).
 */
import {
  type BitBounds,
  BUDGET_ENFORCE,
  BUDGET_MODES,
  type BudgetEnforce,
  type BudgetMode,
  CsqError,
  FINAL_TEMP,
} from '@csq/core/base';

/** The CSQ part of a run: temperature schedule, ticket phase, rounds and the budget term. */
export interface CsqTrainConfig {
  /** `epoch`: beta = finalTemp^(e/ticket) (CIFAR). `rounds`: beta restarts every round (ImageNet). */
  schedule: 'epoch' | 'rounds';
  /** First epoch of the ticket phase (hard, frozen masks). Epoch schedule only. */
  ticket: number;
  /** Temperature reached at the ticket epoch (epoch form) or at the end of a round. */
  finalTemp: number;
  /** Rounds form: number of search rounds of `epochs` epochs each, followed by a final run. */
  rounds: number;
  /** Rounds form: epoch of round 0 whose weights the final run rewinds to. */
  rewindEpoch: number;
  /** Mask logit initial value s0; also the cap of the round reset. */
  s0: number;
  /**
   * Budget term of spec 3; lambda 0 disables it. `enforce`: 'trim' (default) turns the least
   * important bits off at the ticket epoch (and at the end of each round) until the target is
   * met; 'off' keeps what the search reached (the paper's method). `layers`: per-layer
   * `minBits` / `maxBits` by layer name.
   */
  budget: {
    mode: BudgetMode;
    targetBits: number;
    lambda: number;
    enforce: BudgetEnforce;
    layers?: Record<string, BitBounds>;
  };
}

/** Everything the loop needs besides the model and the data. */
export interface TrainConfig {
  /** Epochs (per round, in the rounds form). */
  epochs: number;
  batchSize: number;
  /** Peak learning rate (after warm-up). */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Linear warm-up epochs before the cosine decay (stepped per epoch). */
  warmupEpochs: number;
  /** Seed of the data order and augmentation (model init is seeded by its builder). */
  seed: number;
  /** Train-time augmentation: zero-padded random crop and horizontal flip. */
  augment: { cropPad: number; flip: boolean };
  /** Use only the first N training examples (0: all). */
  limitTrain: number;
  /** Batch size for evaluation. */
  evalBatchSize: number;
  /** Evaluate the exact model every epoch (`epoch`) or only at the end (`end`). */
  exactEval: 'epoch' | 'end';
  /** CSQ settings; absent for a float baseline. */
  csq?: CsqTrainConfig;
}

/** The defaults of the paper's CIFAR recipe (spec 6), used for anything not given. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 10,
  batchSize: 128,
  lr: 0.1,
  momentum: 0.9,
  weightDecay: 5e-4,
  warmupEpochs: 0,
  seed: 0,
  augment: { cropPad: 0, flip: false },
  limitTrain: 0,
  evalBatchSize: 500,
  exactEval: 'end',
};

/**
 * The one default-ticket rule: with no ticket given, the ticket phase (0-based epoch index)
 * starts two epochs before the end, and never before epoch 1.
 */
export function defaultTicket(epochs: number): number {
  return Math.max(1, epochs - 2);
}

/** Defaults of the CSQ part. `ticket` defaults to {@link defaultTicket}. */
export function defaultCsqConfig(epochs: number): CsqTrainConfig {
  return {
    schedule: 'epoch',
    ticket: defaultTicket(epochs),
    finalTemp: FINAL_TEMP,
    rounds: 1,
    rewindEpoch: 0,
    s0: 0,
    budget: { mode: 'slots', targetBits: 2, lambda: 0.01, enforce: 'trim' },
  };
}

/** A partial config as a user writes it. */
export type TrainConfigInput = Partial<Omit<TrainConfig, 'csq' | 'augment'>> & {
  augment?: Partial<TrainConfig['augment']>;
  csq?:
    | (Partial<Omit<CsqTrainConfig, 'budget'>> & { budget?: Partial<CsqTrainConfig['budget']> })
    | false;
};

function bad(key: string, value: unknown, want: string): never {
  throw new CsqError(
    'CSQ_BAD_CONFIG',
    `config "${key}" must be ${want}, got ${JSON.stringify(value)}.`,
  );
}

function int(key: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(key, v, `an integer >= ${min}`);
  return v;
}

function num(
  key: string,
  v: unknown,
  opts: { min?: number; max?: number; positive?: boolean },
): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, v, 'a finite number');
  if (opts.positive && !(v > 0)) bad(key, v, 'a positive number');
  if (opts.min !== undefined && v < opts.min) bad(key, v, `a number >= ${opts.min}`);
  if (opts.max !== undefined && v > opts.max) bad(key, v, `a number <= ${opts.max}`);
  return v;
}

/**
 * Fills defaults and validates every field, throwing a CsqError that names the key and the
 * allowed values. `csq: false` (or absent) trains a float baseline.
 */
export function resolveTrainConfig(input: TrainConfigInput = {}): TrainConfig {
  const d = DEFAULT_TRAIN_CONFIG;
  const epochs = int('epochs', input.epochs ?? d.epochs, 1);
  const cfg: TrainConfig = {
    epochs,
    batchSize: int('batchSize', input.batchSize ?? d.batchSize, 1),
    lr: num('lr', input.lr ?? d.lr, { positive: true }),
    momentum: num('momentum', input.momentum ?? d.momentum, { min: 0, max: 0.999999 }),
    weightDecay: num('weightDecay', input.weightDecay ?? d.weightDecay, { min: 0 }),
    warmupEpochs: int('warmupEpochs', input.warmupEpochs ?? d.warmupEpochs, 0),
    seed: int('seed', input.seed ?? d.seed, 0),
    augment: {
      cropPad: int('augment.cropPad', input.augment?.cropPad ?? d.augment.cropPad, 0),
      flip:
        typeof (input.augment?.flip ?? d.augment.flip) === 'boolean'
          ? (input.augment?.flip ?? d.augment.flip)
          : bad('augment.flip', input.augment?.flip, 'true or false'),
    },
    limitTrain: int('limitTrain', input.limitTrain ?? d.limitTrain, 0),
    evalBatchSize: int('evalBatchSize', input.evalBatchSize ?? d.evalBatchSize, 1),
    exactEval: input.exactEval ?? d.exactEval,
  };
  if (cfg.exactEval !== 'epoch' && cfg.exactEval !== 'end')
    bad('exactEval', cfg.exactEval, '"epoch" or "end"');
  if (cfg.warmupEpochs >= epochs)
    bad('warmupEpochs', cfg.warmupEpochs, `fewer than epochs (${epochs})`);
  if (input.csq) {
    const dc = defaultCsqConfig(epochs);
    const c = input.csq;
    const schedule = c.schedule ?? dc.schedule;
    if (schedule !== 'epoch' && schedule !== 'rounds')
      bad('csq.schedule', schedule, '"epoch" or "rounds"');
    const mode = c.budget?.mode ?? dc.budget.mode;
    if (!BUDGET_MODES.includes(mode))
      bad('csq.budget.mode', mode, BUDGET_MODES.map((m) => `"${m}"`).join(', '));
    const enforce = c.budget?.enforce ?? dc.budget.enforce;
    if (!BUDGET_ENFORCE.includes(enforce))
      bad('csq.budget.enforce', enforce, BUDGET_ENFORCE.map((m) => `"${m}"`).join(' or '));
    const csq: CsqTrainConfig = {
      schedule,
      ticket: int('csq.ticket', c.ticket ?? dc.ticket, 1),
      finalTemp: num('csq.finalTemp', c.finalTemp ?? dc.finalTemp, { positive: true }),
      rounds: int('csq.rounds', c.rounds ?? dc.rounds, 1),
      rewindEpoch: int('csq.rewindEpoch', c.rewindEpoch ?? dc.rewindEpoch, 0),
      s0: num('csq.s0', c.s0 ?? dc.s0, {}),
      budget: {
        mode,
        targetBits: num('csq.budget.targetBits', c.budget?.targetBits ?? dc.budget.targetBits, {
          positive: true,
        }),
        lambda: num('csq.budget.lambda', c.budget?.lambda ?? dc.budget.lambda, { min: 0 }),
        enforce,
        ...(c.budget?.layers !== undefined ? { layers: layerBounds(c.budget.layers) } : {}),
      },
    };
    if (schedule === 'epoch' && csq.ticket > epochs) {
      bad(
        'csq.ticket',
        csq.ticket,
        `at most epochs (${epochs}); use epochs to skip the ticket phase`,
      );
    }
    if (schedule === 'rounds' && csq.rewindEpoch >= epochs) {
      bad('csq.rewindEpoch', csq.rewindEpoch, `an epoch of round 0 (0..${epochs - 1})`);
    }
    cfg.csq = csq;
  }
  return cfg;
}

/** Checks `budget.layers`: { [layerName]: { minBits?, maxBits? } } with integer bits >= 0. */
function layerBounds(v: unknown): Record<string, BitBounds> {
  const want = '{ [layerName]: { minBits?: integer >= 0, maxBits?: integer >= 0 } }';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('csq.budget.layers', v, want);
  const out: Record<string, BitBounds> = {};
  for (const [name, b] of Object.entries(v as Record<string, unknown>)) {
    const key = `csq.budget.layers.${name}`;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) bad(key, b, want);
    const bounds: BitBounds = {};
    for (const [k, x] of Object.entries(b as Record<string, unknown>)) {
      if (k !== 'minBits' && k !== 'maxBits')
        bad(`${key}.${k}`, x, 'absent (allowed: minBits, maxBits)');
      if (x !== undefined) bounds[k] = int(`${key}.${k}`, x, 0);
    }
    if (
      bounds.minBits !== undefined &&
      bounds.maxBits !== undefined &&
      bounds.minBits > bounds.maxBits
    )
      bad(`${key}.minBits`, bounds.minBits, `at most maxBits (${bounds.maxBits})`);
    out[name] = bounds;
  }
  return out;
}

/** Total epochs the loop runs: `epochs`, or rounds x epochs + a final run of `epochs`. */
export function totalEpochs(cfg: TrainConfig): number {
  return cfg.csq?.schedule === 'rounds' ? (cfg.csq.rounds + 1) * cfg.epochs : cfg.epochs;
}
