/**
 * Fuzz suite (issue #16, point 6): thousands of mutated packed files, versions 1 and 2, every
 * checksum recomputed (the hard case: only the loader's own checks remain). The cases run in
 * child processes with a capped V8 heap and the loader's maxElements/maxBytes limits; the
 * parent times every case out. Each case must end in a typed CsqError or a model that predicts
 * finite values: never an untyped error, a hang, a crash or memory past the cap.
 * CSQ_FUZZ_CASES sets the number of cases (default 2400), CSQ_FUZZ_SEED the seed.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '@csq/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodePackedModel } from './encode.js';
import type { FuzzJob, FuzzOutcome } from './fuzz-worker.js';
import {
  quantizeModel,
  RESIDUAL_PLANS,
  randomizeWeights,
  residualModel,
  SEQUENTIAL_PLANS,
  sequentialModel,
} from './test-models.js';

const CASES = Number(process.env['CSQ_FUZZ_CASES'] ?? 2400);
const SEED = Number(process.env['CSQ_FUZZ_SEED'] ?? 1);
const WORKERS = 2;
/** A case that takes longer than this is a hang (generous: the machine may be busy). */
const CASE_TIMEOUT_MS = 20_000;
/** Start-up of a child (tsx compiling the sources, tfjs) may take long on a loaded machine. */
const START_TIMEOUT_MS = 180_000;
/** Memory cap of a child: V8 heap (flag) and peak resident set (checked). */
const HEAP_MB = 256;
const RSS_CAP_BYTES = 1024 * 2 ** 20;
const LIMITS = { maxElements: 2 ** 20, maxBytes: 2 ** 24 };

const here = dirname(fileURLToPath(import.meta.url));

type Failure = { i: number; kind: 'hang' | 'crash'; detail: string };

/** Runs cases [from, to) in children, restarting after a hang or a crash. */
async function runRange(files: string[], from: number, to: number) {
  const outcomes: FuzzOutcome[] = [];
  const failures: Failure[] = [];
  let next = from;
  while (next < to) {
    await new Promise<void>((resolve) => {
      const child: ChildProcess = fork(join(here, 'fuzz-worker.ts'), [], {
        execArgv: [
          '--conditions=@csq/source',
          '--import',
          'tsx',
          `--max-old-space-size=${HEAP_MB}`,
        ],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => {
        stderr = (stderr + String(d)).slice(-2000);
      });
      let current = next;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (failure?: Failure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (failure) {
          failures.push(failure);
          next = failure.i + 1;
        }
        child.kill('SIGKILL');
        resolve();
      };
      const arm = (ms = CASE_TIMEOUT_MS) => {
        clearTimeout(timer);
        timer = setTimeout(
          () => finish({ i: current, kind: 'hang', detail: `no result in ${ms} ms` }),
          ms,
        );
      };
      arm(START_TIMEOUT_MS); // until the child's first case starts
      child.on('message', (m: { start?: number; done?: boolean } & Partial<FuzzOutcome>) => {
        if (m.start !== undefined) {
          current = m.start;
          arm();
        } else if (m.done) {
          next = to;
          finish();
        } else {
          outcomes.push(m as FuzzOutcome);
          next = (m as FuzzOutcome).i + 1;
        }
      });
      child.on('exit', (code, signal) => {
        if (!settled)
          finish({ i: current, kind: 'crash', detail: `exit ${code} ${signal} ${stderr}` });
      });
      const job: FuzzJob = { files, seed: SEED, from: next, to, ...LIMITS };
      child.send(job);
    });
  }
  return { outcomes, failures };
}

describe('fuzz: mutated packed files with recomputed checksums', () => {
  let files: string[];
  beforeAll(async () => {
    await useBackend('cpu');
    files = [];
    for (const [build, plans] of [
      [sequentialModel, SEQUENTIAL_PLANS],
      [residualModel, RESIDUAL_PLANS],
    ] as const) {
      const model = build();
      randomizeWeights(model, 3);
      const { inputs } = quantizeModel(model, plans);
      const topology = model.toJSON(null, false) as object;
      for (const formatVersion of [1, 2] as const) {
        const bytes = encodePackedModel({ topology, weights: inputs }, { formatVersion });
        files.push(Buffer.from(bytes).toString('base64'));
      }
      model.dispose();
    }
  });

  it(`${CASES} cases end in a typed error or a finite model, in bounded time and memory`, async () => {
    const per = Math.ceil(CASES / WORKERS);
    const parts = await Promise.all(
      Array.from({ length: WORKERS }, (_, w) =>
        runRange(files, w * per, Math.min(CASES, (w + 1) * per)),
      ),
    );
    const outcomes = parts.flatMap((p) => p.outcomes);
    const failures = parts.flatMap((p) => p.failures);
    const counts: Record<string, number> = {};
    for (const o of outcomes) {
      const k = o.outcome === 'error' ? o.code! : o.outcome;
      counts[k] = (counts[k] ?? 0) + 1;
    }
    const maxRss = Math.max(...outcomes.map((o) => o.rssBytes));
    console.log(
      `fuzz: ${outcomes.length} cases, seed ${SEED}: ${JSON.stringify(counts)}; ` +
        `peak RSS ${(maxRss / 2 ** 20).toFixed(0)} MiB`,
    );
    // `overflow` (a mutated weight >= 1e18, float32 arithmetic overflows) is a valid file whose
    // model computes Inf: counted in the summary, not a loader failure
    const bad = outcomes.filter((o) => o.outcome === 'untyped' || o.outcome === 'nonfinite');
    expect(failures, JSON.stringify(failures.slice(0, 3))).toEqual([]);
    expect(
      bad.map(
        (o) =>
          `case ${o.i} (${o.what}): ${o.outcome} ${o.maxAbsWeight ?? ''} ${o.message?.slice(0, 300) ?? ''}`,
      ),
    ).toEqual([]);
    expect(outcomes).toHaveLength(CASES);
    expect(maxRss).toBeLessThan(RSS_CAP_BYTES);
    // the mutations reach deep: many files pass every byte-level check and get built
    expect((counts['finite'] ?? 0) + (counts['CSQ_PACKED_TOPOLOGY'] ?? 0)).toBeGreaterThan(
      CASES / 20,
    );
  }, 600_000);
});
