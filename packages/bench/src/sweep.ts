/**
 * Sweeps: recipes x budgets x seeds, run one after another on this machine. Finished jobs are
 * skipped and stopped ones resume, so the same command continues a sweep; after every job the
 * combined table (results/<name>.md) and record (results/<name>.json) are rewritten.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Job, type JobContext, type JobOutcome, jobId, runJob } from './job.js';
import type { AppResult } from './results.js';
import { checksText, duration, readResult, resultRow, TABLE_HEADER } from './results.js';

/** What a sweep covers. */
export interface SweepPlan {
  name: string;
  recipes: string[];
  /** Budgets; empty = each recipe's own. */
  targetBits: number[];
  seeds: number[];
  smoke: boolean;
  overrides: Record<string, unknown>;
}

/** The jobs of a sweep, in the order they run (recipe, then budget, then seed). */
export function planJobs(plan: SweepPlan): Job[] {
  const jobs: Job[] = [];
  for (const recipe of plan.recipes) {
    for (const targetBits of plan.targetBits.length ? plan.targetBits : [undefined]) {
      for (const seed of plan.seeds) {
        jobs.push({
          recipe,
          seed,
          ...(targetBits !== undefined ? { targetBits } : {}),
          smoke: plan.smoke,
          overrides: plan.overrides,
        });
      }
    }
  }
  return jobs;
}

/** Mean and sample standard deviation. */
export function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std =
    xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

/** One group of a sweep: a recipe at one budget, over its finished seeds. */
export interface SweepGroup {
  recipe: string;
  targetBits: number;
  seeds: number[];
  floatAccuracy: { mean: number; std: number } | null;
  exactAccuracy: { mean: number; std: number };
  softAccuracy: { mean: number; std: number };
  /** exact - float, per seed, averaged (fractions). */
  exactMinusFloat: { mean: number; std: number } | null;
  avgBitsParams: { mean: number; std: number };
  avgBitsSlots: { mean: number; std: number };
  compressionModel: { mean: number; std: number };
}

/** Groups finished results by recipe and budget. */
export function groupResults(results: AppResult[]): SweepGroup[] {
  const groups = new Map<string, AppResult[]>();
  for (const r of results) {
    const key = `${r.recipe}\u0000${r.targetBits}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((rs) => {
    const floats = rs.map((r) => r.accuracy.float).filter((x): x is number => x !== null);
    const diffs = rs
      .filter((r) => r.accuracy.float !== null)
      .map((r) => r.accuracy.exact - (r.accuracy.float as number));
    return {
      recipe: rs[0]!.recipe,
      targetBits: rs[0]!.targetBits,
      seeds: rs.map((r) => r.seed),
      floatAccuracy: floats.length ? meanStd(floats) : null,
      exactAccuracy: meanStd(rs.map((r) => r.accuracy.exact)),
      softAccuracy: meanStd(rs.map((r) => r.accuracy.soft)),
      exactMinusFloat: diffs.length ? meanStd(diffs) : null,
      avgBitsParams: meanStd(rs.map((r) => r.avgBits.params)),
      avgBitsSlots: meanStd(rs.map((r) => r.avgBits.slots)),
      compressionModel: meanStd(rs.map((r) => r.compression.model)),
    };
  });
}

const pm = (s: { mean: number; std: number } | null, scale = 100, digits = 2) =>
  s === null || !Number.isFinite(s.mean)
    ? '-'
    : `${(scale * s.mean).toFixed(digits)} ± ${(scale * s.std).toFixed(digits)}`;

/** The sweep's markdown: per-budget means over seeds, every job's row, and what is left. */
export function renderSweep(args: {
  title: string;
  command: string;
  outcomes: { job: string; status: string; message?: string; result?: AppResult }[];
}): string {
  const finished = args.outcomes
    .map((o) => o.result)
    .filter((r): r is AppResult => r !== undefined);
  const groups = groupResults(finished);
  const smoke = finished.some((r) => r.smoke);
  const lines = [
    `# ${args.title}`,
    '',
    smoke
      ? '**SMOKE RUN: a few steps on tiny test files. These numbers test the pipeline and are not results.**'
      : 'Test-set top-1 accuracy in percent; CSQ exact = the exactly quantized model that export writes.',
    '',
    `Run (again, to continue): \`${args.command}\``,
    '',
    '## CSQ against the float baseline (mean ± sample std over seeds)',
    '',
    '| recipe | target bits | seeds | float acc % | CSQ soft acc % | CSQ exact acc % | exact - float (points) | avg bits (slots) | avg bits (params) | compression (model) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...groups.map(
      (g) =>
        `| ${g.recipe} | ${g.targetBits} | ${g.seeds.join(', ')} | ${pm(g.floatAccuracy)} | ${pm(g.softAccuracy)} | ` +
        `${pm(g.exactAccuracy)} | ${pm(g.exactMinusFloat)} | ${pm(g.avgBitsSlots, 1, 3)} | ${pm(g.avgBitsParams, 1, 3)} | ${pm(g.compressionModel, 1, 2)}x |`,
    ),
    '',
    '## Jobs',
    '',
    `| ${TABLE_HEADER.join(' | ')} |`,
    `| ${TABLE_HEADER.map(() => '---').join(' | ')} |`,
    ...finished.map(resultRow),
    '',
  ];
  const open = args.outcomes.filter((o) => !o.result);
  if (open.length) {
    lines.push('Not finished:', '');
    for (const o of open)
      lines.push(`- ${o.job}: ${o.status}${o.message ? ` (${o.message})` : ''}`);
    lines.push('');
  }
  const failedChecks = finished.filter((r) => checksText(r) !== 'ok');
  if (failedChecks.length) {
    lines.push('Schedule checks that failed:', '');
    for (const r of failedChecks)
      for (const c of r.checks.filter((x) => !x.ok))
        lines.push(`- ${r.job}: ${c.name}: ${c.detail}`);
    lines.push('');
  }
  const total = finished.reduce((s, r) => s + r.trainSeconds.csq + r.trainSeconds.float, 0);
  lines.push(`Training time of the finished jobs: ${duration(total)}.`, '');
  return lines.join('\n');
}

/** results/<name>.json of a sweep. */
export interface SweepRecord {
  format: 'csq-app-sweep';
  version: 1;
  app: string;
  name: string;
  command: string;
  smoke: boolean;
  jobs: { job: string; status: string; message?: string; result?: string }[];
  groups: SweepGroup[];
  updatedAt: string;
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** What a sweep came to: exit code, every job's outcome, its table and record. */
export interface SweepResult {
  code: number;
  outcomes: JobOutcome[];
  files: { md: string; json: string };
}

/** The files of a sweep: results/<name>.md and results/<name>.json. */
export function sweepFiles(plan: Pick<SweepPlan, 'name'>, resultsDir: string) {
  return { md: join(resultsDir, `${plan.name}.md`), json: join(resultsDir, `${plan.name}.json`) };
}

/** The outcomes of a sweep's jobs before any runs: finished (a result file) or pending. */
export function initialOutcomes(jobs: Job[], resultsDir: string): JobOutcome[] {
  return jobs.map((j) => {
    const id = jobId(j);
    const result = readResult(join(resultsDir, `${id}.json`));
    return { job: id, status: result ? 'skipped' : 'pending', ...(result ? { result } : {}) };
  });
}

/** Rewrites a sweep's table and record from its outcomes so far. */
export function saveSweep(
  plan: SweepPlan,
  ctx: Pick<JobContext, 'spec' | 'resultsDir'>,
  command: string,
  outcomes: JobOutcome[],
): void {
  const files = sweepFiles(plan, ctx.resultsDir);
  mkdirSync(ctx.resultsDir, { recursive: true });
  const finished = outcomes.map((o) => o.result).filter((r): r is AppResult => !!r);
  const record: SweepRecord = {
    format: 'csq-app-sweep',
    version: 1,
    app: ctx.spec.name,
    name: plan.name,
    command,
    smoke: plan.smoke,
    jobs: outcomes.map((o) => ({
      job: o.job,
      status: o.status,
      ...(o.message ? { message: o.message } : {}),
      ...(o.result ? { result: `${o.job}.json` } : {}),
    })),
    groups: groupResults(finished),
    updatedAt: new Date().toISOString(),
  };
  writeAtomic(files.json, `${JSON.stringify(record, null, 2)}\n`);
  const title = `${ctx.spec.title}: sweep ${plan.name}`;
  writeAtomic(files.md, renderSweep({ title, command, outcomes }));
}

/**
 * Runs a sweep's jobs one after another (see {@link runJob}); stops at Ctrl-C (exit 130, the
 * same command continues) and goes on past a failed job (exit 1 at the end). Returns the exit
 * code and the outcomes.
 */
export async function runSweep(
  plan: SweepPlan,
  ctx: JobContext,
  command: string,
): Promise<SweepResult> {
  const jobs = planJobs(plan);
  const outcomes = initialOutcomes(jobs, ctx.resultsDir);
  const files = sweepFiles(plan, ctx.resultsDir);
  const save = () => saveSweep(plan, ctx, command, outcomes);
  ctx.io.out.write(
    `${ctx.spec.command}: sweep ${plan.name}: ${jobs.length} jobs (${outcomes.filter((o) => o.result).length} already have results)\n`,
  );
  let code = 0;
  for (const [i, job] of jobs.entries()) {
    ctx.io.out.write(`\n${ctx.spec.command}: job ${i + 1}/${jobs.length}: ${outcomes[i]!.job}\n`);
    let outcome: JobOutcome;
    try {
      outcome = await runJob(job, ctx);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.name !== 'CsqError') throw e;
      ctx.io.err.write(`${ctx.spec.command}: ${outcomes[i]!.job}: ${err.message}\n`);
      outcome = { job: outcomes[i]!.job, status: 'failed', message: err.message };
    }
    outcomes[i] = outcome;
    save();
    if (outcome.status === 'stopped') {
      code = 130;
      break;
    }
    if (outcome.status === 'failed') code = 1;
  }
  save();
  ctx.io.out.write(
    `\n${ctx.spec.command}: sweep ${plan.name}: ${outcomes.filter((o) => o.result).length}/${jobs.length} jobs finished; ` +
      `table ${files.md}, record ${files.json}\n`,
  );
  if (code === 130)
    ctx.io.err.write(
      `${ctx.spec.command}: stopped; run the same command again to continue: ${command}\n`,
    );
  return { code, outcomes, files };
}
