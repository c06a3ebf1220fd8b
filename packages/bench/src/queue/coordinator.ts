/**
 * `--sweep ... --queue URL`: the coordinator. Enqueues one BullMQ job per job of the sweep
 * that has no result yet, waits while workers run them, and writes results/<job>.json, the
 * app's table and the sweep's table and record exactly as a local sweep does. Started again
 * (after a crash or Ctrl-C) it continues: finished jobs are taken from the results or from
 * Redis, never run twice; jobs still queued or running are waited for; failed ones are queued
 * again. One coordinator per sweep name at a time (a lock in Redis).
 */
import { Queue } from 'bullmq';
import { type JobContext, jobId, recordResult } from '../job.js';
import {
  initialOutcomes,
  planJobs,
  type SweepPlan,
  type SweepResult,
  saveSweep,
  sweepFiles,
} from '../sweep.js';
import {
  JOB_OPTIONS,
  lockSweep,
  QUEUE_PREFIX,
  type QueuedJob,
  type QueuedProgress,
  type QueuedReturn,
  queuedJobId,
  queueName,
} from './protocol.js';
import { parseQueueUrl, redactSecrets } from './redis-url.js';

/** Options of {@link runQueuedSweep} (tests shorten the intervals). */
export interface CoordinatorOptions {
  url: string;
  /** How often the jobs' states are read (default 2000 ms). */
  pollMs?: number;
  /** Lifetime of the sweep lock without refresh (default 30000 ms). */
  lockTtlMs?: number;
  /** Resolves to stop waiting (default: SIGINT); the jobs stay queued. */
  stop?: Promise<void>;
}

/** Runs a sweep through the queue; returns like runSweep. `command` is printed redacted. */
export async function runQueuedSweep(
  plan: SweepPlan,
  ctx: JobContext,
  rawCommand: string,
  opts: CoordinatorOptions,
): Promise<SweepResult> {
  const target = parseQueueUrl(opts.url);
  const command = redactSecrets(rawCommand);
  const queue = new Queue<QueuedJob, QueuedReturn>(queueName(ctx.spec), {
    connection: target.connection,
    prefix: QUEUE_PREFIX,
  });
  queue.on('error', (e) => ctx.io.err.write(`${ctx.spec.command}: ${redactSecrets(e.message)}\n`));
  try {
    const lock = await lockSweep(queue, plan.name, {
      ...(opts.lockTtlMs ? { ttlMs: opts.lockTtlMs } : {}),
    });
    try {
      return await coordinate(plan, ctx, command, queue, target.display, opts);
    } finally {
      await lock.release().catch(() => {});
    }
  } finally {
    await queue.close();
  }
}

async function coordinate(
  plan: SweepPlan,
  ctx: JobContext,
  command: string,
  queue: Queue<QueuedJob, QueuedReturn>,
  display: string,
  opts: CoordinatorOptions,
): Promise<SweepResult> {
  const say = (m: string) => ctx.io.out.write(`${ctx.spec.command}: ${m}\n`);
  const jobs = planJobs(plan);
  const outcomes = initialOutcomes(jobs, ctx.resultsDir);
  const files = sweepFiles(plan, ctx.resultsDir);
  const save = () => saveSweep(plan, ctx, command, outcomes);
  const seen = new Map<string, string>();
  let queued = 0;
  for (const [i, job] of jobs.entries()) {
    if (outcomes[i]!.result) continue;
    const id = queuedJobId(plan.name, jobId(job));
    const existing = await queue.getJob(id);
    const state = existing ? await existing.getState() : 'missing';
    if (state === 'failed' || state === 'unknown') await existing?.remove();
    if (state === 'missing' || state === 'failed' || state === 'unknown') {
      const data: QueuedJob = {
        sweep: plan.name,
        job,
        dataDir: ctx.dataDir,
        runsDir: ctx.runsDir,
        download: ctx.download,
      };
      await queue.add('train', data, { ...JOB_OPTIONS, jobId: id });
      queued++;
    }
    outcomes[i] = { job: outcomes[i]!.job, status: 'pending', message: 'queued' };
  }
  save();
  const open = () => outcomes.filter((o) => o.status === 'pending').length;
  say(
    `sweep ${plan.name}: ${jobs.length} jobs (${jobs.length - open()} already have results, ` +
      `${queued} queued now, ${open() - queued} were queued before) on ${display}, queue ` +
      `${queueName(ctx.spec)}; start workers with: ${ctx.spec.command} worker --queue URL`,
  );

  let stopped = false;
  let onSigint: (() => void) | undefined;
  const stop =
    opts.stop ??
    new Promise<void>((resolve) => {
      onSigint = () => resolve();
      process.once('SIGINT', onSigint);
    });
  void stop.then(() => {
    stopped = true;
  });
  const pollMs = opts.pollMs ?? 2000;
  let code = 0;
  while (open() > 0 && !stopped) {
    let changed = false;
    for (const [i, job] of jobs.entries()) {
      const o = outcomes[i]!;
      if (o.status !== 'pending') continue;
      const id = queuedJobId(plan.name, o.job);
      // the state first, then the job: a job read before it finished has no return value or
      // failure reason yet, even when its state (read after) says completed or failed
      const current = await queue.getJobState(id);
      const bull = current === 'unknown' ? undefined : await queue.getJob(id);
      const state = bull ? current : 'missing';
      if (state === 'completed' && bull) {
        const { result } = bull.returnvalue as QueuedReturn;
        recordResult(result, ctx);
        outcomes[i] = { job: o.job, status: 'done', result };
        say(
          `${o.job} done on ${result.queue?.worker ?? 'a worker'}${result.queue?.note ? ` (${result.queue.note})` : ''}`,
        );
        changed = true;
      } else if (state === 'failed' && bull) {
        const message = redactSecrets(bull.failedReason || 'failed');
        outcomes[i] = { job: o.job, status: 'failed', message };
        ctx.io.err.write(`${ctx.spec.command}: ${o.job} failed: ${message}\n`);
        code = 1;
        changed = true;
      } else if (state === 'missing') {
        // removed from Redis by hand: queue it again
        await queue.add(
          'train',
          {
            sweep: plan.name,
            job,
            dataDir: ctx.dataDir,
            runsDir: ctx.runsDir,
            download: ctx.download,
          },
          { ...JOB_OPTIONS, jobId: id },
        );
      } else if (bull) {
        const p = bull.progress as Partial<QueuedProgress> | number;
        const message =
          state === 'active' && typeof p === 'object' && p.worker
            ? `running on ${p.worker}: [${p.model}] epoch ${(p.epoch ?? 0) + 1}/${p.epochs}`
            : state === 'active'
              ? 'running'
              : state === 'delayed'
                ? `waiting to be retried (attempt ${bull.attemptsMade + 1})`
                : 'queued';
        if (seen.get(o.job) !== message) {
          seen.set(o.job, message);
          outcomes[i] = { ...o, message };
          if (!ctx.quiet) say(`${o.job}: ${message}`);
          changed = true;
        }
      }
    }
    if (changed) save();
    if (open() > 0) await Promise.race([stop, new Promise((r) => setTimeout(r, pollMs))]);
  }
  if (onSigint) process.off('SIGINT', onSigint);
  save();
  const done = outcomes.filter((o) => o.result).length;
  say(
    `sweep ${plan.name}: ${done}/${jobs.length} jobs finished; table ${files.md}, record ${files.json}`,
  );
  if (stopped && open() > 0) {
    ctx.io.err.write(
      `${ctx.spec.command}: stopped waiting; the jobs stay queued and the workers go on. Run the same command again to continue: ${command}\n`,
    );
    return { code: 130, outcomes, files };
  }
  return { code, outcomes, files };
}
