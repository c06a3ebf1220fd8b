/**
 * The command line every benchmark app shares: one job (`--recipe R --seed S`), a sweep
 * (`--sweep --recipe R1,R2 --target-bits 2,3 --seeds 0,1,2`), on this machine or through a
 * queue (`--queue redis://...`, with `<app> worker` on each GPU), or a smoke run of either
 * (`--smoke`, a few steps on tiny files).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CsqError } from '@csq/core';
import {
  appFlags,
  appHelp,
  IMAGE_FOLDER_ONLY,
  PASS_THROUGH,
  parseList,
  parseOptions,
  workerFlags,
  workerHelp,
} from './app-flags.js';
import {
  type AppIO,
  type AppSpec,
  type JobContext,
  jobConfig,
  jobId,
  recipeConfig,
  runJob,
} from './job.js';
import { repoRoot, userPath } from './paths.js';
import { runQueuedSweep } from './queue/coordinator.js';
import { parseQueueUrl, redactSecrets } from './queue/redis-url.js';
import { runWorker } from './queue/worker.js';
import { runWorkerPool } from './queue/worker-pool.js';
import { configChanges, isFinishedRun } from './results.js';
import { planJobs, runSweep, type SweepPlan } from './sweep.js';
import { flagsToOverrides, parseCommandArgs } from './train-job.js';

function recipesOf(spec: AppSpec, value: string | undefined, sweep: boolean): string[] {
  if (value === undefined) {
    if (sweep) return [...spec.recipes];
    throw new CsqError(
      'CSQ_APP_NO_RECIPE',
      `${spec.command} needs --recipe NAME (one of ${spec.recipes.join(', ')}), or --sweep.`,
    );
  }
  const names = [...new Set(value.split(',').map((s) => s.trim()))];
  for (const n of names) {
    if (!spec.recipes.includes(n)) {
      throw new CsqError(
        'CSQ_APP_UNKNOWN_RECIPE',
        `${spec.command} runs the recipes ${spec.recipes.join(', ')}; got "${n}".`,
      );
    }
  }
  if (!sweep && names.length > 1) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `one run takes one --recipe; got ${names.join(', ')}. Add --sweep to run several.`,
    );
  }
  return names;
}

/**
 * Runs an app with `argv` (the words after the command). Returns the exit code: 0 done, 1 a job
 * failed, 2 a usage error (printed), 130 stopped by Ctrl-C (run again to resume).
 */
export async function runApp(spec: AppSpec, argv: string[], io?: AppIO): Promise<number> {
  const streams: AppIO = io ?? {
    out: { write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true },
    err: { write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY === true },
  };
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  try {
    return await runAppOrThrow(spec, args, streams);
  } catch (e) {
    if ((e as Error).name === 'CsqError') {
      streams.err.write(`${spec.command}: ${redactSecrets((e as Error).message)}\n`);
      return 2;
    }
    throw e;
  }
}

function positiveInt(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CsqError('CSQ_BAD_FLAG', `--${flag} expects an integer >= ${min}, got "${value}".`);
  return n;
}

/** `<app> worker ...`: takes queued jobs until Ctrl-C. */
async function workerCommand(spec: AppSpec, argv: string[], io: AppIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    `${spec.command} worker`,
    argv,
    parseOptions(workerFlags()),
  );
  if (values.help) {
    io.out.write(`${workerHelp(spec)}\n`);
    return 0;
  }
  if (positionals.length)
    throw new CsqError('CSQ_BAD_FLAG', `${spec.command} worker takes no positional arguments.`);
  if (typeof values.queue !== 'string')
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `${spec.command} worker needs --queue redis://HOST:PORT (the Redis of the sweep's coordinator).`,
    );
  const gpu = positiveInt('gpu', values.gpu as string | undefined, 0);
  const concurrency = positiveInt('concurrency', values.concurrency as string | undefined, 1);
  const lockSeconds = positiveInt('lock-seconds', values['lock-seconds'] as string | undefined, 1);
  parseQueueUrl(values.queue);
  if (concurrency !== undefined && concurrency > 1) return runWorkerPool({ argv, concurrency, io });
  return runWorker(spec, {
    url: values.queue,
    io,
    quiet: values.quiet === true,
    ...(gpu !== undefined ? { gpu } : {}),
    ...(lockSeconds !== undefined ? { lockSeconds } : {}),
    ...(typeof values.data === 'string' ? { dataDir: userPath(values.data) } : {}),
    ...(typeof values.runs === 'string' ? { runsDir: userPath(values.runs) } : {}),
  });
}

async function runAppOrThrow(spec: AppSpec, argv: string[], io: AppIO): Promise<number> {
  if (argv[0] === 'worker') return workerCommand(spec, argv.slice(1), io);
  const flags = appFlags(spec);
  const { values, positionals } = parseCommandArgs(spec.command, argv, parseOptions(flags));
  if (values.help) {
    io.out.write(`${appHelp(spec)}\n`);
    return 0;
  }
  if (positionals.length) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `${spec.command} takes no positional arguments, got "${positionals.join(' ')}"; see --help.`,
    );
  }
  const sweep = values.sweep === true;
  const smoke = values.smoke === true;
  if (sweep && values.seed !== undefined)
    throw new CsqError('CSQ_BAD_FLAG', 'a sweep takes --seeds S,S,...; --seed is for one run.');
  if (!sweep && values.seeds !== undefined)
    throw new CsqError('CSQ_BAD_FLAG', '--seeds is for sweeps; add --sweep, or give one --seed.');
  if (!sweep && values.name !== undefined)
    throw new CsqError('CSQ_BAD_FLAG', '--name names a sweep; add --sweep.');
  if (!sweep && values.queue !== undefined)
    throw new CsqError(
      'CSQ_BAD_FLAG',
      '--queue sends the jobs of a sweep to workers; add --sweep (a single job is a sweep of one seed).',
    );

  const recipes = recipesOf(spec, values.recipe as string | undefined, sweep);
  const targets =
    typeof values['target-bits'] === 'string'
      ? parseList('target-bits', values['target-bits'], false)
      : [];
  if (!sweep && targets.length > 1) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `one run takes one --target-bits; got ${targets.join(', ')}. Add --sweep to run several.`,
    );
  }
  const seeds = sweep
    ? parseList('seeds', (values.seeds as string | undefined) ?? '0', true)
    : parseList('seed', (values.seed as string | undefined) ?? '0', true);

  // csq train flags, checked and converted by @csq/cli
  const passed = [...PASS_THROUGH, ...(spec.dataKind === 'imagefolder' ? IMAGE_FOLDER_ONLY : [])];
  const overrides: Record<string, unknown> = flagsToOverrides(
    Object.fromEntries(passed.map((k) => [k, values[k]])),
  );
  if (typeof values['width-multiplier'] === 'string') {
    const w = Number(values['width-multiplier']);
    if (!(w > 0) || !Number.isFinite(w)) {
      throw new CsqError(
        'CSQ_BAD_FLAG',
        `--width-multiplier expects a positive number, got "${values['width-multiplier']}".`,
      );
    }
    overrides.widthMultiplier = w;
  }

  const root = repoRoot();
  const runsDir =
    typeof values.runs === 'string'
      ? userPath(values.runs)
      : resolve(root, 'runs', smoke ? `${spec.name}-smoke` : spec.name);
  const defaultResults = resolve(root, 'results');
  const resultsDir =
    typeof values.results === 'string'
      ? userPath(values.results)
      : smoke
        ? resolve(runsDir, 'results')
        : defaultResults;
  if (smoke && resultsDir === defaultResults) {
    throw new CsqError(
      'CSQ_APP_SMOKE_RESULTS',
      `smoke runs never write into ${defaultResults} (their numbers are not results); pass another --results DIR or leave it out.`,
    );
  }
  const ctx: JobContext = {
    spec,
    dataDir: userPath(typeof values.data === 'string' ? values.data : spec.defaultData),
    runsDir,
    resultsDir,
    download: values.download === true,
    quiet: values.quiet === true,
    io,
  };

  const plan: SweepPlan = {
    name: typeof values.name === 'string' ? values.name : `sweep-${spec.name}`,
    recipes,
    targetBits: targets,
    seeds,
    smoke,
    overrides,
  };
  if (sweep && !/^[A-Za-z0-9._-]+$/.test(plan.name)) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `--name "${plan.name}" must be letters, digits, dots, dashes or underscores (it names files).`,
    );
  }
  if (values['dry-run'] === true) return dryRun(plan, ctx, sweep);
  if (sweep) {
    const command = redactSecrets(`${spec.command} ${argv.join(' ')}`);
    if (typeof values.queue === 'string')
      return (await runQueuedSweep(plan, ctx, command, { url: values.queue })).code;
    return (await runSweep(plan, ctx, command)).code;
  }
  const outcome = await runJob(planJobs(plan)[0]!, ctx);
  if (outcome.status === 'stopped') {
    io.err.write(`${spec.command}: ${outcome.message}\n`);
    return 130;
  }
  if (outcome.status === 'failed') {
    io.err.write(`${spec.command}: ${outcome.job} failed: ${outcome.message}\n`);
    return 1;
  }
  return 0;
}

/** --dry-run: each job's id, state and changes from its recipe, validated; nothing runs. */
function dryRun(plan: SweepPlan, ctx: JobContext, sweep: boolean): number {
  const jobs = planJobs(plan);
  const say = (m: string) => ctx.io.out.write(`${m}\n`);
  say(
    `${ctx.spec.command}: ${jobs.length} job${jobs.length === 1 ? '' : 's'} (dry run; data ` +
      `${ctx.dataDir}, runs ${ctx.runsDir}, results ${ctx.resultsDir}` +
      `${sweep ? `, sweep results/${plan.name}.md` : ''})`,
  );
  for (const job of jobs) {
    const id = jobId(job);
    const cfg = jobConfig(job, ctx);
    const runDir = join(ctx.runsDir, id);
    const state = isFinishedRun(runDir)
      ? 'finished'
      : existsSync(join(runDir, 'config.json'))
        ? 'resumes'
        : 'new';
    const changes = Object.entries(configChanges(cfg, recipeConfig(job.recipe)))
      .map(([k, v]) => `${k} ${JSON.stringify(v.run)}`)
      .join(', ');
    say(`  ${id}  ${state}  ${changes || 'the recipe as written'}`);
  }
  return 0;
}

/** Runs an app with its output captured (tests and programs); `onOut` sees every write. */
export async function runAppCaptured(
  spec: AppSpec,
  argv: string[],
  opts: { onOut?: (text: string) => void } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runApp(spec, argv, {
    out: {
      write: (t) => {
        out += t;
        opts.onOut?.(t);
      },
      isTTY: false,
    },
    err: {
      write: (t) => {
        err += t;
      },
      isTTY: false,
    },
  });
  return { code, out, err };
}
