/**
 * One job of a benchmark app: a recipe at one seed (and optionally another budget or epoch
 * count), trained by the `csq train` command of @csq/cli together with its float baseline, then
 * turned into results/<job>.json and a row of the app's table. Jobs resume where they stopped
 * and are skipped once finished.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  main,
  type RunConfig,
  type RunConfigInput,
  recipe,
  resolveRunConfig,
  validateRunConfig,
} from '@csq/cli';
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
  /** How the data directory is read: CIFAR-10 binary batches or an image folder. */
  dataKind: 'cifar10' | 'imagefolder';
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

/** The run-config settings a job passes to `csq train` on top of its recipe. */
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

/** The run config a job trains with (validated as `csq train` will). */
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
 * Runs one job: skips it when its result exists, resumes it when its run directory holds an
 * unfinished run, else starts `csq train --recipe R --config <settings> --out <run dir>` (CSQ
 * and the float baseline). On success writes results/<job>.json, rewrites the app's table and
 * prints the row.
 */
export async function runJob(job: Job, ctx: JobContext): Promise<JobOutcome> {
  const id = jobId(job);
  const { io, spec } = ctx;
  const say = (m: string) => io.out.write(`${m}\n`);
  const runDir = join(ctx.runsDir, id);
  const resultPath = join(ctx.resultsDir, `${id}.json`);

  const existing = readResult(resultPath);
  if (existing && isFinishedRun(runDir)) {
    say(`${spec.command}: ${id} is finished (${resultPath}); skipped`);
    return { job: id, status: 'skipped', result: existing };
  }

  const cfg = jobConfig(job, ctx);
  if (!isFinishedRun(runDir)) {
    let args: string[];
    const savedPath = join(runDir, 'config.json');
    if (existsSync(savedPath)) {
      const saved = validateRunConfig(JSON.parse(readFileSync(savedPath, 'utf8')), savedPath);
      const diff = firstDifference(saved, cfg);
      if (diff) {
        throw new CsqError(
          'CSQ_APP_RUN_MISMATCH',
          `${runDir} holds an unfinished run with other settings (${diff}). Delete that directory ` +
            'to start over, or pass another --runs directory.',
        );
      }
      say(`${spec.command}: resuming ${id} in ${runDir}`);
      args = ['train', '--out', runDir, '--resume'];
    } else {
      mkdirSync(runDir, { recursive: true });
      const settingsPath = join(runDir, SETTINGS_FILE);
      writeFileSync(settingsPath, `${JSON.stringify(jobSettings(job, ctx), null, 2)}\n`);
      say(`${spec.command}: starting ${id} in ${runDir}`);
      args = ['train', '--recipe', job.recipe, '--config', settingsPath, '--out', runDir];
      if (ctx.download) args.push('--download');
    }
    if (ctx.quiet) args.push('--quiet');
    let code: number;
    try {
      code = await main(args, io);
    } catch (e) {
      const message = (e as Error).message;
      io.err.write(`${spec.command}: ${id} failed: ${message}\n`);
      return { job: id, status: 'failed', message };
    }
    if (code === 130) {
      return {
        job: id,
        status: 'stopped',
        message: 'stopped with a checkpoint; run the same command again to resume',
      };
    }
    if (code !== 0) {
      return { job: id, status: 'failed', message: `csq train exited with code ${code}` };
    }
    const summary = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as {
      backend: string;
    };
    const machine = await describeMachine(summary.backend);
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
  const written = writeResult(ctx.resultsDir, result);
  const table = updateAppTable(ctx.resultsDir, spec.name, spec.title);
  say(
    [
      '',
      `| ${TABLE_HEADER.join(' | ')} |`,
      resultRow(result),
      '',
      `${spec.command}: ${id} written to ${written}; table ${table}`,
    ].join('\n'),
  );
  const failed = result.checks.filter((c) => !c.ok);
  for (const c of failed)
    io.err.write(`${spec.command}: ${id}: schedule check "${c.name}" FAILED: ${c.detail}\n`);
  return { job: id, status: 'done', result };
}
