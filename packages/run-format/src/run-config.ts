/**
 * config.json: the settings of a run, flat (one key per setting, as `csq train` flags and recipes
 * name them), validated with zod so that unknown keys and bad values are named with the allowed
 * values. The training part maps one to one onto the trainer's TrainConfig (`toTrainConfig`,
 * `runConfigFromTrain`); the rest says how to rebuild the model and reload the data.
 */
import {
  BUDGET_ENFORCE,
  BUDGET_MODES,
  type BudgetEnforce,
  type BudgetMode,
  CsqError,
} from '@csq/core/base';
import { z } from 'zod';
import type { ModelKind } from './files.js';
import { defaultCsqConfig, type TrainConfig, type TrainConfigInput } from './train-config.js';

/** The networks csq builds by name (`@csq/layers`' buildModel). */
export const MODEL_NAMES = ['mnist-cnn', 'resnet20', 'resnet18', 'resnet50'] as const;
/** One of {@link MODEL_NAMES}. */
export type ModelName = (typeof MODEL_NAMES)[number];
/** The backends a run may ask for in Node (`auto`: the fastest present). */
export const BACKEND_NAMES = [
  'auto',
  'tfjs-node-gpu',
  'webgpu',
  'tfjs-node',
  'wasm',
  'cpu',
] as const;

const int = (min: number) => z.number().int().min(min);

/** Every key config.json (or a recipe, or a config file) may hold. */
export const RunConfigSchema = z
  .object({
    recipe: z.string().optional(),
    /** Absent for a run made from code with a model csq cannot rebuild by name. */
    model: z.enum(MODEL_NAMES).optional(),
    /** Data spec (mnist, idx:DIR, cifar10:DIR, imagefolder:DIR); absent for data given in code. */
    data: z.string().min(1).optional(),
    bits: int(1).max(16).optional(),
    actBits: int(0).max(16).optional(),
    targetBits: z.number().positive(),
    budget: z.enum(BUDGET_MODES as readonly [BudgetMode, ...BudgetMode[]]),
    lambda: z.number().min(0),
    /** Budget enforcement at the end of the search (trainer `csq.budget.enforce`); default trim. */
    enforceBudget: z
      .enum(BUDGET_ENFORCE as readonly [BudgetEnforce, ...BudgetEnforce[]])
      .optional(),
    /** Per-layer bounds by layer name (trainer `csq.budget.layers`). */
    budgetLayers: z
      .record(
        z.string(),
        z
          .object({ minBits: int(0).max(32).optional(), maxBits: int(0).max(32).optional() })
          .strict(),
      )
      .optional(),
    epochs: int(1),
    ticket: int(1).optional(),
    batch: int(1),
    lr: z.number().positive(),
    momentum: z.number().min(0).lt(1),
    weightDecay: z.number().min(0),
    warmupEpochs: int(0),
    schedule: z.enum(['epoch', 'rounds']),
    rounds: int(1).optional(),
    rewindEpoch: int(0).optional(),
    finalTemp: z.number().positive(),
    s0: z.number().optional(),
    augment: z.object({ cropPad: int(0), flip: z.boolean() }).strict(),
    exactEval: z.enum(['epoch', 'end']),
    seed: int(0).default(0),
    backend: z.enum(BACKEND_NAMES).default('auto'),
    limitTrain: int(0).default(0),
    evalBatch: int(1).default(500),
    baseline: z.boolean().default(false),
    imageSize: int(8).optional(),
    widthMultiplier: z.number().positive().optional(),
    workers: int(1).optional(),
  })
  .strict();

/** A validated run configuration (the content of config.json). */
export type RunConfig = z.infer<typeof RunConfigSchema>;
/** A config as written in a file or recipe: every key optional. */
export type RunConfigInput = Partial<z.input<typeof RunConfigSchema>>;

/** The keys `csq train` needs beyond the schema's required ones (it builds model and data). */
export const TRAINING_KEYS = ['model', 'data', 'bits', 'actBits'] as const;

/** A run config that names its network and data, as every `csq train` run's does. */
export type TrainingRunConfig = RunConfig & {
  model: ModelName;
  data: string;
  bits: number;
  actBits: number;
};

/** A readable message for one zod issue: the key, what was wrong, the allowed values. */
function describeIssue(issue: z.core.$ZodIssue, source: string): string {
  const key = issue.path.length ? issue.path.join('.') : '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(RunConfigSchema.shape).join(', ');
    return `${source}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${issue.path.length ? ` in "${key}"` : ''}; allowed keys: ${allowed}`;
  }
  if (issue.code === 'invalid_value' && 'values' in issue) {
    return `${source}: "${key}" must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${source}: "${key}": ${issue.message}`;
}

/** Keys that name Object.prototype machinery rather than settings. */
export const UNSAFE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** Own keys of a config (and of its `augment`) that are in UNSAFE_KEYS, dotted. */
export function unsafeKeys(input: unknown): string[] {
  if (input === null || typeof input !== 'object') return [];
  const out = Object.keys(input).filter((k) => UNSAFE_KEYS.includes(k));
  const augment = Object.hasOwn(input, 'augment')
    ? (input as { augment?: unknown }).augment
    : undefined;
  if (augment !== null && typeof augment === 'object')
    for (const k of Object.keys(augment)) if (UNSAFE_KEYS.includes(k)) out.push(`augment.${k}`);
  return out;
}

/**
 * Validates a config, throwing one CsqError (CSQ_BAD_CONFIG) that lists every problem.
 * `require` names optional keys that must be present (`csq train` passes TRAINING_KEYS).
 */
export function validateRunConfig(
  input: unknown,
  source = 'config',
  opts: { require?: readonly (keyof RunConfig)[] } = {},
): RunConfig {
  const unsafe = unsafeKeys(input);
  if (unsafe.length) {
    // JSON.parse makes "__proto__" an own key; merging it anywhere would change a prototype
    throw new CsqError(
      'CSQ_BAD_CONFIG',
      `invalid configuration: ${source}: unknown key${unsafe.length > 1 ? 's' : ''} ${unsafe.map((k) => `"${k}"`).join(', ')}; allowed keys: ${Object.keys(RunConfigSchema.shape).join(', ')} (nothing was applied)`,
    );
  }
  const parsed = RunConfigSchema.safeParse(input);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => describeIssue(i, source));
  const given = (input ?? {}) as Record<string, unknown>;
  for (const key of opts.require ?? []) {
    if (given[key] === undefined && !problems.some((p) => p.includes(`"${key}"`)))
      problems.push(`${source}: "${key}": required (give it in the recipe, config file or flags)`);
  }
  if (!parsed.success || problems.length) {
    throw new CsqError('CSQ_BAD_CONFIG', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const cfg = parsed.data;
  if (cfg.bits !== undefined && cfg.targetBits > cfg.bits) {
    throw new CsqError(
      'CSQ_BAD_CONFIG',
      `${source}: "targetBits" (${cfg.targetBits}) must not exceed "bits" (${cfg.bits}).`,
    );
  }
  if (cfg.warmupEpochs >= cfg.epochs) {
    throw new CsqError(
      'CSQ_BAD_CONFIG',
      `${source}: "warmupEpochs" (${cfg.warmupEpochs}) must be below "epochs" (${cfg.epochs}).`,
    );
  }
  if (cfg.schedule === 'epoch' && cfg.ticket !== undefined && cfg.ticket > cfg.epochs) {
    throw new CsqError(
      'CSQ_BAD_CONFIG',
      `${source}: "ticket" (${cfg.ticket}) must be at most "epochs" (${cfg.epochs}).`,
    );
  }
  return cfg;
}

/** Validates a config that must name its network and data (TRAINING_KEYS), as `csq train` needs. */
export function validateTrainingRunConfig(input: unknown, source = 'config'): TrainingRunConfig {
  return validateRunConfig(input, source, { require: TRAINING_KEYS }) as TrainingRunConfig;
}

/** The trainer's config of a run (its CSQ part omitted for the float baseline). */
export function toTrainConfig(cfg: RunConfig, kind: ModelKind): TrainConfigInput {
  return {
    epochs: cfg.epochs,
    batchSize: cfg.batch,
    lr: cfg.lr,
    momentum: cfg.momentum,
    weightDecay: cfg.weightDecay,
    warmupEpochs: cfg.warmupEpochs,
    seed: cfg.seed,
    augment: cfg.augment,
    limitTrain: cfg.limitTrain,
    evalBatchSize: cfg.evalBatch,
    exactEval: cfg.exactEval,
    csq:
      kind === 'csq'
        ? {
            schedule: cfg.schedule,
            ...(cfg.ticket !== undefined ? { ticket: cfg.ticket } : {}),
            finalTemp: cfg.finalTemp,
            ...(cfg.rounds !== undefined ? { rounds: cfg.rounds } : {}),
            ...(cfg.rewindEpoch !== undefined ? { rewindEpoch: cfg.rewindEpoch } : {}),
            ...(cfg.s0 !== undefined ? { s0: cfg.s0 } : {}),
            budget: {
              mode: cfg.budget,
              targetBits: cfg.targetBits,
              lambda: cfg.lambda,
              ...(cfg.enforceBudget !== undefined ? { enforce: cfg.enforceBudget } : {}),
              ...(cfg.budgetLayers !== undefined ? { layers: cfg.budgetLayers } : {}),
            },
          }
        : false,
  };
}

/**
 * The run config of a resolved trainer config (what trainNode writes to config.json for a run
 * made from code), plus what is known about model and data. A float-only run records the CSQ
 * defaults for the CSQ keys.
 */
export function runConfigFromTrain(
  train: TrainConfig,
  extra: Partial<
    Pick<
      RunConfig,
      'recipe' | 'model' | 'data' | 'bits' | 'actBits' | 'backend' | 'baseline' | 'imageSize'
    >
  > &
    Pick<RunConfigInput, 'widthMultiplier' | 'workers'> = {},
): RunConfig {
  const csq = train.csq ?? defaultCsqConfig(train.epochs);
  const input: RunConfigInput = {
    ...extra,
    targetBits: csq.budget.targetBits,
    budget: csq.budget.mode,
    lambda: csq.budget.lambda,
    enforceBudget: csq.budget.enforce,
    ...(csq.budget.layers !== undefined ? { budgetLayers: csq.budget.layers } : {}),
    epochs: train.epochs,
    ...(csq.schedule === 'epoch' ? { ticket: csq.ticket } : {}),
    batch: train.batchSize,
    lr: train.lr,
    momentum: train.momentum,
    weightDecay: train.weightDecay,
    warmupEpochs: train.warmupEpochs,
    schedule: csq.schedule,
    ...(csq.schedule === 'rounds' ? { rounds: csq.rounds, rewindEpoch: csq.rewindEpoch } : {}),
    finalTemp: csq.finalTemp,
    s0: csq.s0,
    augment: { ...train.augment },
    exactEval: train.exactEval,
    seed: train.seed,
    limitTrain: train.limitTrain,
    evalBatch: train.evalBatchSize,
  };
  for (const k of Object.keys(input) as (keyof RunConfigInput)[])
    if (input[k] === undefined) delete input[k];
  return validateRunConfig(input, 'the run config');
}

/**
 * The first setting that differs between two configs, as "key = old, but now key = new"
 * (nested keys dotted), ignoring `ignore`; undefined when they agree.
 */
export function configDifference(
  before: object,
  now: object,
  ignore: readonly string[] = [],
): string | undefined {
  const flat = (o: unknown, prefix = ''): Record<string, unknown> => {
    if (o === null || typeof o !== 'object') return { [prefix]: o };
    return Object.assign(
      {},
      ...Object.entries(o).map(([k, v]) => flat(v, prefix ? `${prefix}.${k}` : k)),
    );
  };
  const a = flat(before);
  const b = flat(now);
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (ignore.includes(k)) continue;
    if (a[k] !== b[k])
      return `${k} = ${JSON.stringify(a[k])}, but now ${k} = ${JSON.stringify(b[k])}`;
  }
  return undefined;
}
