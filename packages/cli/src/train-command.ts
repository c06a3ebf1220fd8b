/**
 * `csq train`: a CSQ search on real data, optionally with a float baseline trained on the same
 * schedule (in a second thread when the machine has a spare core), then the summary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CsqError } from '@csq/core';
import { CsqController } from '@csq/layers';
import { formatLine, type MetricsLine, type TrainResult } from '@csq/trainer';
import { fileRunStore, interruptSignal, selectBackend } from '@csq/trainer-node';
import { flagsToOverrides, parseCommandArgs, TRAIN_FLAGS, trainHelp } from './args.js';
import {
  type RunConfig,
  type RunConfigInput,
  recipe,
  resolveRunConfig,
  validateRunConfig,
} from './config.js';
import { type ProgressSink, progressCallbacks } from './progress.js';
import { buildRunModel, loadRunData, trainRunModel } from './run-model.js';
import { buildSummary, countParams, formatSummary } from './summary.js';

/** Output streams of a command. */
export interface CommandIO {
  out: ProgressSink;
  err: ProgressSink;
}

function readConfigFile(path: string): RunConfigInput {
  if (!existsSync(path)) {
    throw new CsqError(
      'CSQ_NO_CONFIG_FILE',
      `config file "${path}" does not exist; pass the path of a JSON file.`,
    );
  }
  const text = readFileSync(path, 'utf8');
  try {
    const parsed = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the top level must be an object');
    }
    return parsed as RunConfigInput;
  } catch (e) {
    throw new CsqError(
      'CSQ_BAD_CONFIG_FILE',
      `config file "${path}" is not valid JSON: ${(e as Error).message}.`,
    );
  }
}

/** Resolves recipe, config file and flags (or a resumed run's saved config). */
export function resolveTrainArgs(values: Record<string, string | boolean | undefined>): {
  cfg: RunConfig;
  out: string;
  resume: boolean;
} {
  const resume = values.resume === true;
  const layers: { source: string; config: RunConfigInput }[] = [];
  if (typeof values.recipe === 'string')
    layers.push({ source: `recipe ${values.recipe}`, config: recipe(values.recipe) });
  if (typeof values.config === 'string') {
    const file = readConfigFile(values.config);
    if (typeof file.recipe === 'string' && !values.recipe)
      layers.push({ source: `recipe ${file.recipe}`, config: recipe(file.recipe) });
    layers.push({ source: values.config, config: file });
  }
  const overrides = flagsToOverrides(values);
  const outFlag = typeof values.out === 'string' ? values.out : undefined;
  if (layers.length === 0) {
    if (resume && outFlag && existsSync(join(outFlag, 'config.json'))) {
      const saved = validateRunConfig(
        JSON.parse(readFileSync(join(outFlag, 'config.json'), 'utf8')),
        join(outFlag, 'config.json'),
      );
      layers.push({ source: join(outFlag, 'config.json'), config: saved });
    } else {
      throw new CsqError(
        'CSQ_NO_RECIPE',
        'csq train needs --recipe NAME or --config FILE.json (or --out DIR --resume for a run that has a config.json). ' +
          'Try: csq train --recipe quickstart',
      );
    }
  }
  if (Object.keys(overrides).length)
    layers.push({ source: 'command-line flags', config: overrides });
  const cfg = resolveRunConfig(layers);
  const name =
    cfg.recipe ?? (typeof values.config === 'string' ? basename(values.config, '.json') : 'run');
  // default: a fresh directory per run (runs/quickstart-20261125-143055); --out names one
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return { cfg, out: resolve(outFlag ?? join('runs', `${name}-${stamp}`)), resume };
}

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
  const started = performance.now();
  const { cfg, out, resume } = resolveTrainArgs(values);
  const store = fileRunStore(out);
  const quiet = values.quiet === true;
  const say = (m: string) => {
    if (!quiet) io.out.write(`${m}\n`);
  };

  const existing = await store.readText('config.json');
  if (existing !== undefined && !resume) {
    throw new CsqError(
      'CSQ_RUN_EXISTS',
      `${out} already holds a run; pass --resume to continue it, or choose another --out (nothing was changed).`,
    );
  }
  if (resume && existing !== undefined) {
    const saved = validateRunConfig(JSON.parse(existing), join(out, 'config.json'));
    const a = JSON.stringify({ ...saved, backend: '' });
    const b = JSON.stringify({ ...cfg, backend: '' });
    if (a !== b) {
      throw new CsqError(
        'CSQ_RESUME_CONFIG_MISMATCH',
        `cannot resume ${out}: its config.json differs from the settings given now. Resume with only --out and --resume, or use another --out.`,
      );
    }
  }
  await store.writeText('config.json', `${JSON.stringify(cfg, null, 2)}\n`);

  const backend = await selectBackend({ backend: cfg.backend });
  say(`csq: ${backend.message}`);
  const data = await loadRunData(cfg, { download: values.download === true });
  say(
    `csq: data ${cfg.data}: ${data.train.count} train / ${data.test.count} test images, ` +
      `${data.train.height}x${data.train.width}x${data.train.channels}, ${data.train.numClasses} classes` +
      (cfg.limitTrain
        ? ` (training on the first ${Math.min(cfg.limitTrain, data.train.count)})`
        : ''),
  );
  say(`csq: run directory ${out}${resume ? ' (resuming)' : ''}`);

  const interrupt = interruptSignal({
    onFirst: () =>
      io.err.write(
        '\ncsq: stopping after this batch and saving a checkpoint (Ctrl-C again quits at once)\n',
      ),
  });
  try {
    // ---- the float baseline: in a worker thread when a core is free, else first ----------------
    let baseline: Promise<TrainResult | undefined> = Promise.resolve(undefined);
    let worker: Worker | undefined;
    // tfjs-wasm and cpu use one core per thread; a worker thread uses the second core. (From
    // sources, as in tests, there is no built worker file: train one after the other.)
    const workerUrl = new URL('./baseline-worker.js', import.meta.url);
    const parallel =
      cfg.baseline &&
      availableParallelism() >= 2 &&
      (backend.name === 'wasm' || backend.name === 'cpu') &&
      existsSync(fileURLToPath(workerUrl));
    if (cfg.baseline && parallel) {
      worker = new Worker(workerUrl, {
        workerData: { cfg, out, resume, backend: backend.name },
      });
      const w = worker;
      interrupt.signal.addEventListener('abort', () => w.postMessage({ type: 'stop' }));
      baseline = new Promise((resolvePromise, reject) => {
        w.on(
          'message',
          (m: {
            type: string;
            line?: MetricsLine;
            result?: TrainResult;
            message?: string;
            code?: string;
          }) => {
            if (m.type === 'epoch' && m.line && !quiet)
              io.out.write(`${io.out.isTTY ? '\r\x1b[2K' : ''}${formatLine(m.line)}\n`);
            if (m.type === 'done') resolvePromise(m.result);
            if (m.type === 'error')
              reject(new CsqError(m.code ?? 'CSQ_BASELINE_FAILED', `float baseline: ${m.message}`));
          },
        );
        w.on('error', reject);
        w.on('exit', (code) => {
          if (code !== 0)
            reject(
              new CsqError(
                'CSQ_BASELINE_FAILED',
                `the float baseline worker exited with code ${code}`,
              ),
            );
        });
      });
      say('csq: training the float baseline in a second thread');
    } else if (cfg.baseline) {
      say('csq: training the float baseline first');
      const { result } = await trainRunModel({
        cfg,
        kind: 'float',
        out,
        resume,
        data,
        signal: interrupt.signal,
        callbacks: [progressCallbacks(io.out, { quiet, label: '[float] ' })],
      });
      baseline = Promise.resolve(result);
    }

    // ---- the CSQ search --------------------------------------------------------------------------
    let csq:
      | { result: TrainResult; model: Awaited<ReturnType<typeof trainRunModel>>['model'] }
      | undefined;
    if (!interrupt.signal.aborted) {
      csq = await trainRunModel({
        cfg,
        kind: 'csq',
        out,
        resume,
        data,
        signal: interrupt.signal,
        callbacks: [progressCallbacks(io.out, { quiet, label: worker ? '[csq] ' : '' })],
      });
    }
    const floatResult = await baseline;
    await worker?.terminate();
    if (interrupt.signal.aborted || !csq || csq.result.stopped || floatResult?.stopped) {
      io.err.write(
        `csq: stopped; checkpoints are in ${out}. Continue with: csq train --out ${out} --resume\n`,
      );
      return 130;
    }

    // ---- save and summarise ----------------------------------------------------------------------
    const { result, model } = csq;
    await model.save(store.modelHandler('model'));
    const controller = new CsqController(model);
    const floatParams = countParams(buildRunModel(cfg, data, 'float'));
    const summary = buildSummary({
      recipe: cfg.recipe ?? basename(out),
      backend: backend.name,
      epochs: result.history.length,
      floatAccuracy: floatResult ? floatResult.softAccuracy : null,
      softAccuracy: result.softAccuracy,
      exactAccuracy: result.exactAccuracy,
      report: result.report!,
      floatParams,
      wallSeconds: (performance.now() - started) / 1000,
      bits: cfg.bits,
      actBits: cfg.actBits,
      finalBeta: controller.beta,
    });
    await store.writeText('summary.json', `${JSON.stringify(summary, null, 2)}\n`);
    io.out.write(formatSummary(summary));
    io.out.write(`Run written to ${out} (summary.json, metrics.jsonl, model/).\n`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}
