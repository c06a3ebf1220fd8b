/**
 * A run directory on disk: whole-file writes are atomic (temp file, then rename), so a crash or
 * Ctrl-C never leaves a half-written checkpoint or metrics file; read-modify-writes take a lock
 * file so a baseline trained in another thread can share metrics.jsonl.
 */
import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CsqError } from '@csq/core';
import { fileSystemIO } from '@csq/layers/node';
import type { RunStore } from '@csq/trainer';
import type * as tf from '@tensorflow/tfjs-core';
import { ownerIsGone, readLockOwner, tryCreateLock } from './run-lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A RunStore over the directory `dir` (created on first write). */
export class FileRunStore implements RunStore {
  readonly location: string;

  constructor(dir: string) {
    this.location = resolve(dir);
  }

  private path(name: string): string {
    if (name.includes('..')) {
      throw new CsqError(
        'CSQ_BAD_PATH',
        `run file name "${name}" must stay inside the run directory.`,
      );
    }
    return join(this.location, name);
  }

  private async read(name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CsqError(
        'CSQ_READ_FAILED',
        `cannot read ${this.path(name)}: ${(e as Error).message}`,
      );
    }
  }

  private async write(name: string, data: string | Uint8Array): Promise<void> {
    const path = this.path(name);
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, data);
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw new CsqError(
        'CSQ_WRITE_FAILED',
        `cannot write ${path}: ${(e as Error).message}. Check that the run directory is writable and the disk has room.`,
      );
    }
  }

  async readText(name: string): Promise<string | undefined> {
    return (await this.read(name))?.toString('utf8');
  }

  writeText(name: string, text: string): Promise<void> {
    return this.write(name, text);
  }

  async appendText(name: string, text: string): Promise<void> {
    const path = this.path(name);
    try {
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, text);
    } catch (e) {
      throw new CsqError(
        'CSQ_WRITE_FAILED',
        `cannot write ${path}: ${(e as Error).message}. Check that the run directory is writable and the disk has room.`,
      );
    }
  }

  async updateText(name: string, update: (old: string | undefined) => string): Promise<void> {
    const release = await this.lock(name);
    try {
      await this.write(name, update(await this.readText(name)));
    } finally {
      await release();
    }
  }

  async readBytes(name: string): Promise<Uint8Array | undefined> {
    const b = await this.read(name);
    return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : undefined;
  }

  writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    return this.write(name, bytes);
  }

  modelHandler(name: string): tf.io.IOHandler {
    return fileSystemIO(this.path(name));
  }

  /**
   * An exclusive lock file next to `name` holding this process's pid. A lock whose process is
   * gone is taken over at once; one older than LOCK_STALE_MS is broken; the wait (LOCK_WAIT_MS)
   * is longer than the staleness age, so a lock left by a killed process never fails a caller.
   */
  private async lock(name: string): Promise<() => Promise<void>> {
    const lockPath = `${this.path(name)}.lock`;
    try {
      await mkdir(dirname(lockPath), { recursive: true });
    } catch (e) {
      throw new CsqError(
        'CSQ_WRITE_FAILED',
        `cannot create ${dirname(lockPath)}: ${(e as Error).message}`,
      );
    }
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      if (tryCreateLock(lockPath)) return () => rm(lockPath, { force: true });
      const age = await stat(lockPath).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      // an unreadable (torn) lock younger than the staleness age may be being written right now
      const owner = readLockOwner(lockPath);
      if ((owner && ownerIsGone(owner)) || age > LOCK_STALE_MS) await rm(lockPath, { force: true });
      else if (Date.now() > deadline) {
        throw new CsqError(
          'CSQ_LOCKED',
          `${lockPath} has been locked for ${LOCK_WAIT_MS / 1000} s by process ${owner?.pid ?? '(unknown)'}; if no other csq process uses this run, delete the lock file.`,
        );
      }
      await sleep(10);
    }
  }
}

/** A metrics lock older than this is stale (held for milliseconds by a live writer). */
export const LOCK_STALE_MS = 10_000;
/** How long a writer waits for the metrics lock: longer than LOCK_STALE_MS. */
export const LOCK_WAIT_MS = 30_000;

/** A RunStore over a directory. */
export function fileRunStore(dir: string): FileRunStore {
  return new FileRunStore(dir);
}
