/**
 * Child process of the fuzz suite (fuzz.test.ts): loads mutated packed files one after another
 * under a memory cap and reports each outcome to the parent, which times every case out.
 * Run as `node --conditions=@csq/source --import tsx --max-old-space-size=N fuzz-worker.ts`.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mutate } from './fuzz-mutate.js';
import { loadPackedModel } from './load.js';

/** Weights this large come from a mutation, not training; products of two overflow float32. */
export const OVERFLOW_WEIGHT = 1e18;

/** A job: seed files, the cases to run, and the loader limits. */
export interface FuzzJob {
  files: string[]; // base64
  seed: number;
  from: number;
  to: number;
  maxElements: number;
  maxBytes: number;
}

/** What one case ended in. */
export interface FuzzOutcome {
  i: number;
  what: string;
  /**
   * `overflow`: a valid model whose weights (changed by the mutation into other finite floats)
   * reach OVERFLOW_WEIGHT or more, so that float32 arithmetic overflows; `nonfinite`: non-finite
   * predictions from ordinary weights (a failure).
   */
  outcome: 'error' | 'finite' | 'untyped' | 'nonfinite' | 'overflow';
  maxAbsWeight?: number;
  code?: string;
  message?: string;
  rssBytes: number;
}

async function runCase(job: FuzzJob, files: Uint8Array[], i: number): Promise<FuzzOutcome> {
  const file = files[i % files.length]!;
  const { bytes, what } = mutate(file, job.seed, i);
  const rss = () => process.resourceUsage().maxRSS * 1024;
  let model: Awaited<ReturnType<typeof loadPackedModel>>;
  try {
    model = await loadPackedModel(bytes, { maxElements: job.maxElements, maxBytes: job.maxBytes });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSQ_') && e instanceof Error) {
      return { i, what, outcome: 'error', code, rssBytes: rss() };
    }
    return {
      i,
      what,
      outcome: 'untyped',
      message: String((e as Error)?.stack ?? e),
      rssBytes: rss(),
    };
  }
  try {
    const shape = (model.inputs[0]!.shape as (number | null)[]).map((d) => d ?? 1);
    const y = tf.tidy(() => {
      const x = tf.randomUniform(shape, -1, 1, 'float32', 7);
      const out = model.predict(x) as tf.Tensor | tf.Tensor[];
      return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync());
    });
    if (y.every((a) => a.every((v) => Number.isFinite(v)))) {
      return { i, what, outcome: 'finite', rssBytes: rss() };
    }
    let maxAbsWeight = 0;
    for (const v of model.weights) {
      for (const x of v.read().dataSync()) maxAbsWeight = Math.max(maxAbsWeight, Math.abs(x));
    }
    const outcome = maxAbsWeight >= OVERFLOW_WEIGHT ? 'overflow' : 'nonfinite';
    return { i, what, outcome, maxAbsWeight, rssBytes: rss() };
  } catch (e) {
    return {
      i,
      what,
      outcome: 'untyped',
      message: `predict: ${String((e as Error)?.stack ?? e)}`,
      rssBytes: rss(),
    };
  } finally {
    model.dispose();
  }
}

process.on('message', async (job: FuzzJob) => {
  await tf.setBackend('cpu');
  const files = job.files.map((b) => Uint8Array.from(Buffer.from(b, 'base64')));
  for (let i = job.from; i < job.to; i++) {
    process.send!({ start: i });
    process.send!(await runCase(job, files, i));
  }
  process.send!({ done: true });
});
