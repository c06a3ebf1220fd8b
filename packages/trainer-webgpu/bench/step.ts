/**
 * Benchmark (not a test): one tiny CSQ training step (test/scenarios/tiny-train.ts: batch 4,
 * 8x8x1, a 3x3x1x4 CSQ conv and a 4x3 CSQ dense, N = 4) timed on cpu, wasm and webgpu (Node,
 * Dawn) in one process, printed side by side. Run with `pnpm --filter @csq/trainer-webgpu bench`.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initWebGpu } from '../src/node.js';
import { tinyCsqTraining } from '../test/scenarios/tiny-train.js';

const WARMUP_STEPS = 4;
const TIMED_STEPS = 9;
const TIMED_RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  backend: string;
  medianMs?: number;
  firstMs?: number;
  note: string;
}

async function measure(backend: string, setup: () => Promise<string>): Promise<Row> {
  let note: string;
  try {
    note = await setup();
  } catch (e) {
    return { backend, note: `unavailable: ${e instanceof Error ? e.message : String(e)}` };
  }
  try {
    // The first run compiles (webgpu: shader pipelines) and warms caches; the second is timed.
    const warm = await tinyCsqTraining({ steps: WARMUP_STEPS });
    const stepMs: number[] = [];
    for (let i = 0; i < TIMED_RUNS; i++) {
      stepMs.push(...(await tinyCsqTraining({ steps: TIMED_STEPS })).stepMs);
    }
    if (process.env.CSQ_BENCH_VERBOSE) {
      console.log(backend, stepMs.map((t) => t.toFixed(1)).join(' '));
    }
    return { backend, medianMs: median(stepMs), firstMs: warm.stepMs[0]!, note };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    const hint = /Conv2DBackpropFilter/.test(why)
      ? ' (tfjs-backend-wasm 4.22 has no conv filter gradient; @csq/trainer-node registers one)'
      : '';
    return { backend, note: `failed: ${why}${hint}` };
  }
}

const rows: Row[] = [];
rows.push(
  await measure('cpu', async () => {
    await tf.setBackend('cpu');
    return 'tfjs-backend-cpu (JavaScript)';
  }),
);
rows.push(
  await measure('wasm', async () => {
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    const extra = tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined;
    return (
      `tfjs-backend-wasm, ${getThreadsCount()} thread(s)` +
      (extra ? ', with @csq/trainer-node training kernels' : '')
    );
  }),
);
for (const cpuForward of [false, true]) {
  let dispose = () => {};
  rows.push(
    await measure(cpuForward ? 'webgpu*' : 'webgpu', async () => {
      const session = await initWebGpu({ cpuForward });
      dispose = session.dispose;
      return session.summary.replace(/^webgpu \(node\): /, 'Dawn, ');
    }),
  );
  dispose();
}

const cpuMs = rows[0]?.medianMs;
console.log(
  `tiny CSQ training step (batch 4, 8x8x1): median of ${TIMED_RUNS * TIMED_STEPS} steps ` +
    'after a warm-up run; first step ms = first step of the warm-up run (webgpu: shader compiles)',
);
console.log('backend  step ms   first step ms  vs cpu  note');
for (const r of rows) {
  const ms = r.medianMs === undefined ? '-' : r.medianMs.toFixed(2);
  const first = r.firstMs === undefined ? '-' : r.firstMs.toFixed(1);
  const ratio = r.medianMs !== undefined && cpuMs ? `${(r.medianMs / cpuMs).toFixed(2)}x` : '-';
  console.log(
    `${r.backend.padEnd(8)} ${ms.padStart(7)}   ${first.padStart(13)}  ${ratio.padStart(6)}  ${r.note}`,
  );
}
console.log(
  'webgpu: every op on the GPU (WEBGPU_CPU_FORWARD=false); webgpu*: tfjs default, small ops ' +
    'whose inputs are still on the CPU run there',
);
