/**
 * The one module of the harness that talks to the training packages (@csq/cli's recipes and
 * config, @csq/trainer's run records, @csq/trainer-node's `trainNode`). Every other module
 * imports what it needs of them from here, so a change of the training API is adapted here
 * only. A job trains like `csq train --baseline`: the float baseline, then the CSQ model, both
 * resumable from their checkpoints, then summary.json.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildRunModel, formatLine, loadRunData, type RunConfig, toTrainConfig } from '@csq/cli';
import { checkpointName } from '@csq/run-format';
import { trainNode } from '@csq/trainer-node';

export {
  flagsToOverrides,
  parseCommandArgs,
  type RunConfig,
  type RunConfigInput,
  recipe,
  resolveRunConfig,
  validateRunConfig,
} from '@csq/cli';
export { type MetricsLine, parseMetrics, type RunSummary } from '@csq/run-format';
export { describeBackend } from '@csq/trainer-node';

/** The files of a run directory the harness reads or writes. */
export const RUN_FILES = {
  config: 'config.json',
  summary: 'summary.json',
  metrics: 'metrics.jsonl',
} as const;

/** What {@link trainJob} needs. */
export interface TrainJobOptions {
  /** The validated run config (recipe + the job's settings). */
  cfg: RunConfig;
  /** The job's run directory; resumed from its checkpoints when they are there. */
  runDir: string;
  /** Download the data set first when it is missing (CIFAR-10). */
  download?: boolean;
  /** Progress lines (per epoch; nothing when undefined). */
  log?: (line: string) => void;
  /** Called after every epoch of either model with its metrics line. */
  onEpoch?: (line: { model: 'csq' | 'float'; epoch: number; epochs: number }) => void;
}

/** How a training job ended: finished (summary.json written) or stopped by Ctrl-C. */
export interface TrainJobOutcome {
  status: 'done' | 'stopped';
  /** The tfjs backend it trained on. */
  backend: string;
  /** Epochs of both models done before this call (a resumed run), 0 for a fresh one. */
  resumedEpochs: number;
}

/** The models (float, csq) whose checkpoint is in the run directory. */
export function checkpointedModels(runDir: string): ('csq' | 'float')[] {
  return (['float', 'csq'] as const).filter((k) => existsSync(join(runDir, checkpointName(k))));
}

/**
 * Trains a job's run directory to the end: the float baseline (when `cfg.baseline`), then the
 * CSQ model, each through `trainNode` on `cfg.backend` and resumed from its checkpoint when
 * one is there, then writes summary.json. Ctrl-C stops after the current batch with a
 * checkpoint ('stopped'). Errors a user can cause are thrown as CsqError.
 */
export async function trainJob(opts: TrainJobOptions): Promise<TrainJobOutcome> {
  const { cfg, runDir } = opts;
  const log = opts.log ?? (() => {});
  const data = await loadRunData(cfg, { download: opts.download === true });
  let resumedEpochs = 0;
  const run = (kind: 'csq' | 'float', floatAccuracy?: number | null) =>
    trainNode({
      model: () => buildRunModel(cfg, data, kind),
      data,
      config: toTrainConfig(cfg, kind),
      run: cfg,
      out: runDir,
      backend: cfg.backend,
      resume: 'if-checkpoint',
      saveModel: kind === 'csq',
      ...(floatAccuracy !== undefined ? { floatAccuracy } : {}),
      log,
      callbacks: [
        {
          onTrainBegin: (info) => {
            resumedEpochs += info.startEpoch;
          },
          onEpochEnd: (line) => {
            log(formatLine(line));
            opts.onEpoch?.({ model: kind, epoch: line.epoch, epochs: line.epochs });
          },
        },
      ],
    });
  let floatAccuracy: number | null = null;
  if (cfg.baseline) {
    const float = await run('float');
    float.model.dispose();
    if (float.stopped) return { status: 'stopped', backend: float.backend.name, resumedEpochs };
    floatAccuracy = float.softAccuracy;
  }
  const csq = await run('csq', floatAccuracy);
  csq.model.dispose();
  if (csq.stopped) return { status: 'stopped', backend: csq.backend.name, resumedEpochs };
  return { status: 'done', backend: csq.backend.name, resumedEpochs };
}
