/**
 * A queued job as a worker runs it (no Redis: the BullMQ job is a plain object with the
 * fields the worker reads): the record of a job restarted without the earlier worker's run
 * directory, and errors a user can cause failing without retries.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeIdxDataset } from '@csq/test-utils/data-files';
import type { Job as BullJob } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  jobId,
  processQueuedJob,
  type QueuedJob,
  type QueuedProgress,
  type QueuedReturn,
} from '../src/index.js';
import { TINY_SPEC } from './fixtures.js';

const root = tempDir('csq-bench-worker-');
const data = join(root, 'data');
writeIdxDataset(data, { train: 24, test: 16, rows: 12, cols: 12 });
const job = { recipe: 'quickstart', seed: 3, smoke: true, overrides: { backend: 'wasm' } };
const silent = { out: { write: () => {}, isTTY: false }, err: { write: () => {}, isTTY: false } };

function bullJob(data: QueuedJob, progress: unknown, attemptsStarted: number, stalled: number) {
  const seen: QueuedProgress[] = [];
  const fake = {
    id: `s.${jobId(data.job)}`,
    data,
    progress,
    attemptsStarted,
    stalledCounter: stalled,
    updateProgress: async (p: QueuedProgress) => {
      seen.push(p);
    },
  };
  return { job: fake as unknown as BullJob<QueuedJob, QueuedReturn>, seen };
}

describe('processQueuedJob', () => {
  it('a job whose earlier worker trained elsewhere restarts from scratch and says so', async () => {
    // the earlier worker (lost) had reported 4 epochs; its run directory is not visible here
    const runs = join(root, 'runs-elsewhere');
    const { job: bull, seen } = bullJob(
      { sweep: 's', job, dataDir: data, runsDir: '/mnt/not-shared/runs', download: false },
      { worker: 'gpu-box-1:77', model: 'csq', epoch: 0, epochs: 3, epochsDone: 4 },
      2,
      1,
    );
    const { result } = await processQueuedJob(TINY_SPEC, bull, {
      runsDir: runs,
      quiet: true,
      io: silent,
      worker: 'gpu-box-2:88',
    });
    expect(result.runDir).toBe(join(runs, 'quickstart-smoke-3'));
    expect(result.epochs).toEqual({ csq: 3, float: 3, planned: 3 });
    expect(result.queue).toEqual({
      sweep: 's',
      worker: 'gpu-box-2:88',
      attempts: 2,
      resumedEpochs: 0,
      restartedFromScratch: true,
      note:
        'a worker was lost (1x); restarted from scratch: gpu-box-1:77 had trained 4 epochs, but its ' +
        'checkpoints were not in this run directory (run directories are not on shared storage)',
    });
    // progress after every epoch: 3 float epochs, then 3 CSQ epochs counted after them
    expect(seen.map((p) => [p.model, p.epochsDone])).toEqual([
      ['float', 1],
      ['float', 2],
      ['float', 3],
      ['csq', 4],
      ['csq', 5],
      ['csq', 6],
    ]);
  }, 120_000);

  it('missing data and a recipe of another app fail without retries (UnrecoverableError)', async () => {
    const runs = join(root, 'runs-bad');
    const missing = bullJob(
      { sweep: 's', job, dataDir: join(root, 'nothing'), runsDir: runs, download: false },
      0,
      1,
      0,
    );
    await expect(
      processQueuedJob(TINY_SPEC, missing.job, { quiet: true, io: silent, worker: 'w' }),
    ).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: expect.stringMatching(/nothing/),
    });
    const other = bullJob(
      {
        sweep: 's',
        job: { ...job, recipe: 'cifar-n8t2' },
        dataDir: data,
        runsDir: runs,
        download: false,
      },
      0,
      1,
      0,
    );
    await expect(
      processQueuedJob(TINY_SPEC, other.job, { quiet: true, io: silent, worker: 'w' }),
    ).rejects.toMatchObject({
      name: 'UnrecoverableError',
      message: expect.stringMatching(
        /runs csq-tiny \(recipes quickstart\); the job asks for "cifar-n8t2"/,
      ),
    });
    expect(existsSync(join(runs, 'cifar-n8t2-smoke-3'))).toBe(false);
  });
});
