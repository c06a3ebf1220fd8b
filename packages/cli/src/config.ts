/**
 * The run configuration of `csq train`: recipe, then config file, then command-line overrides,
 * merged here and validated once by @csq/run-format's RunConfigSchema (the schema of
 * config.json).
 */
import { CsqError } from '@csq/core';
import {
  type RunConfigInput,
  type TrainingRunConfig,
  unsafeKeys,
  validateTrainingRunConfig,
} from '@csq/run-format';
import { RECIPE_NAMES, RECIPES } from './recipes.js';

/** Looks a recipe up by name, with the list of names on failure. */
export function recipe(name: string): RunConfigInput {
  const r = Object.hasOwn(RECIPES, name) ? RECIPES[name] : undefined;
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
 * (a recipe keeps its distance to the end; with no ticket anywhere the trainer's default
 * applies), and a recipe's warm-up is cut to end before the last epoch.
 */
export function resolveRunConfig(
  layers: { source: string; config: RunConfigInput }[],
): TrainingRunConfig {
  // "__proto__" / "constructor" from a JSON file are refused before anything is merged
  for (const { source, config } of layers) validateKeys(source, config);
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
  return validateTrainingRunConfig(merged, layers.map((l) => l.source).join(' + '));
}

function validateKeys(source: string, config: RunConfigInput): void {
  const bad = unsafeKeys(config);
  if (bad.length) validateTrainingRunConfig(config, source); // throws, listing them as unknown
}
