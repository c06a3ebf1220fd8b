/**
 * Results of the benchmark apps: one JSON record per finished job (results/<job>.json), built
 * from the run directory the `csq train` command wrote (summary.json, metrics.jsonl,
 * config.json) plus the machine it ran on, and markdown tables that put CSQ next to its float
 * baseline.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { type MachineInfo, machineLabel } from './machine.js';
import { checkSchedule, type ScheduleCheck } from './schedule-check.js';
import {
  type MetricsLine,
  parseMetrics,
  type RunConfig,
  type RunSummary,
  validateRunConfig,
} from './train-job.js';

/** A setting of the run that differs from its recipe. */
export interface ConfigChange {
  recipe: unknown;
  run: unknown;
}

/** results/<job>.json. */
export interface AppResult {
  format: 'csq-app-result';
  version: 1;
  /** The app that ran it (cifar10-resnet20, imagenet-resnet). */
  app: string;
  /** Job id: recipe, any change of budget or epochs, smoke, seed. */
  job: string;
  recipe: string;
  seed: number;
  /** A smoke run (a few steps on tiny files): tests the pipeline, never a result. */
  smoke: boolean;
  /** Settings that differ from the recipe (besides data, seed, backend, workers). */
  changes: Record<string, ConfigChange>;
  model: string;
  data: string;
  bits: number;
  actBits: number;
  targetBits: number;
  budget: string;
  /** Epochs trained: CSQ (all rounds and the final run), float baseline, and planned CSQ. */
  epochs: { csq: number; float: number; planned: number };
  /** Test accuracies (fractions): float baseline, CSQ soft (final beta), CSQ exact. */
  accuracy: { float: number | null; soft: number; exact: number };
  /** Average bits per weight: slots (per layer, the authors' count) and params (model size). */
  avgBits: { slots: number; params: number };
  /**
   * model: float32 bytes of the whole network / bytes of the exact model (quantized kernels at
   * their bits, the rest float32); weights: 32 / average bits of the quantized weights (null
   * when no bit is left: infinite).
   */
  compression: { model: number; weights: number | null; sizeBytes: number; float32Bytes: number };
  /** Per quantized layer: selected bits, starting bits, weights. */
  layers: { name: string; bits: number; maxBits?: number; params: number }[];
  /** Wall time of the last `csq train` invocation (summary.json). */
  wallSeconds: number;
  /** Sum of the epoch times in metrics.jsonl, per model (counts every resumed session). */
  trainSeconds: { csq: number; float: number };
  backend: string;
  machine: MachineInfo | null;
  /** Spec 2 schedule checks read off the run's own records. */
  checks: ScheduleCheck[];
  runDir: string;
  finishedAt: string;
  /** git commit of the checkout, when known. */
  commit?: string;
  /** The resolved run config (config.json). */
  config: RunConfig;
  /** How the job ran when a sweep went through a queue (`--queue`); absent for local runs. */
  queue?: QueueRecord;
}

/** results/<job>.json's record of a job that ran on a queue worker. */
export interface QueueRecord {
  /** The sweep that enqueued it. */
  sweep: string;
  /** The worker that finished it (host, process id, GPU when given). */
  worker: string;
  /** How many times a worker started the job (more than 1: a worker was lost or it failed). */
  attempts: number;
  /** Epochs (both models) the finishing worker took over from an earlier worker's checkpoints. */
  resumedEpochs: number;
  /**
   * True when an earlier worker had trained epochs that the finishing worker could not see (no
   * checkpoint in its run directory: the run directories are not on shared storage), so the job
   * trained again from scratch.
   */
  restartedFromScratch: boolean;
  /** What happened, in words, when it was not a plain first attempt. */
  note?: string;
}

type Summary = RunSummary & {
  finalBeta?: number;
  weightCompression?: number;
  actBits?: number;
  layers: { name: string; bits: number; params: number; maxBits?: number }[];
};

const finite = (x: number | null | undefined): number | null =>
  typeof x === 'number' && Number.isFinite(x) ? x : null;

/** A number with `digits` decimals, "-" when missing or not finite. */
export function fixed(x: number | null | undefined, digits: number): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '-';
}

/** A ratio as "12.34x" ("-" when missing or not finite). */
export function times(x: number | null | undefined): string {
  const s = fixed(x, 2);
  return s === '-' ? s : `${s}x`;
}

function readJson<T>(path: string, what: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new CsqError(
      'CSQ_APP_BAD_RUN',
      `cannot read ${what} ${path}: ${(e as Error).message}. Delete the run directory and run the job again.`,
    );
  }
}

/** Whether a run directory holds a finished run (summary.json written by csq train). */
export function isFinishedRun(runDir: string): boolean {
  return existsSync(join(runDir, 'summary.json'));
}

/** Settings of `cfg` that differ from `recipeCfg`, ignoring ones that do not change results. */
export function configChanges(cfg: RunConfig, recipeCfg: RunConfig): Record<string, ConfigChange> {
  const ignore = new Set(['recipe', 'data', 'seed', 'backend', 'workers', 'evalBatch', 'baseline']);
  const out: Record<string, ConfigChange> = {};
  const a = cfg as unknown as Record<string, unknown>;
  const b = recipeCfg as unknown as Record<string, unknown>;
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (ignore.has(key)) continue;
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
      out[key] = { recipe: b[key], run: a[key] };
  }
  return out;
}

/**
 * Builds the result record of a finished run directory. `recipeCfg` is the recipe's own resolved
 * config (to list what the run changed); `machine` as recorded when the run finished.
 */
export function collectResult(args: {
  app: string;
  job: string;
  runDir: string;
  smoke: boolean;
  recipeCfg: RunConfig;
  machine: MachineInfo | null;
  commit?: string;
}): AppResult {
  const { runDir } = args;
  if (!isFinishedRun(runDir)) {
    throw new CsqError(
      'CSQ_APP_UNFINISHED',
      `${runDir} has no summary.json: the run has not finished. Run the same command again to resume it.`,
    );
  }
  const summary = readJson<Summary>(join(runDir, 'summary.json'), 'the summary');
  const config = validateRunConfig(
    readJson<unknown>(join(runDir, 'config.json'), 'the run config'),
    join(runDir, 'config.json'),
  );
  const metricsPath = join(runDir, 'metrics.jsonl');
  const metrics: MetricsLine[] = existsSync(metricsPath)
    ? parseMetrics(readFileSync(metricsPath, 'utf8'))
    : [];
  const of = (model: 'csq' | 'float') => metrics.filter((l) => l.model === model);
  const seconds = (ls: MetricsLine[]) => ls.reduce((s, l) => s + l.seconds, 0);
  const csqLines = of('csq');
  return {
    format: 'csq-app-result',
    version: 1,
    app: args.app,
    job: args.job,
    recipe: config.recipe ?? summary.recipe,
    seed: config.seed,
    smoke: args.smoke,
    changes: configChanges(config, args.recipeCfg),
    model: config.model,
    data: config.data,
    bits: config.bits,
    actBits: config.actBits,
    targetBits: summary.targetBits,
    budget: summary.budget,
    epochs: {
      csq: csqLines.length,
      float: of('float').length,
      planned: csqLines[0]?.epochs ?? summary.epochs,
    },
    accuracy: {
      float: summary.floatAccuracy,
      soft: summary.softAccuracy,
      exact: summary.exactAccuracy,
    },
    avgBits: { slots: summary.avgBits.slots, params: summary.avgBits.params },
    compression: {
      model: summary.compression,
      weights: finite(summary.weightCompression ?? 32 / summary.avgBits.params),
      sizeBytes: summary.sizeBytes,
      float32Bytes: summary.float32Bytes,
    },
    layers: summary.layers.map((l) => ({
      name: l.name,
      bits: l.bits,
      ...(l.maxBits !== undefined ? { maxBits: l.maxBits } : {}),
      params: l.params,
    })),
    wallSeconds: summary.wallSeconds,
    trainSeconds: { csq: seconds(csqLines), float: seconds(of('float')) },
    backend: summary.backend,
    machine: args.machine,
    checks: checkSchedule(config, metrics, summary.finalBeta, summary.trim),
    runDir,
    finishedAt: new Date().toISOString(),
    ...(args.commit ? { commit: args.commit } : {}),
    config,
  };
}

/** Writes `dir/<job>.json` atomically; returns its path. */
export function writeResult(dir: string, result: AppResult): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${result.job}.json`);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Reads one result file, or undefined when it is missing or not a result. */
export function readResult(path: string): AppResult | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as AppResult;
    return r.format === 'csq-app-result' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Every result of `app` in `dir` (other apps' and sweep files skipped), sorted by job. */
export function readResults(dir: string, app: string): AppResult[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => readResult(join(dir, f)))
    .filter((r): r is AppResult => r !== undefined && r.app === app)
    .sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
}

/** A fraction as a percentage with two decimals ("-" when missing). */
export function pct(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(2)}` : '-';
}

/** Accuracy difference in percentage points, signed. */
export function pointsDiff(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined) return '-';
  const d = 100 * (a - b);
  return `${d >= 0 ? '+' : ''}${d.toFixed(2)}`;
}

/** Seconds as "12 s", "3.4 min", "5.6 h" or "2.1 d". */
export function duration(s: number): string {
  if (s < 120) return `${s.toFixed(0)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  if (s < 2 * 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** "epochs 2, limitTrain 32" (or "-" for a run of the recipe as written). */
export function changesText(r: Pick<AppResult, 'changes' | 'smoke'>): string {
  const parts = Object.entries(r.changes).map(([k, v]) => `${k} ${JSON.stringify(v.run)}`);
  return [r.smoke ? 'SMOKE' : '', ...parts].filter((p) => p !== '').join(', ') || '-';
}

/** "ok" or the names of the failed schedule checks. */
export function checksText(r: Pick<AppResult, 'checks'>): string {
  const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
  return failed.length === 0 ? 'ok' : `FAILED: ${failed.join('; ')}`;
}

/** Columns of the results tables. */
export const TABLE_HEADER = [
  'job',
  'target bits',
  'epochs (CSQ / float)',
  'float acc %',
  'CSQ soft acc %',
  'CSQ exact acc %',
  'exact - float (points)',
  'avg bits (slots)',
  'avg bits (params)',
  'compression (model / weights)',
  'changes from the recipe',
  'schedule checks',
  'backend',
  'machine',
  'train time (CSQ + float)',
] as const;

/** One markdown table row of a result. */
export function resultRow(r: AppResult): string {
  const cells = [
    r.job,
    String(r.targetBits),
    `${r.epochs.csq} / ${r.epochs.float}`,
    pct(r.accuracy.float),
    pct(r.accuracy.soft),
    pct(r.accuracy.exact),
    pointsDiff(r.accuracy.exact, r.accuracy.float),
    fixed(r.avgBits.slots, 3),
    fixed(r.avgBits.params, 3),
    `${times(r.compression.model)} / ${times(r.compression.weights)}`,
    changesText(r),
    checksText(r),
    r.backend,
    r.machine ? machineLabel(r.machine) : '-',
    duration(r.trainSeconds.csq + r.trainSeconds.float),
  ];
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** A markdown table of results, with the per-layer bits of each below it. */
export function renderTable(title: string, results: AppResult[], intro = ''): string {
  const lines = [`# ${title}`, ''];
  if (intro) lines.push(intro, '');
  lines.push(
    `| ${TABLE_HEADER.join(' | ')} |`,
    `| ${TABLE_HEADER.map(() => '---').join(' | ')} |`,
    ...results.map(resultRow),
    '',
  );
  if (results.length) {
    lines.push('Per-layer bits (layer: bits):', '');
    for (const r of results)
      lines.push(`- ${r.job}: ${r.layers.map((l) => `${l.name} ${l.bits}`).join(', ')}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Rewrites `dir/<app>.md` from every result of the app in `dir`; returns its path. */
export function updateAppTable(dir: string, app: string, title: string): string {
  const path = join(dir, `${app}.md`);
  const results = readResults(dir, app);
  const intro =
    'Written by the app from the results/*.json files next to this table (one per job); ' +
    'accuracies are test-set top-1 in percent. Rows marked SMOKE or with changes from the ' +
    'recipe are not reproductions of the paper.';
  mkdirSync(dir, { recursive: true });
  writeFileSync(path, renderTable(title, results, intro));
  return path;
}
