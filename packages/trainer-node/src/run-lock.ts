/**
 * One process owns a run directory at a time: `run.lock` (pid, host, start time) is created with
 * O_EXCL for the whole run and removed at the end. A lock whose process is gone (same host,
 * `process.kill(pid, 0)` fails) is taken over at once; while we own the directory, the temp
 * files and lock files a killed process left behind are removed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { CsqError } from '@csq/core';

/** The lock file of a run directory. */
export const RUN_LOCK = 'run.lock';

/** What a lock file records about its owner. */
export interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

/** True when `owner` is a process on this machine that no longer exists. */
export function ownerIsGone(owner: LockOwner | undefined): boolean {
  if (!owner || !Number.isInteger(owner.pid) || owner.pid <= 0) return true; // torn or foreign
  if (owner.host !== hostname()) return false; // cannot tell: assume alive
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Reads a lock file's owner (undefined when it is missing or unreadable). */
export function readLockOwner(path: string): LockOwner | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `path` exclusively with this process as owner; false when it exists. */
export function tryCreateLock(path: string): boolean {
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
  };
  try {
    writeFileSync(path, `${JSON.stringify(owner)}\n`, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new CsqError(
      'CSQ_WRITE_FAILED',
      `cannot create ${path}: ${(e as Error).message}. Check that the run directory is writable.`,
    );
  }
}

/** A held run lock; `release()` removes it (once). */
export interface RunLock {
  path: string;
  /** Temp and lock files of killed processes that were removed when the lock was taken. */
  removed: string[];
  /** True when acquireRunLock created the directory. */
  created: boolean;
  release(): void;
}

/**
 * Takes the run directory `dir` for this process (creating it): refuses with CSQ_RUN_LOCKED
 * while another live process holds it, takes over a lock whose process is gone, then removes
 * stale `*.tmp-*` files and `*.lock` files left in the directory, checkpoint/ and model/.
 */
export async function acquireRunLock(dir: string): Promise<RunLock> {
  const root = resolve(dir);
  let created = false;
  try {
    created = (await mkdir(root, { recursive: true })) !== undefined;
  } catch (e) {
    throw new CsqError(
      'CSQ_WRITE_FAILED',
      `cannot create the run directory ${root}: ${(e as Error).message}. Choose an --out on a writable disk.`,
    );
  }
  const path = join(root, RUN_LOCK);
  if (!tryCreateLock(path)) {
    const owner = readLockOwner(path);
    if (!ownerIsGone(owner)) {
      throw new CsqError(
        'CSQ_RUN_LOCKED',
        `${root} is in use by process ${owner?.pid} on ${owner?.host} (since ${owner?.started}); ` +
          `wait for it to finish, or stop it first. If no such process runs, delete ${path}.`,
      );
    }
    rmSync(path, { force: true });
    if (!tryCreateLock(path)) {
      throw new CsqError(
        'CSQ_RUN_LOCKED',
        `${root} was just taken by another process; wait for it to finish.`,
      );
    }
  }
  const removed = await removeLeftovers(root);
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (readLockOwner(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  // a process.exit() (a second Ctrl-C) still frees the directory; kill -9 leaves a lock whose
  // process is gone, which the next start takes over
  process.on('exit', release);
  return { path, removed, created, release };
}

/** Removes `*.tmp-*` and `*.lock` files (not run.lock) in `root`, checkpoint/ and model/. */
async function removeLeftovers(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const sub of ['', 'checkpoint', 'model']) {
    const d = join(root, sub);
    const names = await readdir(d).catch(() => [] as string[]);
    for (const n of names) {
      if (
        (/\.tmp-\d+-[a-z0-9]+$/.test(n) || n.endsWith('.lock')) &&
        !(sub === '' && n === RUN_LOCK)
      ) {
        await rm(join(d, n), { force: true });
        removed.push(join(sub, n));
      }
    }
  }
  return removed;
}
