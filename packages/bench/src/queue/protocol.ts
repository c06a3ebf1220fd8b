/**
 * What coordinators and workers agree on: the queue of an app, the id of a sweep's job in it,
 * the job's data, its progress record, its return value, the retry policy, and the lock that
 * keeps two coordinators off one sweep.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { CsqError } from '@csq/core';
import type { JobsOptions, Queue } from 'bullmq';
import type { AppSpec, Job } from '../job.js';
import type { AppResult } from '../results.js';

/** Key prefix of every csq queue in Redis. */
export const QUEUE_PREFIX = 'csq';

/** The BullMQ queue of an app's sweeps (its workers take jobs from it). */
export function queueName(spec: Pick<AppSpec, 'name'>): string {
  return `bench-${spec.name}`;
}

/** The BullMQ job id of a sweep's job: `<sweep>.<job id>` (one queued job per sweep and job). */
export function queuedJobId(sweep: string, job: string): string {
  return `${sweep}.${job}`;
}

/** The data of a queued job: the job and where it reads and writes. */
export interface QueuedJob {
  sweep: string;
  job: Job;
  /** Data directory as the coordinator resolved it (a worker's --data replaces it). */
  dataDir: string;
  /** Parent of the run directories (a worker's --runs replaces it; shared storage resumes). */
  runsDir: string;
  download: boolean;
}

/** The progress a worker reports after every epoch (kept in Redis across attempts). */
export interface QueuedProgress {
  worker: string;
  model: 'csq' | 'float';
  epoch: number;
  epochs: number;
  /** Epochs of both models trained so far in the run directory. */
  epochsDone: number;
}

/** What a worker returns for a finished job. */
export interface QueuedReturn {
  result: AppResult;
}

/**
 * Retry policy: a job that throws an ordinary error (a lost connection, a crash of its worker's
 * process, Ctrl-C on its worker) is tried up to 4 times, 5 s apart; an error a user can cause
 * (bad settings, missing data) fails at once (UnrecoverableError). Finished and failed jobs stay
 * in Redis, so a coordinator started again finds them.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 4,
  backoff: { type: 'fixed', delay: 5_000 },
  removeOnComplete: false,
  removeOnFail: false,
};

/** How many times a job may be found stalled (its worker gone) before it fails. */
export const MAX_STALLED = 5;

/** The name of this process for records and logs: host and pid (and GPU when given). */
export function processName(gpu?: number): string {
  return `${hostname()}:${process.pid}${gpu !== undefined ? ` gpu ${gpu}` : ''}`;
}

const ACQUIRE = `if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, ARGV[1], 0} end
return {0, redis.call('get', KEYS[1]), redis.call('pttl', KEYS[1])}`;
const REFRESH = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The held lock of a sweep's coordinator; `release()` when done. */
export interface SweepLock {
  release(): Promise<void>;
}

/**
 * Takes the lock of sweep `sweep` of `queue` for this process, refreshed every `ttlMs / 3`; a
 * coordinator that dies keeps it at most `ttlMs`. Throws CSQ_SWEEP_BUSY when another
 * coordinator holds it.
 */
export async function lockSweep(
  queue: Queue,
  sweep: string,
  opts: { ttlMs?: number; owner?: string } = {},
): Promise<SweepLock> {
  const ttl = opts.ttlMs ?? 30_000;
  const client = await queue.client;
  const key = `${QUEUE_PREFIX}:${queue.name}:sweep-lock:${sweep}`;
  const token = JSON.stringify({
    owner: opts.owner ?? processName(),
    since: new Date().toISOString(),
    id: randomUUID(),
  });
  client.defineCommand('csqSweepAcquire', { numberOfKeys: 1, lua: ACQUIRE });
  client.defineCommand('csqSweepRefresh', { numberOfKeys: 1, lua: REFRESH });
  client.defineCommand('csqSweepRelease', { numberOfKeys: 1, lua: RELEASE });
  const [ok, holder, left] = (await client.runCommand('csqSweepAcquire', [key, token, ttl])) as [
    number,
    string | null,
    number,
  ];
  if (ok !== 1) {
    let who = 'another coordinator';
    try {
      const h = JSON.parse(holder ?? '{}') as { owner?: string; since?: string };
      if (h.owner) who = `the coordinator ${h.owner} (since ${h.since})`;
    } catch {}
    throw new CsqError(
      'CSQ_SWEEP_BUSY',
      `${who} is running sweep "${sweep}" on this queue; two coordinators of one sweep would ` +
        `record its jobs twice. Wait for it to end, or stop it; a coordinator that died frees ` +
        `the sweep within ${Math.ceil(Math.max(0, left) / 1000)} s.`,
    );
  }
  const timer = setInterval(
    () => {
      client.runCommand('csqSweepRefresh', [key, token, ttl]).catch(() => {});
    },
    Math.max(100, Math.floor(ttl / 3)),
  );
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await client.runCommand('csqSweepRelease', [key, token]);
    },
  };
}
