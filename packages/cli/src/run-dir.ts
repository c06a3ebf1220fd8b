/**
 * Reading a finished (or stopped) run directory: its config, summary and saved model.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CsqError } from '@csq/core';
import { fileSystemIO } from '@csq/layers/node';
import {
  type MetricsRecord,
  parseSummary,
  RUN_FILES,
  type RunConfig,
  readMetrics,
  type SummaryRecord,
  validateRunConfig,
} from '@csq/run-format';
import * as tf from '@tensorflow/tfjs';

/** What a run directory holds. */
export interface RunDir {
  dir: string;
  config: RunConfig;
  summary?: SummaryRecord;
  hasModel: boolean;
}

/** Opens RUN_DIR, with clear errors when it is not a csq run. */
export function openRunDir(dir: string | undefined, command: string): RunDir {
  if (!dir)
    throw new CsqError(
      'CSQ_NO_RUN_DIR',
      `csq ${command} needs a run directory: csq ${command} RUN_DIR`,
    );
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new CsqError(
      'CSQ_NO_RUN_DIR',
      `run directory "${dir}" does not exist; pass the --out directory of a csq train run.`,
    );
  }
  const configPath = join(root, RUN_FILES.config);
  if (!existsSync(configPath)) {
    throw new CsqError(
      'CSQ_NOT_A_RUN',
      `"${dir}" is not a csq run directory (it has no config.json).`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (e) {
    throw new CsqError('CSQ_BAD_RUN', `${configPath} is not valid JSON: ${(e as Error).message}`);
  }
  const config = validateRunConfig(raw, configPath);
  const summaryPath = join(root, RUN_FILES.summary);
  const summary = existsSync(summaryPath)
    ? parseSummary(readFileSync(summaryPath, 'utf8'), summaryPath)
    : undefined;
  const hasModel = existsSync(join(root, RUN_FILES.model, 'model.json'));
  return { dir: root, config, ...(summary ? { summary } : {}), hasModel };
}

/** The run's metrics lines (none yet: an empty list). */
export function runMetrics(run: RunDir): MetricsRecord[] {
  const path = join(run.dir, RUN_FILES.metrics);
  return existsSync(path) ? readMetrics(readFileSync(path, 'utf8'), path).lines : [];
}

/** Loads the run's final CSQ model (saved by csq train at the end). */
export async function loadRunModel(run: RunDir, command: string): Promise<tf.LayersModel> {
  if (!run.hasModel) {
    throw new CsqError(
      'CSQ_NO_MODEL',
      `${run.dir} has no saved model (model/model.json): the run has not finished. Finish it with ` +
        `csq train --out ${run.dir} --resume, then run csq ${command} again.`,
    );
  }
  return tf.loadLayersModel(fileSystemIO(join(run.dir, RUN_FILES.model)));
}
