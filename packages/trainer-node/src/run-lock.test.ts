import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireRunLock, RUN_LOCK } from './run-lock.js';
import { fileRunStore } from './run-store.js';

const root = mkdtempSync(join(tmpdir(), 'csq-lock-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free
const pkg = fileURLToPath(new URL('..', import.meta.url));

/**
 * Starts a second process that holds the run lock of `dir`; resolves once it holds it. It reads
 * the sibling packages from source (`@csq/source`), as vitest does: their dist/ may be mid-build.
 */
function holder(dir: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=@csq/source', '--import', 'tsx', 'test/hold-run-lock.ts', dir],
    {
      cwd: pkg,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}
const exited = (c: ChildProcess) => new Promise((r) => c.once('exit', r));

describe('run.lock: one process per run directory', () => {
  it('refuses a directory another live process trains, and takes it over once that process is killed', async () => {
    const dir = join(root, 'two');
    const child = await holder(dir);
    const owner = JSON.parse(readFileSync(join(dir, RUN_LOCK), 'utf8'));
    expect(owner.pid).toBe(child.pid);
    await expect(acquireRunLock(dir)).rejects.toMatchObject({ code: 'CSQ_RUN_LOCKED' });
    await expect(acquireRunLock(dir)).rejects.toThrow(new RegExp(`process ${child.pid}`));
    // kill -9: the lock stays behind, its process is gone
    child.kill('SIGKILL');
    await exited(child);
    expect(existsSync(join(dir, RUN_LOCK))).toBe(true);
    const lock = await acquireRunLock(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, RUN_LOCK))).toBe(false);
  }, 30_000);

  it('removes temp and lock files a killed process left behind', async () => {
    const dir = join(root, 'leftovers');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    mkdirSync(join(dir, 'model'), { recursive: true });
    const stale = [
      'metrics.jsonl.tmp-4242-abc123',
      'checkpoint/csq.ckpt.tmp-4242-k9z',
      'model/weights.bin.tmp-1-x',
      'metrics.jsonl.lock',
    ];
    for (const f of stale) writeFileSync(join(dir, f), 'x');
    writeFileSync(join(dir, 'checkpoint/csq.ckpt'), 'keep');
    writeFileSync(join(dir, 'config.json'), '{}');
    const lock = await acquireRunLock(dir);
    expect(lock.removed.sort()).toEqual([...stale].sort());
    for (const f of stale) expect(existsSync(join(dir, f))).toBe(false);
    expect(readFileSync(join(dir, 'checkpoint/csq.ckpt'), 'utf8')).toBe('keep');
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
    lock.release();
  });
});

describe('metrics.jsonl.lock (read-modify-write lock)', () => {
  it('takes over at once a lock whose process is gone, however fresh', async () => {
    const dir = join(root, 'dead-owner');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'metrics.jsonl.lock'),
      JSON.stringify({ pid: deadPid(), host: hostname(), started: new Date().toISOString() }),
    );
    // before: waited 30 s (the lock is younger than 60 s) and failed with CSQ_LOCKED
    await fileRunStore(dir).updateText('metrics.jsonl', (old) => `${old ?? ''}{"epoch":0}\n`);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('{"epoch":0}\n');
    expect(existsSync(join(dir, 'metrics.jsonl.lock'))).toBe(false);
  }, 5_000);

  it('breaks an ownerless lock once it is older than the staleness age, within the wait', async () => {
    const dir = join(root, 'old-lock');
    mkdirSync(dir, { recursive: true });
    const lock = join(dir, 'metrics.jsonl.lock');
    writeFileSync(lock, ''); // an old-style lock: no pid
    const old = (Date.now() - 11_000) / 1000;
    utimesSync(lock, old, old);
    await fileRunStore(dir).updateText('metrics.jsonl', () => 'x\n');
    expect(existsSync(lock)).toBe(false);
  }, 5_000);
});
