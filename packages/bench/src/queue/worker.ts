/**
 * `<app> worker --queue URL`: takes a sweep's jobs from the app's BullMQ queue and runs each
 * through the same path as a local job (trainAndCollect), resuming from the checkpoints in its
 * run directory when an earlier worker left some there. The finished job's result record is
 * its return value; the coordinator writes it into results/.
 */
import { CsqError } from '@csq/core';
import { type Job as BullJob, UnrecoverableError, Worker } from 'bullmq';
import { type AppIO, type AppSpec, type JobContext, jobConfig, trainAndCollect } from '../job.js';
import type { QueueRecord } from '../results.js';
import {
  MAX_STALLED,
  processName,
  QUEUE_PREFIX,
  type QueuedJob,
  type QueuedProgress,
  type QueuedReturn,
  queueName,
} from './protocol.js';
import { parseQueueUrl, redactSecrets } from './redis-url.js';
import { stopWithParent } from './worker-pool.js';

/** Options of {@link runWorker}. */
export interface WorkerOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** GPU index: sets CUDA_VISIBLE_DEVICES before the backend loads. */
  gpu?: number;
  /** Replaces the coordinator's data directory (when it is mounted elsewhere here). */
  dataDir?: string;
  /** Replaces the coordinator's runs directory. */
  runsDir?: string;
  /** A job whose worker stops renewing its lock this long is handed to another (default 60). */
  lockSeconds?: number;
  quiet?: boolean;
  io: AppIO;
  /** Resolves when the worker should stop (default: SIGINT or SIGTERM). */
  stop?: Promise<void>;
}

/** Runs one queued job; exported for tests of the retry policy. */
export async function processQueuedJob(
  spec: AppSpec,
  bull: BullJob<QueuedJob, QueuedReturn>,
  opts: Pick<WorkerOptions, 'dataDir' | 'runsDir' | 'quiet' | 'io'> & { worker: string },
): Promise<QueuedReturn> {
  const data = bull.data;
  const say = (m: string) => opts.io.out.write(`${m}\n`);
  if (!spec.recipes.includes(data.job.recipe)) {
    throw new UnrecoverableError(
      `this worker runs ${spec.command} (recipes ${spec.recipes.join(', ')}); the job asks for "${data.job.recipe}".`,
    );
  }
  const ctx: JobContext = {
    spec,
    dataDir: opts.dataDir ?? data.dataDir,
    runsDir: opts.runsDir ?? data.runsDir,
    resultsDir: opts.runsDir ?? data.runsDir,
    download: data.download,
    quiet: opts.quiet === true,
    io: opts.io,
  };
  const before = bull.progress as Partial<QueuedProgress> | number | undefined;
  const earlierEpochs = typeof before === 'object' && before ? (before.epochsDone ?? 0) : 0;
  const earlierWorker = typeof before === 'object' && before ? before.worker : undefined;
  let collected: Awaited<ReturnType<typeof trainAndCollect>>;
  try {
    const cfg = jobConfig(data.job, ctx);
    const floatEpochs = cfg.baseline ? cfg.epochs : 0;
    collected = await trainAndCollect(data.job, ctx, {
      onEpoch: (l) => {
        const progress: QueuedProgress = {
          worker: opts.worker,
          model: l.model,
          epoch: l.epoch,
          epochs: l.epochs,
          epochsDone: l.model === 'float' ? l.epoch + 1 : floatEpochs + l.epoch + 1,
        };
        bull.updateProgress(progress as unknown as object).catch(() => {});
      },
    });
  } catch (e) {
    const err = e as Error;
    if (err.name === 'CsqError') throw new UnrecoverableError(redactSecrets(err.message));
    throw e;
  }
  if (collected.status === 'stopped') {
    throw new Error(
      `stopped on ${opts.worker} with a checkpoint (Ctrl-C); the job goes back to the queue`,
    );
  }
  const attempts = Math.max(1, bull.attemptsStarted ?? 1);
  const restartedFromScratch =
    earlierEpochs > 0 && collected.trained && collected.resumedEpochs === 0;
  const notes: string[] = [];
  if (attempts > 1 || earlierEpochs > 0) {
    if (bull.stalledCounter > 0) notes.push(`a worker was lost (${bull.stalledCounter}x)`);
    if (restartedFromScratch) {
      notes.push(
        `restarted from scratch: ${earlierWorker ?? 'an earlier worker'} had trained ${earlierEpochs} ` +
          'epochs, but its checkpoints were not in this run directory (run directories are not on shared storage)',
      );
    } else if (collected.resumedEpochs > 0) {
      notes.push(`resumed from the checkpoints (${collected.resumedEpochs} epochs kept)`);
    }
  }
  const queue: QueueRecord = {
    sweep: data.sweep,
    worker: opts.worker,
    attempts,
    resumedEpochs: collected.resumedEpochs,
    restartedFromScratch,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
  say(`${spec.command} worker: ${bull.id} finished${queue.note ? ` (${queue.note})` : ''}`);
  return { result: { ...collected.result!, queue } };
}

/**
 * Runs a worker (one job at a time; `--concurrency K` runs K of them, see worker-pool.ts) until
 * it is told to stop (Ctrl-C or SIGTERM: the running jobs stop after
 * their batch with a checkpoint and go back to the queue; another Ctrl-C quits at once).
 * Returns the exit code.
 */
export async function runWorker(spec: AppSpec, opts: WorkerOptions): Promise<number> {
  const target = parseQueueUrl(opts.url);
  const lockSeconds = opts.lockSeconds ?? 60;
  if (!(lockSeconds >= 1))
    throw new CsqError('CSQ_BAD_FLAG', `--lock-seconds expects a number >= 1, got ${lockSeconds}.`);
  if (opts.gpu !== undefined) process.env.CUDA_VISIBLE_DEVICES = String(opts.gpu);
  const name = processName(opts.gpu);
  const { io } = opts;
  const say = (m: string) => io.out.write(`${spec.command} worker ${name}: ${m}\n`);
  const worker = new Worker<QueuedJob, QueuedReturn>(
    queueName(spec),
    (job) => processQueuedJob(spec, job, { ...opts, worker: name }),
    {
      connection: target.connection,
      prefix: QUEUE_PREFIX,
      concurrency: 1,
      lockDuration: lockSeconds * 1000,
      stalledInterval: Math.max(1000, (lockSeconds * 1000) / 2),
      maxStalledCount: MAX_STALLED,
      autorun: false,
    },
  );
  worker.on('active', (job) => say(`took ${job.id} (attempt ${job.attemptsStarted})`));
  worker.on('failed', (job, err) =>
    say(`${job?.id ?? 'a job'} failed: ${redactSecrets(err.message)}`),
  );
  worker.on('error', (err) =>
    io.err.write(`${spec.command} worker: ${redactSecrets(err.message)}\n`),
  );
  const stop =
    opts.stop ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => {
        // the training of a running job listens to SIGINT: it saves a checkpoint and stops
        process.kill(process.pid, 'SIGINT');
      });
    });
  say(
    `taking jobs of queue ${queueName(spec)} on ${target.display} (` +
      `lock ${lockSeconds} s${opts.gpu !== undefined ? `, CUDA_VISIBLE_DEVICES=${opts.gpu}` : ''})`,
  );
  stopWithParent();
  const running = worker.run();
  await Promise.race([stop, running]);
  say('stopping: running jobs save a checkpoint and go back to the queue');
  await worker.close();
  await running.catch(() => {});
  return 0;
}
