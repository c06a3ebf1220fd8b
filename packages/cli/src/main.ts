/**
 * The `csq` command: dispatches subcommands and turns CsqErrors into clear messages.
 */
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { type CommandIO, trainCommand } from './train-command.js';

const HELP = `csq: CSQ mixed-precision quantization-aware training for TensorFlow.js

Usage:
  csq train --recipe NAME | --config FILE.json [flags]   train (see csq train --help)
  csq eval RUN_DIR                                        accuracy of a saved run, soft and exact
  csq info RUN_DIR                                        what a run holds
  csq export RUN_DIR --out DIR [--format tfjs]            the exact model, packed at its own bits
  csq report RUN_DIR [--out FILE.html]                    an HTML report with charts
  csq doctor [--verbose]                                  what this machine can train on, and why not

Start with: csq train --recipe quickstart --baseline
`;

type Command = (argv: string[], io: CommandIO) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  train: async () => trainCommand,
  eval: async () => (await import('./run-commands.js')).evalCommand,
  info: async () => (await import('./run-commands.js')).infoCommand,
  export: async () => (await import('./run-commands.js')).exportCommand,
  report: async () => (await import('./run-commands.js')).reportCommand,
  doctor: async () => (await import('./doctor-command.js')).doctorCommand,
};

/** Runs the csq command line; resolves to the exit code. */
export async function main(argv: string[], io?: CommandIO): Promise<number> {
  const streams: CommandIO = io ?? {
    out: { write: (t) => process.stdout.write(t), isTTY: process.stdout.isTTY === true },
    err: { write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY === true },
  };
  // csq prints its own backend line: no tfjs "running TensorFlow.js in Node.js" banner (prod
  // mode only turns tfjs's console warnings off)
  tf.enableProdMode();
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    streams.out.write(HELP);
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    streams.err.write(
      `csq: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(', ')}.\n\n${HELP}`,
    );
    return 2;
  }
  try {
    return await (await load())(rest, streams);
  } catch (e) {
    if (e instanceof CsqError || (e as { name?: string }).name === 'CsqError') {
      streams.err.write(`csq ${name}: ${(e as Error).message}\n`);
      return 2;
    }
    // a file-system error no check above foresaw (read-only disk, a file where a folder
    // belongs): one line that names the path, not a stack trace
    const fsError = e as NodeJS.ErrnoException;
    if (typeof fsError.code === 'string' && /^E[A-Z]+$/.test(fsError.code) && fsError.syscall) {
      streams.err.write(`csq ${name}: ${fsError.message}\n`);
      return 2;
    }
    throw e;
  }
}
