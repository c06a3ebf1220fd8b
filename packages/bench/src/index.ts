/**
 * @csq/bench (private): the paper harness behind apps/cifar10-resnet20 and apps/imagenet-resnet.
 * Jobs (a recipe at one budget and seed, with its float baseline) trained through the training
 * API (train-job.ts, the only module that imports it), result records and tables, local sweeps,
 * sweeps spread over many machines through a BullMQ queue on Redis, machine descriptions and
 * the spec 2 schedule checks. Each app is a spec (AppSpec) handed to `runApp`.
 */
export { runApp, runAppCaptured } from './app.js';
export { appFlags, appHelp, parseList, workerFlags, workerHelp } from './app-flags.js';
export {
  type AppIO,
  type AppSpec,
  type Collected,
  checkRunDir,
  gitCommit,
  type Job,
  type JobContext,
  type JobOutcome,
  jobConfig,
  jobId,
  jobSettings,
  recipeConfig,
  recordResult,
  runJob,
  trainAndCollect,
} from './job.js';
export { describeMachine, listGpus, type MachineInfo, machineLabel } from './machine.js';
export { baseDir, repoRoot, userPath } from './paths.js';
export { type CoordinatorOptions, runQueuedSweep } from './queue/coordinator.js';
export {
  JOB_OPTIONS,
  lockSweep,
  MAX_STALLED,
  QUEUE_PREFIX,
  type QueuedJob,
  type QueuedProgress,
  type QueuedReturn,
  queuedJobId,
  queueName,
  type SweepLock,
} from './queue/protocol.js';
export { parseQueueUrl, type QueueTarget, redactSecrets } from './queue/redis-url.js';
export { processQueuedJob, runWorker, type WorkerOptions } from './queue/worker.js';
export { runWorkerPool, withoutConcurrency } from './queue/worker-pool.js';
export { documentedCommands } from './readme-commands.js';
export {
  type AppResult,
  type ConfigChange,
  changesText,
  checksText,
  collectResult,
  configChanges,
  duration,
  fixed,
  isFinishedRun,
  pct,
  pointsDiff,
  type QueueRecord,
  readResult,
  readResults,
  renderTable,
  resultRow,
  TABLE_HEADER,
  times,
  updateAppTable,
  writeResult,
} from './results.js';
export { checkSchedule, type ScheduleCheck } from './schedule-check.js';
export {
  groupResults,
  initialOutcomes,
  meanStd,
  planJobs,
  renderSweep,
  runSweep,
  type SweepGroup,
  type SweepPlan,
  type SweepRecord,
  type SweepResult,
  saveSweep,
  sweepFiles,
} from './sweep.js';
export {
  checkpointedModels,
  RUN_FILES,
  type TrainJobOptions,
  type TrainJobOutcome,
  trainJob,
} from './train-job.js';
