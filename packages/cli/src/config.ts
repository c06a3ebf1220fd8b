/**
 * The run configuration of `csq train`: recipe, then config file, then command-line overrides,
 * validated with zod so that unknown keys and bad values are rejected with the key and the
 * allowed values.
 */
import { CsqError } from '@csq/core';
import { z } from 'zod';
import { RECIPE_NAMES, RECIPES } from './recipes.js';

export const MODEL_NAMES = ['mnist-cnn', 'resnet20', 'resnet18', 'resnet50'] as const;
export const BACKEND_NAMES = [
  'auto',
  'tfjs-node-gpu',
  'webgpu',
  'tfjs-node',
  'wasm',
  'cpu',
] as const;

const int = (min: number) => z.number().int().min(min);

/** Every key a config file (or recipe) may hold. */
export const RunConfigSchema = z
  .object({
    recipe: z.string().optional(),
    model: z.enum(MODEL_NAMES),
    data: z.string().min(1),
    bits: int(1).max(16),
    actBits: int(0).max(16),
    targetBits: z.number().positive(),
    budget: z.enum(['slots', 'params', 'bops']),
    lambda: z.number().min(0),
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

/** A validated run configuration. */
export type RunConfig = z.infer<typeof RunConfigSchema>;
/** A config as written in a file or recipe: every key optional. */
export type RunConfigInput = Partial<z.input<typeof RunConfigSchema>>;

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

/** Validates a merged config, throwing one CsqError listing every problem. */
export function validateRunConfig(input: unknown, source = 'config'): RunConfig {
  const parsed = RunConfigSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => describeIssue(i, source));
    throw new CsqError('CSQ_BAD_CONFIG', `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const cfg = parsed.data;
  if (cfg.targetBits > cfg.bits) {
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

/** Looks a recipe up by name, with the list of names on failure. */
export function recipe(name: string): RunConfigInput {
  const r = RECIPES[name];
  if (!r) {
    throw new CsqError(
      'CSQ_UNKNOWN_RECIPE',
      `unknown recipe "${name}"; available recipes: ${RECIPE_NAMES.join(', ')}.`,
    );
  }
  return { ...r, recipe: name };
}

/**
 * Merges recipe < config file < overrides (later wins; `augment` merged key by key) and
 * validates. When the epochs change but the ticket was not given, the ticket moves with them
 * (two epochs before the end for the quickstart; recipes keep their distance to the end), and
 * a recipe's warm-up is cut to end before the last epoch.
 */
export function resolveRunConfig(layers: { source: string; config: RunConfigInput }[]): RunConfig {
  const merged: Record<string, unknown> = {};
  let ticketFromEnd: number | undefined;
  for (const { config } of layers) {
    if (config.epochs !== undefined && config.ticket !== undefined)
      ticketFromEnd = config.epochs - config.ticket;
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) continue;
      if (k === 'augment' && typeof v === 'object' && v !== null) {
        merged.augment = { ...(merged.augment as object | undefined), ...v };
      } else merged[k] = v;
    }
  }
  const explicit = (key: keyof RunConfigInput) =>
    layers.some((l, i) => i > 0 && l.config[key] !== undefined);
  if (!explicit('ticket') && ticketFromEnd !== undefined && typeof merged.epochs === 'number') {
    merged.ticket = Math.max(1, merged.epochs - ticketFromEnd);
  }
  // a recipe's warm-up shrinks with a short run (it must end before the last epoch)
  if (
    !explicit('warmupEpochs') &&
    typeof merged.epochs === 'number' &&
    typeof merged.warmupEpochs === 'number'
  ) {
    merged.warmupEpochs = Math.min(merged.warmupEpochs, merged.epochs - 1);
  }
  return validateRunConfig(merged, layers.map((l) => l.source).join(' + '));
}
