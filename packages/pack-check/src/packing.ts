/**
 * Packing the published packages and installing them into a consumer project, shared by the
 * pack, examples and README checks.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGES } from './packages.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's packages/ folder. */
export const packagesDir = resolve(here, '../..');
/** The repository root. */
export const repoDir = resolve(packagesDir, '..');

/** Runs a command and returns its stdout; throws with its output on a non-zero exit. */
export function run(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout,
    // pnpm's bin shims put the workspace's hoisted packages on NODE_PATH: a consumer would find
    // packages it never installed
    env: { ...process.env, NODE_PATH: '' },
  });
}

/** `pnpm pack`s every published package into `dest`; returns package name -> tarball path. */
export function packAll(dest: string): Map<string, string> {
  mkdirSync(dest, { recursive: true });
  const tarballs = new Map<string, string>();
  for (const pkg of PACKAGES) {
    run('pnpm', ['pack', '--pack-destination', dest], join(packagesDir, pkg.dir));
    const prefix = pkg.name.replace('@', '').replace('/', '-');
    const file = readdirSync(dest).find((f) => f.startsWith(`${prefix}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`pnpm pack made no tarball for ${pkg.name} (run pnpm build first)`);
    tarballs.set(pkg.name, join(dest, file));
  }
  return tarballs;
}
