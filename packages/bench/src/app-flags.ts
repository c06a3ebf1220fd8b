/**
 * The flags and help text every benchmark app shares, and those of its `worker` command.
 */
import { CsqError } from '@csq/core';
import type { AppSpec } from './job.js';

/** One flag: its parse type, short form, help line and argument name. */
export type Flag = { type: 'string' | 'boolean'; short?: string; help: string; arg?: string };

/** csq train flags an app passes through (each overrides the recipe; see `csq train --help`). */
export const PASS_THROUGH = ['epochs', 'batch', 'lr', 'lambda', 'limit-train', 'backend'] as const;
export const IMAGE_FOLDER_ONLY = ['image-size', 'workers'] as const;

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
      help: `the ${DATA_KIND_NAMES[spec.dataKind]} data directory (default ${spec.defaultData})`,
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
    queue: {
      type: 'string',
      arg: 'URL',
      help: 'with --sweep: queue the jobs on Redis (redis://HOST:PORT, rediss:// for TLS) for workers',
    },
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
    `       ${spec.command} --sweep ... --queue redis://HOST:PORT   (jobs run on workers)`,
    `       ${spec.command} worker --queue redis://HOST:PORT [--concurrency K] [--gpu I]`,
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

const DATA_KIND_NAMES = { cifar10: 'CIFAR-10', imagefolder: 'image-folder', idx: 'IDX' } as const;

/** The flags of `<app> worker`. */
export function workerFlags(): Record<string, Flag> {
  return {
    queue: {
      type: 'string',
      arg: 'URL',
      help: 'the Redis of the sweep (redis://HOST:PORT, rediss://)',
    },
    concurrency: {
      type: 'string',
      arg: 'K',
      help: 'jobs at once (default 1): K worker processes, one job each',
    },
    gpu: {
      type: 'string',
      arg: 'I',
      help: 'train on GPU I only (sets CUDA_VISIBLE_DEVICES); run one worker per GPU',
    },
    data: { type: 'string', arg: 'DIR', help: "data directory here (default: the coordinator's)" },
    runs: {
      type: 'string',
      arg: 'DIR',
      help: "run directories here (default: the coordinator's; shared storage lets jobs resume)",
    },
    'lock-seconds': {
      type: 'string',
      arg: 'S',
      help: 'a job whose worker is silent this long goes to another worker (default 60)',
    },
    quiet: { type: 'boolean', help: 'no per-epoch progress' },
    help: { type: 'boolean', short: 'h', help: 'this help' },
  };
}

/** The help text of `<app> worker`. */
export function workerHelp(spec: AppSpec): string {
  const rows = Object.entries(workerFlags()).map(
    ([k, f]) => `  --${k}${f.arg ? ` ${f.arg}` : ''}`.padEnd(30) + f.help,
  );
  return [
    `Usage: ${spec.command} worker --queue redis://HOST:PORT [--concurrency K] [--gpu I] [flags]`,
    '',
    `Takes the jobs of \`${spec.command} --sweep ... --queue URL\` from Redis and trains them, until`,
    'Ctrl-C (the running job saves a checkpoint and goes back to the queue). See',
    'docs/distributed-sweeps.md.',
    '',
    'Flags:',
    ...rows,
  ].join('\n');
}

/** parseArgs options of a flag table. */
export function parseOptions(flags: Record<string, Flag>) {
  return Object.fromEntries(
    Object.entries(flags).map(([k, f]) => [
      k,
      { type: f.type, ...(f.short ? { short: f.short } : {}) },
    ]),
  );
}
