/**
 * `csq doctor`: what this machine can train on and why not (a thin caller of
 * `@csq/trainer-node`'s `doctor`). Exit status 0 when at least one backend works; with
 * --require-gpu, only when a GPU backend works (tfjs-node-gpu on CUDA, WebGPU on a GPU).
 */
import { parseArgs } from 'node:util';
import { CsqError } from '@csq/core';
import { doctor, formatDoctorReport } from '@csq/trainer-node';
import type { CommandIO } from './train-command.js';

const HELP = `csq doctor [--verbose] [--json] [--require-gpu] [--allow-software]

Checks every backend csq can train on here (tfjs-node-gpu: NVIDIA driver and CUDA/cuDNN
libraries; webgpu: Vulkan loader and drivers, Dawn's adapters; tfjs-node; wasm: SIMD and
threads; cpu) and prints why each one that cannot be used is not, with the command that fixes it.

  --verbose         every check, also those that passed
  --json            the report as JSON
  --require-gpu     exit status 1 unless a GPU backend works
  --allow-software  count a software WebGPU adapter (SwiftShader) as usable
`;

/** Runs `csq doctor` with `argv` (the words after "doctor"). Returns the exit code. */
export async function doctorCommand(argv: string[], io: CommandIO): Promise<number> {
  const options = {
    verbose: { type: 'boolean', short: 'v' },
    json: { type: 'boolean' },
    'require-gpu': { type: 'boolean' },
    'allow-software': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  let values: { [K in keyof typeof options]?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `${(e as Error).message} Valid flags for csq doctor: ${Object.keys(options)
        .map((k) => `--${k}`)
        .join(', ')}.`,
    );
  }
  if (values.help) {
    io.out.write(HELP);
    return 0;
  }
  const report = await doctor(values['allow-software'] ? { allowSoftwareAdapter: true } : {});
  io.out.write(
    values.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : formatDoctorReport(report, { verbose: values.verbose === true }),
  );
  if (values['require-gpu'] && !report.gpu) {
    if (!values.json) io.err.write('csq doctor: no GPU backend works here (--require-gpu).\n');
    return 1;
  }
  return report.ok ? 0 : 1;
}
