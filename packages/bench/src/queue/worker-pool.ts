/**
 * `<app> worker --concurrency K` with K > 1: K worker processes of the same command, each taking
 * one job at a time. A process per job keeps each training in its own tfjs engine (tfjs keeps
 * its backend and kernel registries per process; two trainings initialising one backend at
 * once fail). The children run in their own process group and stop with the parent: Ctrl-C or
 * SIGTERM on the parent becomes SIGTERM for each child (its job saves a checkpoint after the
 * batch and goes back to the queue), a second Ctrl-C kills them, and a child whose parent is
 * gone (kill -9) stops as on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CsqError } from '@csq/core';
import type { AppIO } from '../job.js';

/** Set in the environment of a pool's children. */
export const POOL_CHILD_ENV = 'CSQ_WORKER_POOL_CHILD';

/** `argv` (the words after `worker`) without --concurrency and its value. */
export function withoutConcurrency(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--concurrency') i++;
    else if (!a.startsWith('--concurrency=')) out.push(a);
  }
  return out;
}

/** Runs `concurrency` worker processes of this command; resolves with the worst exit code. */
export async function runWorkerPool(opts: {
  argv: string[];
  concurrency: number;
  io: AppIO;
  /** The command's script (default: this process's, process.argv[1]). */
  entry?: string;
}): Promise<number> {
  const entry = opts.entry ?? process.argv[1];
  if (!entry || !existsSync(entry)) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      '--concurrency K starts K worker processes of this command, but its script is unknown here; start K workers yourself.',
    );
  }
  const args = [...process.execArgv, entry, 'worker', ...withoutConcurrency(opts.argv)];
  const children = Array.from({ length: opts.concurrency }, () =>
    spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
      env: { ...process.env, [POOL_CHILD_ENV]: '1' },
    }),
  );
  let signals = 0;
  const onSignal = () => {
    signals++;
    for (const c of children) if (c.exitCode === null) c.kill(signals > 1 ? 'SIGKILL' : 'SIGTERM');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const codes = await Promise.all(
      children.map(
        (c) =>
          new Promise<number>((resolve) => {
            c.stdout?.on('data', (d) => opts.io.out.write(String(d)));
            c.stderr?.on('data', (d) => opts.io.err.write(String(d)));
            c.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
          }),
      ),
    );
    return Math.max(0, ...codes);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** In a pool's child: stop like on SIGTERM when the parent is gone. */
export function stopWithParent(): void {
  if (process.env[POOL_CHILD_ENV] === '1' && process.connected) {
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    process.channel?.unref(); // the channel alone keeps no child alive
  }
}
