/**
 * Command-line parsing for `csq`: node's util.parseArgs in strict mode, with errors that name
 * the flag and list the valid ones.
 */
import { parseArgs } from 'node:util';
import { CsqError } from '@csq/core';
import { MODEL_NAMES, type RunConfigInput } from '@csq/run-format';

type OptionSpec = { type: 'string' | 'boolean'; short?: string };

/** Flags of `csq train` and the config key each one overrides. */
export const TRAIN_FLAGS: Record<
  string,
  OptionSpec & { key?: keyof RunConfigInput; kind?: 'int' | 'number' | 'string'; help: string }
> = {
  recipe: {
    type: 'string',
    help: 'a named recipe: quickstart, cifar-n8t2, cifar-n6t3a4, imagenet-r18, imagenet-r50',
  },
  config: {
    type: 'string',
    help: 'a JSON config file (keys as in summary/config.json); flags override it',
  },
  data: {
    type: 'string',
    key: 'data',
    kind: 'string',
    help: 'mnist (embedded), idx:DIR, cifar10:DIR or imagefolder:DIR',
  },
  download: {
    type: 'boolean',
    help: 'download MNIST or CIFAR-10 into the data DIR first (needs a network)',
  },
  model: {
    type: 'string',
    key: 'model',
    kind: 'string',
    help: MODEL_NAMES.join(', '),
  },
  epochs: {
    type: 'string',
    key: 'epochs',
    kind: 'int',
    help: 'number of epochs (the ticket phase keeps its distance to the end)',
  },
  ticket: {
    type: 'string',
    key: 'ticket',
    kind: 'int',
    help: 'first epoch of the ticket phase (hard, frozen bit masks)',
  },
  batch: { type: 'string', key: 'batch', kind: 'int', help: 'batch size' },
  lr: { type: 'string', key: 'lr', kind: 'number', help: 'peak learning rate' },
  'target-bits': {
    type: 'string',
    key: 'targetBits',
    kind: 'number',
    help: 'target average bits per weight',
  },
  lambda: { type: 'string', key: 'lambda', kind: 'number', help: 'strength of the budget term' },
  bits: { type: 'string', key: 'bits', kind: 'int', help: 'starting (largest) bit width N' },
  'act-bits': {
    type: 'string',
    key: 'actBits',
    kind: 'int',
    help: 'activation bits (0: full precision)',
  },
  budget: {
    type: 'string',
    key: 'budget',
    kind: 'string',
    help: 'how size is counted: slots, params, bops or storage (bits per weight in the packed file)',
  },
  'enforce-budget': {
    type: 'string',
    key: 'enforceBudget',
    kind: 'string',
    help: 'trim: turn the least important bits off when the search ends until the target is met (default; the paper recipes use off); off: keep what the search reached',
  },
  backend: {
    type: 'string',
    key: 'backend',
    kind: 'string',
    help: 'auto, tfjs-node-gpu, webgpu, tfjs-node, wasm or cpu',
  },
  seed: {
    type: 'string',
    key: 'seed',
    kind: 'int',
    help: 'seed of the model init, data order and augmentation',
  },
  out: { type: 'string', help: 'run directory (default runs/<recipe>-<date>-<time>)' },
  resume: { type: 'boolean', help: 'continue the run in --out from its last checkpoint' },
  restart: {
    type: 'boolean',
    help: 'with --resume: start over when the run has no checkpoint (else that is an error)',
  },
  baseline: { type: 'boolean', help: 'also train the float network with the same schedule' },
  'limit-train': {
    type: 'string',
    key: 'limitTrain',
    kind: 'int',
    help: 'use only the first N training samples',
  },
  'width-multiplier': {
    type: 'string',
    key: 'widthMultiplier',
    kind: 'number',
    help: 'channel multiplier of the ResNets (e.g. 0.25 for quick experiments)',
  },
  'image-size': {
    type: 'string',
    key: 'imageSize',
    kind: 'int',
    help: 'image folder sources: crop size (default 224)',
  },
  workers: {
    type: 'string',
    key: 'workers',
    kind: 'int',
    help: 'image folder sources: decoding worker threads',
  },
  threads: {
    type: 'string',
    help: 'wasm backend: threads in all (default CSQ_WASM_THREADS, else every core; 1 = single-thread build)',
  },
  quiet: { type: 'boolean', help: 'only the final summary' },
  verbose: { type: 'boolean', help: 'say why each faster backend was not used, and how to get it' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
};

/** Parses argv for a command, rejecting unknown flags with the list of valid ones. */
export function parseCommandArgs(
  command: string,
  argv: string[],
  options: Record<string, OptionSpec>,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    const valid = Object.keys(options)
      .map((k) => `--${k}`)
      .join(', ');
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `${(e as Error).message} Valid flags for csq ${command}: ${valid}.`,
    );
  }
}

/** A plain decimal number (no hex, octal, binary, Infinity or blanks): 3, -0.5, 1e-3, .25. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Turns `csq train` flag values into config overrides, checking numbers. */
export function flagsToOverrides(
  values: Record<string, string | boolean | undefined>,
): RunConfigInput {
  const out: Record<string, unknown> = {};
  for (const [flag, spec] of Object.entries(TRAIN_FLAGS)) {
    const v = values[flag];
    if (v === undefined || !spec.key) continue;
    if (spec.kind === 'int' || spec.kind === 'number') {
      const n = Number(v);
      if (
        typeof v !== 'string' ||
        !DECIMAL.test(v) ||
        !Number.isFinite(n) ||
        (spec.kind === 'int' && !Number.isInteger(n))
      ) {
        throw new CsqError(
          'CSQ_BAD_FLAG',
          `--${flag} expects ${spec.kind === 'int' ? 'an integer' : 'a number'}, got "${String(v)}".`,
        );
      }
      out[spec.key] = n;
    } else out[spec.key] = v;
  }
  if (values.baseline === true) out.baseline = true;
  return out as RunConfigInput;
}

/**
 * `--threads N` of `csq train`: the wasm backend's threads in all (the float baseline's thread
 * gets its share). Undefined when the flag is absent.
 */
export function threadsFlag(
  values: Record<string, string | boolean | undefined>,
): number | undefined {
  const v = values.threads;
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `--threads expects a whole number of threads >= 1 (1 = the single-thread wasm build), got "${String(v)}".`,
    );
  }
  return n;
}

/** The help text of `csq train`. */
export function trainHelp(): string {
  const rows = Object.entries(TRAIN_FLAGS).map(
    ([k, s]) => `  --${k}${s.type === 'string' ? ' VALUE' : ''}`.padEnd(24) + s.help,
  );
  return [
    'Usage: csq train --recipe NAME | --config FILE.json [flags]',
    '',
    'Flags:',
    ...rows,
  ].join('\n');
}
