/**
 * Where a `csq train` run's settings come from: a recipe, a config file, flags, or (with
 * --out DIR --resume alone) the run's own config.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CsqError } from '@csq/core';
import {
  RUN_FILES,
  type RunConfigInput,
  type TrainingRunConfig,
  validateTrainingRunConfig,
} from '@csq/run-format';
import { flagsToOverrides } from './args.js';
import { recipe, resolveRunConfig } from './config.js';

function readConfigFile(path: string): RunConfigInput {
  if (!existsSync(path)) {
    throw new CsqError(
      'CSQ_NO_CONFIG_FILE',
      `config file "${path}" does not exist; pass the path of a JSON file.`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CsqError(
      'CSQ_BAD_CONFIG_FILE',
      code === 'EISDIR'
        ? `config file "${path}" is a directory; pass the path of a JSON file (e.g. --config ${join(path, 'config.json')}).`
        : `cannot read config file "${path}": ${(e as Error).message}.`,
    );
  }
  try {
    const parsed = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the top level must be an object');
    }
    return parsed as RunConfigInput;
  } catch (e) {
    throw new CsqError(
      'CSQ_BAD_CONFIG_FILE',
      `config file "${path}" is not valid JSON: ${(e as Error).message}.`,
    );
  }
}

/** Resolves recipe, config file and flags (or a resumed run's saved config). */
export function resolveTrainArgs(values: Record<string, string | boolean | undefined>): {
  cfg: TrainingRunConfig;
  out: string;
  resume: boolean;
  restart: boolean;
} {
  const resume = values.resume === true;
  const layers: { source: string; config: RunConfigInput }[] = [];
  if (typeof values.recipe === 'string')
    layers.push({ source: `recipe ${values.recipe}`, config: recipe(values.recipe) });
  if (typeof values.config === 'string') {
    const file = readConfigFile(values.config);
    if (typeof file.recipe === 'string' && !values.recipe)
      layers.push({ source: `recipe ${file.recipe}`, config: recipe(file.recipe) });
    layers.push({ source: values.config, config: file });
  }
  const overrides = flagsToOverrides(values);
  const outFlag = typeof values.out === 'string' ? values.out : undefined;
  if (outFlag !== undefined && outFlag.trim() === '') {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      '--out is empty; give the run directory (e.g. --out runs/quick), or leave --out out for runs/<recipe>-<time>.',
    );
  }
  if (values.restart === true && !resume) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      '--restart goes with --resume: csq train --out DIR --resume --restart starts a run that has no checkpoint over.',
    );
  }
  if (layers.length === 0) {
    const saved = outFlag && join(outFlag, RUN_FILES.config);
    if (resume && saved && existsSync(saved)) {
      layers.push({
        source: saved,
        config: validateTrainingRunConfig(readConfigFile(saved), saved),
      });
    } else {
      throw new CsqError(
        'CSQ_NO_RECIPE',
        'csq train needs --recipe NAME or --config FILE.json (or --out DIR --resume for a run that has a config.json). ' +
          'Try: csq train --recipe quickstart',
      );
    }
  }
  if (Object.keys(overrides).length)
    layers.push({ source: 'command-line flags', config: overrides });
  const cfg = resolveRunConfig(layers);
  const name =
    cfg.recipe ?? (typeof values.config === 'string' ? basename(values.config, '.json') : 'run');
  // default: a fresh directory per run (runs/quickstart-20261125-143055); --out names one
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return {
    cfg,
    out: resolve(outFlag ?? join('runs', `${name}-${stamp}`)),
    resume,
    restart: values.restart === true,
  };
}
