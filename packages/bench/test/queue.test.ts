/**
 * Sweeps through a real Redis: two workers (one a pool of two processes), the other killed
 * with SIGKILL in the middle of a job; results identical to a local sweep's; a second coordinator refused; a coordinator run
 * again records without training; a deterministic failure ends failed, not retried; no secret
 * of the queue URL in any output or file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, writeIdxDataset } from '@csq/test-utils/data-files';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppResult,
  lockSweep,
  parseQueueUrl,
  QUEUE_PREFIX,
  queuedJobId,
  queueName,
  runAppCaptured,
  type SweepRecord,
} from '../src/index.js';
import { TINY_SPEC } from './fixtures.js';
import { findOpenssl, findRedisServer, startRedis, type TestRedis } from './redis-server.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = findRedisServer();
if (!bin) console.log('queue tests skipped: no redis-server (apt-get install redis-server)');

const PASSWORD = 'pw-Zq7-not-to-be-printed';
const root = tempDir('csq-bench-queue-');
const data = join(root, 'data');
writeIdxDataset(data, { train: 24, test: 16, rows: 12, cols: 12 });
const JOBS = [
  'quickstart-smoke-0',
  'quickstart-smoke-1',
  'quickstart-t3-smoke-0',
  'quickstart-t3-smoke-1',
];
const sweepArgs = (
  name: string,
  runs: string,
  results: string,
  opts: { targets?: string; seeds?: string; data?: string } = {},
) => [
  '--sweep',
  '--smoke',
  '--target-bits',
  opts.targets ?? '2,3',
  '--seeds',
  opts.seeds ?? '0,1',
  '--name',
  name,
  '--data',
  opts.data ?? data,
  '--runs',
  runs,
  '--results',
  results,
  '--backend',
  'wasm',
  '--quiet',
];

interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, ms: number): Promise<void>;
  exited: Promise<number | null>;
}

function startWorker(url: string, extra: string[] = []): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@csq/source',
      join(here, 'tiny-app-main.ts'),
      'worker',
      '--queue',
      url,
      '--lock-seconds',
      '10',
      ...extra,
    ],
    { cwd: dirname(here), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  process.once('exit', () => child.kill('SIGKILL'));
  let out = '';
  const waiters: { re: RegExp; done: () => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      if (w.re.test(out)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor: (re, ms) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(out)) return resolve();
        const t = setTimeout(() => reject(new Error(`no ${re} in worker output:\n${out}`)), ms);
        waiters.push({
          re,
          done: () => {
            clearTimeout(t);
            resolve();
          },
        });
      }),
  };
}

const readJson = <T>(path: string) => JSON.parse(readFileSync(path, 'utf8')) as T;
/** What must not depend on where or how a job ran. */
const numbers = (r: AppResult) => ({
  job: r.job,
  seed: r.seed,
  targetBits: r.targetBits,
  accuracy: r.accuracy,
  avgBits: r.avgBits,
  compression: r.compression,
  layers: r.layers,
  epochs: r.epochs,
  checks: r.checks,
  changes: r.changes,
  config: r.config,
  backend: r.backend,
});
const metrics = (runDir: string) =>
  readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { seconds: _s, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe.skipIf(!bin)('sweeps on a BullMQ queue (real redis-server, two worker processes)', () => {
  let redis: TestRedis;
  const workers: WorkerProcess[] = [];
  const local = { runs: join(root, 'local-runs'), results: join(root, 'local-results') };
  const q = { runs: join(root, 'q-runs'), results: join(root, 'q-results') };
  const coordinatorText: string[] = [];

  beforeAll(async () => {
    redis = await startRedis(bin!, PASSWORD);
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await redis?.stop();
  });

  it('a worker killed mid-job: the other resumes it; results equal a local sweep', async () => {
    // the reference: the same jobs, one after another in this process
    const ref = await runAppCaptured(TINY_SPEC, sweepArgs('ref', local.runs, local.results));
    expect(ref.err).toBe('');
    expect(ref.code).toBe(0);

    // A: one job at a time; B: --concurrency 2, a pool of two worker processes
    const a = startWorker(redis.url);
    const b = startWorker(redis.url, ['--concurrency', '2']);
    workers.push(a, b);
    const coordinator = runAppCaptured(TINY_SPEC, [
      ...sweepArgs('q', q.runs, q.results),
      '--queue',
      redis.url,
    ]);
    // worker A: SIGKILL once it has trained two float epochs of its first job
    await a.waitFor(/\[float\] epoch 2\/3/, 150_000);
    a.child.kill('SIGKILL');
    await a.exited;
    const killedJob = /took q\.(\S+) \(attempt 1\)/.exec(a.output())![1]!;
    expect(a.output()).not.toContain(`q.${killedJob} finished`);

    // a second coordinator of the same sweep is refused while the first runs
    const second = await runAppCaptured(TINY_SPEC, [
      ...sweepArgs('q', q.runs, q.results),
      '--queue',
      redis.url,
    ]);
    expect(second.code).toBe(2);
    expect(second.err).toMatch(/is running sweep "q" on this queue/);

    const r = await coordinator;
    coordinatorText.push(r.out, r.err, second.out, second.err);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rec = readJson<SweepRecord>(join(q.results, 'q.json'));
    expect(rec.jobs.map((j) => [j.job, j.status])).toEqual(JOBS.map((j) => [j, 'done']));
    for (const job of JOBS) {
      const dist = readJson<AppResult>(join(q.results, `${job}.json`));
      const mine = readJson<AppResult>(join(local.results, `${job}.json`));
      expect(numbers(dist)).toEqual(numbers(mine));
      expect(metrics(dist.runDir)).toEqual(metrics(mine.runDir));
      expect(dist.queue?.sweep).toBe('q');
      expect(readFileSync(join(q.results, 'q.md'), 'utf8')).toContain(`| ${job} |`);
    }
    const killed = readJson<AppResult>(join(q.results, `${killedJob}.json`));
    expect(killed.queue).toMatchObject({ restartedFromScratch: false });
    expect(killed.queue!.attempts).toBeGreaterThanOrEqual(2);
    expect(killed.queue!.resumedEpochs).toBeGreaterThanOrEqual(2); // two float epochs kept
    expect(killed.queue!.note).toMatch(/a worker was lost.*resumed from the checkpoints/);
    expect(killed.queue!.worker).not.toContain(`:${a.child.pid}`);
    // B's two processes both took jobs
    const takers = new Set([...b.output().matchAll(/worker (\S+): took/g)].map((m) => m[1]));
    expect(takers.size).toBe(2);
  }, 300_000);

  it('run again: finished jobs are recorded from Redis or the results, never trained twice', async () => {
    const b = workers[1]!;
    const before = b.output().length;
    rmSync(join(q.results, `${JOBS[0]}.json`));
    const r = await runAppCaptured(TINY_SPEC, [
      ...sweepArgs('q', q.runs, q.results),
      '--queue',
      redis.url,
    ]);
    coordinatorText.push(r.out, r.err);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/4 jobs \(3 already have results, 0 queued now, 1 were queued before\)/);
    expect(existsSync(join(q.results, `${JOBS[0]}.json`))).toBe(true);
    expect(b.output().slice(before)).not.toMatch(/took/);
  }, 60_000);

  it('a deterministic failure (missing data) fails at once with its error in the sweep table', async () => {
    const args = sweepArgs('bad', join(root, 'bad-runs'), join(root, 'bad-results'), {
      targets: '2',
      seeds: '0',
      data: join(root, 'no-data'),
    });
    const r = await runAppCaptured(TINY_SPEC, [...args, '--queue', redis.url]);
    coordinatorText.push(r.out, r.err);
    expect(r.code).toBe(1);
    expect(r.err, r.err).toMatch(/quickstart-smoke-0 failed: .*no-data/);
    const md = readFileSync(join(root, 'bad-results', 'bad.md'), 'utf8');
    expect(md).toMatch(/- quickstart-smoke-0: failed \(.*no-data/);
    const queue = new Queue(queueName(TINY_SPEC), {
      connection: parseQueueUrl(redis.url).connection,
      prefix: QUEUE_PREFIX,
    });
    try {
      const job = await queue.getJob(queuedJobId('bad', 'quickstart-smoke-0'));
      expect(await job!.getState()).toBe('failed');
      expect(job!.attemptsMade).toBe(1);
    } finally {
      await queue.close();
    }
  }, 60_000);

  it('the sweep lock: refused while held and refreshed, free after release or its holder died', async () => {
    const open = () =>
      new Queue(queueName(TINY_SPEC), {
        connection: parseQueueUrl(redis.url).connection,
        prefix: QUEUE_PREFIX,
      });
    const [qa, qb, qc] = [open(), open(), open()];
    try {
      const a = await lockSweep(qa, 'L', { ttlMs: 1500, owner: 'coordinator-a' });
      const busy = /the coordinator coordinator-a \(since .*\) is running sweep "L" on this queue/;
      await expect(lockSweep(qb, 'L', { ttlMs: 1500 })).rejects.toThrow(busy);
      await new Promise((r) => setTimeout(r, 2000)); // longer than the TTL: refreshed
      await expect(lockSweep(qb, 'L', { ttlMs: 1500 })).rejects.toThrow(busy);
      await a.release();
      await lockSweep(qb, 'L', { ttlMs: 1500, owner: 'coordinator-b' });
      await qb.close(); // b dies without releasing: the lock lapses after its TTL
      await expect(lockSweep(qc, 'L', { ttlMs: 1500 })).rejects.toThrow(/coordinator-b/);
      await new Promise((r) => setTimeout(r, 1700));
      const c = await lockSweep(qc, 'L', { ttlMs: 1500 });
      await c.release();
    } finally {
      await Promise.all([qa.close(), qb.close(), qc.close()]);
    }
  }, 30_000);

  it('no secret of the queue URL is printed or written', () => {
    const texts = [
      ...coordinatorText,
      ...workers.map((w) => w.output()),
      ...[q.results, join(root, 'bad-results')].flatMap((d) =>
        filesUnder(d).map((f) => readFileSync(f, 'utf8')),
      ),
    ];
    expect(texts.join('\n')).toContain('redis://:***@127.0.0.1');
    for (const t of texts) expect(t).not.toContain(PASSWORD);
  });
});

describe.skipIf(!bin || !findOpenssl())('a queue behind TLS (rediss://, a private CA)', () => {
  it('connects with CSQ_QUEUE_CA, takes the sweep lock and queues a job', async () => {
    const redis = await startRedis(bin!, PASSWORD, { tls: true });
    try {
      expect(redis.url.startsWith('rediss://')).toBe(true);
      const target = parseQueueUrl(redis.url, { CSQ_QUEUE_CA: redis.caFile });
      expect(target.display).toBe(`rediss://:***@127.0.0.1:${redis.port}`);
      const queue = new Queue(queueName(TINY_SPEC), {
        connection: target.connection,
        prefix: QUEUE_PREFIX,
      });
      try {
        const lock = await lockSweep(queue, 'tls', { ttlMs: 5000 });
        await queue.add('train', { probe: true }, { jobId: queuedJobId('tls', 'probe') });
        const job = await queue.getJob(queuedJobId('tls', 'probe'));
        expect(await job!.getState()).toBe('waiting');
        await lock.release();
      } finally {
        await queue.close();
      }
    } finally {
      await redis.stop();
    }
  }, 60_000);
});
