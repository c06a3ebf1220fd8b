/**
 * `csq train`: a CSQ search on real data through trainNode, optionally with a float baseline
 * trained on the same schedule (in a second thread when the machine has a spare core), then the
 * summary table.
 */
import { existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CsqError } from '@csq/core';
import { checkpointName, type MetricsLine, RUN_FILES, toTrainConfig } from '@csq/run-format';
import {
  acquireRunLock,
  checkWasmMemory,
  describeBackend,
  estimateTrainingMemory,
  interruptSignal,
  removeFailedStart,
  resolveWasmThreads,
  selectBackend,
  type TrainNodeOptions,
  type TrainNodeResult,
  trainNode,
} from '@csq/trainer-node';
import { parseCommandArgs, TRAIN_FLAGS, threadsFlag, trainHelp } from './args.js';
import { formatLine, type ProgressSink, progressCallbacks } from './progress.js';
import { buildRunModel, loadRunData } from './run-model.js';
import { formatSummary } from './summary.js';
import { resolveTrainArgs } from './train-args.js';

/** Output streams of a command. */
export interface CommandIO {
  out: ProgressSink;
  err: ProgressSink;
}

/** What the baseline reports back (the worker sends the same shape). */
type BaselineOutcome = Pick<TrainNodeResult, 'stopped' | 'softAccuracy'>;

/** Runs `csq train` with `argv` (the words after "train"). Returns the exit code. */
export async function trainCommand(argv: string[], io: CommandIO): Promise<number> {
  const options = Object.fromEntries(
    Object.entries(TRAIN_FLAGS).map(([k, v]) => [
      k,
      { type: v.type, ...(v.short ? { short: v.short } : {}) },
    ]),
  );
  const { values, positionals } = parseCommandArgs('train', argv, options);
  if (values.help) {
    io.out.write(`${trainHelp()}\n`);
    return 0;
  }
  if (positionals.length) {
    throw new CsqError(
      'CSQ_BAD_FLAG',
      `csq train takes no positional arguments, got "${positionals.join(' ')}"; see csq train --help.`,
    );
  }
  const args = resolveTrainArgs(values);
  const { cfg, out, restart } = args;
  let resume = args.resume;
  const quiet = values.quiet === true;
  const say = (m: string) => {
    if (!quiet) io.out.write(`${m}\n`);
  };

  // --threads counts every thread of the run: with the float baseline in its own thread (a worker
  // with its own wasm), each of the two trainings gets half, so they never oversubscribe the cores
  const totalThreads = threadsFlag(values) ?? resolveWasmThreads().threads;
  const workerUrl = new URL('./baseline-worker.js', import.meta.url);
  // (from sources, as in tests, there is no built worker file: train one after the other)
  const canSplit =
    cfg.baseline === true && totalThreads >= 2 && existsSync(fileURLToPath(workerUrl));
  const baselineThreads = canSplit ? Math.floor(totalThreads / 2) : 0;
  const backend = await selectBackend({
    backend: cfg.backend,
    threads: totalThreads - baselineThreads,
  });
  say(`csq: ${values.verbose ? backend.details : backend.message}`);
  if (values.verbose) say(`csq: ${(await describeBackend()).text}`);
  const data = await loadRunData(cfg, { download: values.download === true });
  say(
    `csq: data ${cfg.data}: ${data.train.count} train / ${data.test.count} test images, ` +
      `${data.train.height}x${data.train.width}x${data.train.channels}, ${data.train.numClasses} classes` +
      (cfg.limitTrain
        ? ` (training on the first ${Math.min(cfg.limitTrain, data.train.count)})`
        : ''),
  );
  // one process per run directory, for the whole run (the baseline thread shares it)
  const lock = await acquireRunLock(out);
  if (lock.removed.length)
    say(
      `csq: removed ${lock.removed.length} file(s) left by a killed run: ${lock.removed.join(', ')}`,
    );
  const kinds = cfg.baseline ? (['csq', 'float'] as const) : (['csq'] as const);
  const checkpoints = kinds.filter((k) => existsSync(join(out, checkpointName(k))));
  if (resume && checkpoints.length === 0) {
    if (!restart) {
      lock.release();
      throw new CsqError(
        'CSQ_NO_CHECKPOINT',
        `cannot resume ${out}: it has no checkpoint (${kinds.map((k) => checkpointName(k)).join(', ')}). ` +
          'Add --restart to start it over from epoch 1 (its metrics are replaced), or drop --resume.',
      );
    }
    say('csq: no checkpoint to resume from; starting over (--restart)');
    resume = false;
  }
  const freshDir = !existsSync(join(out, RUN_FILES.config));
  say(`csq: run directory ${out}${resume ? ' (resuming)' : ''}`);
  try {
    return await trainWithLock();
  } catch (e) {
    // a start that failed before any checkpoint leaves nothing that blocks the same command
    if (freshDir && !kinds.some((k) => existsSync(join(out, checkpointName(k)))))
      await removeFailedStart(out);
    throw e;
  } finally {
    lock.release();
    if (freshDir) rmEmptyDir(out);
  }

  async function trainWithLock(): Promise<number> {
    if (backend.name === 'wasm') {
      // before anything is trained (the baseline included): does a CSQ step fit the wasm heap?
      const probe = buildRunModel(cfg, data, 'csq');
      try {
        checkWasmMemory(estimateTrainingMemory(probe, cfg.batch));
      } finally {
        probe.dispose();
      }
    }

    const interrupt = interruptSignal({
      onFirst: () =>
        io.err.write(
          '\ncsq: stopping after this batch and saving a checkpoint (Ctrl-C again quits at once)\n',
        ),
    });
    const common = {
      data,
      out,
      run: cfg,
      backend,
      resume: resume ? ('if-checkpoint' as const) : false,
      signal: interrupt.signal,
      handleInterrupt: false,
      lock: false,
      log: say,
    } satisfies Partial<TrainNodeOptions>;
    try {
      // ---- the float baseline: in a worker thread when a core is free, else first ----------------
      let baseline: Promise<BaselineOutcome | undefined> = Promise.resolve(undefined);
      let worker: Worker | undefined;
      // tfjs-wasm and cpu use one core per thread (wasm: per thread it was given)
      const parallel = canSplit && (backend.name === 'wasm' || backend.name === 'cpu');
      if (cfg.baseline && parallel) {
        say('csq: training the float baseline in a second thread');
        worker = new Worker(workerUrl, {
          workerData: { cfg, out, resume, backend: backend.name, threads: baselineThreads },
        });
        const w = worker;
        interrupt.signal.addEventListener('abort', () => w.postMessage({ type: 'stop' }));
        baseline = baselineFromWorker(w, (line) => {
          if (!quiet) io.out.write(`${io.out.isTTY ? '\r\x1b[2K' : ''}${formatLine(line)}\n`);
        });
      } else if (cfg.baseline) {
        say('csq: training the float baseline first');
        const result = await trainNode({
          ...common,
          model: () => buildRunModel(cfg, data, 'float'),
          config: toTrainConfig(cfg, 'float'),
          saveModel: false,
          callbacks: [progressCallbacks(io.out, { quiet, label: '[float] ' })],
        });
        baseline = Promise.resolve(result);
      }
      const floatAccuracy = baseline.then((r) => (r && !r.stopped ? r.softAccuracy : null));
      floatAccuracy.catch(() => {}); // awaited below; a failure is reported there

      // ---- the CSQ search --------------------------------------------------------------------------
      let csq: TrainNodeResult | undefined;
      if (!interrupt.signal.aborted) {
        csq = await trainNode({
          ...common,
          model: () => buildRunModel(cfg, data, 'csq'),
          config: toTrainConfig(cfg, 'csq'),
          floatAccuracy,
          callbacks: [progressCallbacks(io.out, { quiet, label: worker ? '[csq] ' : '' })],
        });
      }
      const floatResult = await baseline;
      await worker?.terminate();
      if (interrupt.signal.aborted || !csq?.summary || csq.stopped || floatResult?.stopped) {
        io.err.write(
          `csq: stopped; checkpoints are in ${out}. Continue with: csq train --out ${out} --resume\n`,
        );
        return 130;
      }
      io.out.write(formatSummary(csq.summary));
      io.out.write(`Run written to ${out} (summary.json, metrics.jsonl, model/).\n`);
      return 0;
    } finally {
      interrupt.dispose();
    }
  }
}

function rmEmptyDir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (or gone): leave it
  }
}

/** The baseline worker's outcome; `onEpoch` gets each of its epoch lines. */
function baselineFromWorker(
  w: Worker,
  onEpoch: (line: MetricsLine) => void,
): Promise<BaselineOutcome> {
  return new Promise((resolve, reject) => {
    w.on(
      'message',
      (m: {
        type: string;
        line?: MetricsLine;
        result?: BaselineOutcome;
        message?: string;
        code?: string;
      }) => {
        if (m.type === 'epoch' && m.line) onEpoch(m.line);
        if (m.type === 'done' && m.result) resolve(m.result);
        if (m.type === 'error')
          reject(new CsqError(m.code ?? 'CSQ_BASELINE_FAILED', `float baseline: ${m.message}`));
      },
    );
    w.on('error', reject);
    w.on('exit', (code) => {
      if (code !== 0)
        reject(
          new CsqError('CSQ_BASELINE_FAILED', `the float baseline worker exited with code ${code}`),
        );
    });
  });
}
