/**
 * The command line every benchmark app shares: one job (`--recipe R --seed S`), a sweep
 * (`--sweep --recipe R1,R2 --target-bits 2,3 --seeds 0,1,2`) or a smoke run of either
 * (`--smoke`, a few steps on tiny files). Training, data and summaries are @csq/cli's.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { flagsToOverrides, parseCommandArgs } from '@csq/cli';
import { CsqError } from '@csq/core';
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
import { configChanges, isFinishedRun } from './results.js';
import { planJobs, runSweep, type SweepPlan } from './sweep.js';

type Flag = { type: 'string' | 'boolean'; short?: string; help: string; arg?: string };

/** csq train flags an app passes through (each overrides the recipe; see `csq train --help`). */
const PASS_THROUGH = ['epochs', 'batch', 'lr', 'lambda', 'limit-train', 'backend'] as const;
const IMAGE_FOLDER_ONLY = ['image-size', 'workers'] as const;

/** The flags of an app. */
export function appFlags(spec: AppSpec): Record<string, Flag> {
  const flags: Record<string, Flag> = {
    recipe: {
      type: 'string',
      arg: 'NAME[,NAME]',
      help: `recipe(s): ${spec.recipes.join(', ')} (a sweep may list several; default: all)`,
    },
    data: {
      type: 'string',
      arg: 'DIR',
      help: `the ${spec.dataKind === 'cifar10' ? 'CIFAR-10' : 'image-folder'} data directory (default ${spec.defaultData})`,
    },
    ...(spec.download
      ? {
          download: {
            type: 'boolean' as const,
            help: 'download CIFAR-10 into DIR first and check its md5 (needs a network)',
          },
        }
      : {}),
    seed: { type: 'string', arg: 'S', help: 'seed of one run (default 0)' },
    'target-bits': {
      type: 'string',
      arg: 'B[,B]',
      help: "target average bits (default: the recipe's; a sweep may list several)",
    },
    sweep: { type: 'boolean', help: 'run every recipe x target bits x seed, one after another' },
    seeds: { type: 'string', arg: 'S,S,...', help: 'seeds of a sweep (default 0)' },
    name: {
      type: 'string',
      arg: 'NAME',
      help: `sweep name: results/NAME.md and .json (default sweep-${spec.name})`,
    },
    smoke: {
      type: 'boolean',
      help: 'a few steps with shrunken settings on small files (tests the pipeline; never a result)',
    },
    epochs: {
      type: 'string',
      arg: 'N',
      help: 'epochs (per round for rounds recipes); changes the recipe',
    },
    batch: { type: 'string', arg: 'N', help: 'batch size; changes the recipe' },
    lr: { type: 'string', arg: 'X', help: 'peak learning rate; changes the recipe' },
    lambda: { type: 'string', arg: 'X', help: 'budget-term strength; changes the recipe' },
    'limit-train': {
      type: 'string',
      arg: 'N',
      help: 'train on the first N images only; changes the recipe',
    },
    ...(spec.dataKind === 'imagefolder'
      ? {
          'image-size': {
            type: 'string' as const,
            arg: 'N',
            help: 'crop size (default 224); changes the recipe',
          },
          workers: {
            type: 'string' as const,
            arg: 'N',
            help: 'JPEG decoding threads (default: cores - 1)',
          },
        }
      : {}),
    'width-multiplier': {
      type: 'string',
      arg: 'X',
      help: 'channel multiplier of the ResNet (default 1); changes the recipe',
    },
    backend: {
      type: 'string',
      arg: 'NAME',
      help: 'auto (default), tfjs-node-gpu, webgpu, tfjs-node, wasm or cpu',
    },
    runs: {
      type: 'string',
      arg: 'DIR',
      help: `run directories (default <repo>/runs/${spec.name})`,
    },
    results: { type: 'string', arg: 'DIR', help: 'results directory (default <repo>/results)' },
    quiet: { type: 'boolean', help: 'no per-epoch progress' },
    'dry-run': {
      type: 'boolean',
      help: 'list the jobs (id, new/resumes/finished, changes from the recipe); run nothing',
    },
    help: { type: 'boolean', short: 'h', help: 'this help' },
  };
  return flags;
}

/** The help text of an app. */
export function appHelp(spec: AppSpec): string {
  const rows = Object.entries(appFlags(spec)).map(
    ([k, f]) => `  --${k}${f.arg ? ` ${f.arg}` : ''}`.padEnd(30) + f.help,
  );
  return [
    `Usage: ${spec.command} --recipe NAME [--data DIR] [--seed S] [flags]`,
    `       ${spec.command} --sweep [--recipe A,B] [--target-bits 2,3] [--seeds 0,1,2] [flags]`,
    `       ${spec.command} --smoke --recipe NAME --data DIR_WITH_SMALL_FILES [--sweep ...]`,
    '',
    `${spec.title}.`,
    'Trains the CSQ model and a float baseline with the same schedule (csq train), writes',
    `results/<job>.json, rewrites results/${spec.name}.md, skips finished jobs and resumes`,
    'stopped ones when run again.',
    '',
    spec.dataHelp,
    '',
    'Flags:',
    ...rows,
  ].join('\n');
}

/** Parses "0,1,2" into numbers (integers when `int`). */
export function parseList(flag: string, value: string, int: boolean): number[] {
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (
    parts.some((p) => p === '') ||
    nums.some((n) => !Number.isFinite(n) || (int && (!Number.isInteger(n) || n < 0)))
  ) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `--${flag} expects ${int ? 'non-negative integers' : 'numbers'} separated by commas, got "${value}".`,
    );
  }
  return [...new Set(nums)];
}

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
      streams.err.write(`${spec.command}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

async function runAppOrThrow(spec: AppSpec, argv: string[], io: AppIO): Promise<number> {
  const flags = appFlags(spec);
  const { values, positionals } = parseCommandArgs(
    spec.command,
    argv,
    Object.fromEntries(
      Object.entries(flags).map(([k, f]) => [
        k,
        { type: f.type, ...(f.short ? { short: f.short } : {}) },
      ]),
    ),
  );
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
    const command = `${spec.command} ${argv.join(' ')}`;
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
