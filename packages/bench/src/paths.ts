/**
 * Where an app reads and writes: paths given on the command line are relative to the directory
 * the command was typed in (pnpm's INIT_CWD), and the default results/ and runs/ folders sit at
 * the repository root.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory relative paths are resolved against: where the user typed the command. */
export function baseDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.INIT_CWD && env.INIT_CWD.trim() !== '' ? env.INIT_CWD : process.cwd();
}

/**
 * The repository root: the nearest folder above `from` (default: this file) that holds
 * pnpm-workspace.yaml; the current directory when there is none (an installed copy).
 */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** `path` resolved against the command's base directory. */
export function userPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(baseDir(env), path);
}
