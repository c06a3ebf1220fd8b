/**
 * One job of a benchmark app: a recipe at one seed (and optionally another budget or epoch
 * count), trained through the training API together with its float baseline (train-job.ts),
 * then turned into results/<job>.json and a row of the app's table. Jobs resume where they
 * stopped and are skipped once finished.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { describeMachine, type MachineInfo } from './machine.js';
import { repoRoot } from './paths.js';
import {
  type AppResult,
  collectResult,
  isFinishedRun,
  readResult,
  resultRow,
  TABLE_HEADER,
  updateAppTable,
  writeResult,
} from './results.js';
import {
  type RunConfig,
  type RunConfigInput,
  recipe,
  resolveRunConfig,
  trainJob,
  validateRunConfig,
} from './train-job.js';

/** Output streams (the same shape @csq/cli's main takes). */
export interface AppIO {
  out: { write(text: string): void; isTTY: boolean };
  err: { write(text: string): void; isTTY: boolean };
}

/** What an app is: its recipes, its data and its smoke settings. */
export interface AppSpec {
  /** Name used in result records and the table file (results/<name>.md). */
  name: string;
  /** Title of the app's results table. */
  title: string;
  /** Command name for help texts. */
  command: string;
  /** The @csq/cli recipes this app runs. */
  recipes: readonly string[];
  /** How the data directory is read: CIFAR-10 binary batches, an image folder or IDX files. */
  dataKind: 'cifar10' | 'imagefolder' | 'idx';
  /** Default data directory (relative to where the command is typed). */
  defaultData: string;
  /** Whether `--download` can fetch the data set (CIFAR-10 only). */
  download: boolean;
  /** Run-config settings of `--smoke` for a recipe: a few steps on tiny files. */
  smoke(recipeName: string): Record<string, unknown>;
  /** Lines of help about the data layout. */
  dataHelp: string;
}

/** A job: recipe and seed, plus what it changes. */
export interface Job {
  recipe: string;
  seed: number;
  /** Another budget than the recipe's (sweeps). */
  targetBits?: number;
  smoke: boolean;
  /** Further run-config overrides from the command line (epochs, batch, ...). */
  overrides: Record<string, unknown>;
}

/** Where a job reads and writes. */
export interface JobContext {
  spec: AppSpec;
  /** Absolute data directory. */
  dataDir: string;
  /** Parent of the run directories (one per job). */
  runsDir: string;
  /** Where results/<job>.json and the tables go. */
  resultsDir: string;
  download: boolean;
  quiet: boolean;
  io: AppIO;
}

/** What running a job came to ('pending': a sweep's job not run yet). */
export interface JobOutcome {
  job: string;
  status: 'done' | 'skipped' | 'stopped' | 'failed' | 'pending';
  result?: AppResult;
  message?: string;
}

// overrides that name a job themselves or do not change what is trained
const UNHASHED = new Set(['backend', 'workers', 'evalBatch', 'epochs', 'targetBits']);

/**
 * The job id, also the name of its run directory and result file: `<recipe>[-t<bits>][-e<epochs>]
 * [-x<hash of other changes>][-smoke]-<seed>`, e.g. `cifar-n8t2-0`, `cifar-n8t2-t3-1`.
 */
export function jobId(job: Job): string {
  const parts = [job.recipe];
  const own = recipe(job.recipe).targetBits;
  if (job.targetBits !== undefined && job.targetBits !== own) parts.push(`t${job.targetBits}`);
  if (job.overrides.epochs !== undefined) parts.push(`e${job.overrides.epochs}`);
  const other = Object.entries(job.overrides)
    .filter(([k, v]) => !UNHASHED.has(k) && v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (other.length) {
    const hash = createHash('sha256').update(JSON.stringify(other)).digest('hex').slice(0, 6);
    parts.push(`x${hash}`);
  }
  if (job.smoke) parts.push('smoke');
  parts.push(String(job.seed));
  return parts.join('-');
}

/** The run-config settings a job trains with on top of its recipe. */
export function jobSettings(job: Job, ctx: Pick<JobContext, 'spec' | 'dataDir'>): RunConfigInput {
  const settings: Record<string, unknown> = {
    ...(job.smoke ? ctx.spec.smoke(job.recipe) : {}),
    ...job.overrides,
    data: `${ctx.spec.dataKind}:${ctx.dataDir}`,
    seed: job.seed,
    baseline: true,
    ...(job.targetBits !== undefined ? { targetBits: job.targetBits } : {}),
  };
  return settings as RunConfigInput;
}

/** The run config a job trains with (validated as `csq train` validates it). */
export function jobConfig(job: Job, ctx: Pick<JobContext, 'spec' | 'dataDir'>): RunConfig {
  return resolveRunConfig([
    { source: `recipe ${job.recipe}`, config: recipe(job.recipe) },
    { source: `${ctx.spec.command} settings`, config: jobSettings(job, ctx) },
  ]);
}

/** The recipe's own config, for the list of changes a run made. */
export function recipeConfig(name: string): RunConfig {
  return resolveRunConfig([{ source: `recipe ${name}`, config: recipe(name) }]);
}

let commitCache: string | null | undefined;
/** The checkout's git commit (undefined outside a git checkout). */
export function gitCommit(): string | undefined {
  if (commitCache === undefined) {
    try {
      commitCache = execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: repoRoot(),
        encoding: 'utf8',
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      commitCache = null;
    }
  }
  return commitCache ?? undefined;
}

const MACHINE_FILE = 'app-machine.json';
const SETTINGS_FILE = 'app-settings.json';

function firstDifference(a: RunConfig, b: RunConfig): string | undefined {
  const x = { ...a, backend: '', workers: undefined } as Record<string, unknown>;
  const y = { ...b, backend: '', workers: undefined } as Record<string, unknown>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
    if (JSON.stringify(x[k]) !== JSON.stringify(y[k]))
      return `${k} ${JSON.stringify(x[k])} there, ${JSON.stringify(y[k])} now`;
  }
  return undefined;
}

/**
 * Checks that a job's run directory can be (re)used: an unfinished run there must have been
 * started with the same settings (backend and decoding threads may differ). Returns the run
 * config, and whether the run resumes.
 */
export function checkRunDir(job: Job, ctx: Pick<JobContext, 'spec' | 'dataDir' | 'runsDir'>) {
  const runDir = join(ctx.runsDir, jobId(job));
  const cfg = jobConfig(job, ctx);
  const savedPath = join(runDir, 'config.json');
  const resumes = !isFinishedRun(runDir) && existsSync(savedPath);
  if (resumes) {
    const saved = validateRunConfig(JSON.parse(readFileSync(savedPath, 'utf8')), savedPath);
    const diff = firstDifference(saved, cfg);
    if (diff) {
      throw new CsqError(
        'CSQ_APP_RUN_MISMATCH',
        `${runDir} holds an unfinished run with other settings (${diff}). Delete that directory ` +
          'to start over, or pass another --runs directory.',
      );
    }
  }
  return { runDir, cfg, resumes };
}

/** What {@link trainAndCollect} came to. */
export interface Collected {
  status: 'done' | 'stopped';
  result?: AppResult;
  /** Epochs (both models) that came from checkpoints of an earlier session. */
  resumedEpochs: number;
  /** Whether this call trained (false: the run directory held a finished run). */
  trained: boolean;
}

/**
 * Trains a job's run directory to the end unless it holds a finished run (resuming an
 * unfinished one), records the machine, and builds its result record. Writes nothing into the
 * results directory. Throws CsqError for what a user can fix (settings, data).
 */
export async function trainAndCollect(
  job: Job,
  ctx: JobContext,
  opts: {
    onEpoch?: (line: { model: 'csq' | 'float'; epoch: number; epochs: number }) => void;
  } = {},
): Promise<Collected> {
  const id = jobId(job);
  const { io, spec } = ctx;
  const say = (m: string) => io.out.write(`${m}\n`);
  const { runDir, cfg, resumes } = checkRunDir(job, ctx);
  let resumedEpochs = 0;
  const trained = !isFinishedRun(runDir);
  if (trained) {
    if (!resumes) {
      mkdirSync(runDir, { recursive: true });
      writeFileSync(
        join(runDir, SETTINGS_FILE),
        `${JSON.stringify(jobSettings(job, ctx), null, 2)}\n`,
      );
    }
    say(`${spec.command}: ${resumes ? 'resuming' : 'starting'} ${id} in ${runDir}`);
    const outcome = await trainJob({
      cfg,
      runDir,
      download: ctx.download,
      ...(ctx.quiet ? {} : { log: say }),
      ...(opts.onEpoch ? { onEpoch: opts.onEpoch } : {}),
    });
    resumedEpochs = outcome.resumedEpochs;
    if (outcome.status === 'stopped') return { status: 'stopped', resumedEpochs, trained };
    const machine = await describeMachine(outcome.backend);
    writeFileSync(join(runDir, MACHINE_FILE), `${JSON.stringify(machine, null, 2)}\n`);
  }
  const machinePath = join(runDir, MACHINE_FILE);
  const machine = existsSync(machinePath)
    ? (JSON.parse(readFileSync(machinePath, 'utf8')) as MachineInfo)
    : null;
  const result = collectResult({
    app: spec.name,
    job: id,
    runDir,
    smoke: job.smoke,
    recipeCfg: recipeConfig(job.recipe),
    machine,
    commit: gitCommit(),
  });
  return { status: 'done', result, resumedEpochs, trained };
}

/** Writes a finished job's result, rewrites the app's table and prints the row. */
export function recordResult(
  result: AppResult,
  ctx: Pick<JobContext, 'spec' | 'resultsDir' | 'io'>,
): void {
  const { io, spec } = ctx;
  const written = writeResult(ctx.resultsDir, result);
  const table = updateAppTable(ctx.resultsDir, spec.name, spec.title);
  io.out.write(
    `${[
      '',
      `| ${TABLE_HEADER.join(' | ')} |`,
      resultRow(result),
      '',
      `${spec.command}: ${result.job} written to ${written}; table ${table}`,
    ].join('\n')}\n`,
  );
  for (const c of result.checks.filter((x) => !x.ok))
    io.err.write(
      `${spec.command}: ${result.job}: schedule check "${c.name}" FAILED: ${c.detail}\n`,
    );
}

/**
 * Runs one job on this machine: skips it when its result exists, resumes it when its run
 * directory holds an unfinished run, else starts it (CSQ and the float baseline). On success
 * writes results/<job>.json, rewrites the app's table and prints the row. A run directory
 * with other settings is refused (CsqError); a failure while training is a 'failed' outcome.
 */
export async function runJob(job: Job, ctx: JobContext): Promise<JobOutcome> {
  const id = jobId(job);
  const { io, spec } = ctx;
  const runDir = join(ctx.runsDir, id);
  const resultPath = join(ctx.resultsDir, `${id}.json`);
  const existing = readResult(resultPath);
  if (existing && isFinishedRun(runDir)) {
    io.out.write(`${spec.command}: ${id} is finished (${resultPath}); skipped\n`);
    return { job: id, status: 'skipped', result: existing };
  }
  checkRunDir(job, ctx);
  let collected: Collected;
  try {
    collected = await trainAndCollect(job, ctx);
  } catch (e) {
    const message = (e as Error).message;
    io.err.write(`${spec.command}: ${id} failed: ${message}\n`);
    return { job: id, status: 'failed', message };
  }
  if (collected.status === 'stopped') {
    return {
      job: id,
      status: 'stopped',
      message: 'stopped with a checkpoint; run the same command again to resume',
    };
  }
  recordResult(collected.result!, ctx);
  return { job: id, status: 'done', result: collected.result! };
}
