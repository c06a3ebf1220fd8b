/**
 * The one module of the harness that talks to the training packages (@csq/cli's recipes and
 * config, @csq/trainer's run records, @csq/trainer-node's `trainNode`). Every other module
 * imports what it needs of them from here, so a change of the training API is adapted here
 * only. A job trains like `csq train --baseline`: the float baseline, then the CSQ model, both
 * resumable from their checkpoints, then summary.json.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildRunModel,
  buildSummary,
  countParams,
  loadRunData,
  type RunConfig,
  toTrainConfig,
} from '@csq/cli';
import { CsqController } from '@csq/layers';
import { checkpointName } from '@csq/trainer';
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
export { type MetricsLine, parseMetrics, type RunSummary } from '@csq/trainer';
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

/** Writes `path` whole or not at all (a worker killed mid-write leaves the old file). */
function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
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
  const started = performance.now();
  const log = opts.log ?? (() => {});
  mkdirSync(runDir, { recursive: true });
  writeAtomic(join(runDir, RUN_FILES.config), `${JSON.stringify(cfg, null, 2)}\n`);
  const data = await loadRunData(cfg, { download: opts.download === true });
  const resumed = checkpointedModels(runDir);
  let resumedEpochs = 0;
  const run = (kind: 'csq' | 'float') =>
    trainNode({
      model: () => buildRunModel(cfg, data, kind),
      data,
      config: toTrainConfig(cfg, kind),
      out: runDir,
      backend: cfg.backend,
      resume: resumed.includes(kind),
      saveModel: kind === 'csq',
      log,
      callbacks: [
        {
          onTrainBegin: (info) => {
            resumedEpochs += info.startEpoch;
          },
          onEpochEnd: (line) =>
            opts.onEpoch?.({ model: kind, epoch: line.epoch, epochs: line.epochs }),
        },
      ],
    });
  let float: Awaited<ReturnType<typeof run>> | undefined;
  if (cfg.baseline) {
    float = await run('float');
    if (float.stopped) {
      float.network.dispose();
      return { status: 'stopped', backend: float.backend.name, resumedEpochs };
    }
  }
  const csq = await run('csq');
  if (csq.stopped) {
    float?.network.dispose();
    csq.network.dispose();
    return { status: 'stopped', backend: csq.backend.name, resumedEpochs };
  }
  const floatNetwork = float ? float.network : buildRunModel(cfg, data, 'float');
  const summary = buildSummary({
    recipe: cfg.recipe ?? 'run',
    backend: csq.backend.name,
    epochs: csq.history.length,
    floatAccuracy: float ? float.softAccuracy : null,
    softAccuracy: csq.softAccuracy,
    exactAccuracy: csq.exactAccuracy,
    report: csq.report!,
    floatParams: countParams(floatNetwork),
    wallSeconds: (performance.now() - started) / 1000,
    bits: cfg.bits,
    actBits: cfg.actBits,
    finalBeta: new CsqController(csq.network).beta,
  });
  writeAtomic(join(runDir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  floatNetwork.dispose();
  csq.network.dispose();
  return { status: 'done', backend: csq.backend.name, resumedEpochs };
}
