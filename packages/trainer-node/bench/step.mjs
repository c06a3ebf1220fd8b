/**
 * Benchmark (not a test): one training step of a float ResNet-20 and of a CSQ ResNet-20 (N = 8)
 * at batch 128, side by side in one run on the chosen backend, with the loop's own step. On wasm
 * it also runs the float step on tfjs's stock wasm kernels (only the kernels wasm lacks come from
 * csq, composed from wasm's own; see useStockWasmKernels) in the same rounds. Prints the steps,
 * `speedup <stock float / csq float>` (wasm only), and last `ratio <csq / float>`.
 *
 *   pnpm bench:step                                   # from the repo root (builds first)
 *   node packages/trainer-node/bench/step.mjs --backend wasm --model mnist-cnn --steps 9
 *   node packages/trainer-node/bench/step.mjs --profile  # adds per-kernel tables
 *   node packages/trainer-node/bench/step.mjs --threads 2      # wasm on 2 threads (CSQ_WASM_THREADS)
 *   node packages/trainer-node/bench/step.mjs --threads 1,2    # 1 vs 2 threads side by side
 *   node packages/trainer-node/bench/step.mjs --threads 1,2 --no-kernel-pool  # csq's own kernels
 *                                                    # on the calling thread only (XNNPACK threaded)
 *   node packages/trainer-node/bench/step.mjs --threads 2 --pool-compare  # + the float step with
 *       csq's kernels on the calling thread, same process, round-robin: `poolSpeedup`
 *
 * `--threads 1,2` runs one child process per thread count, alternating for `--rounds` rounds
 * (a backend's thread count is fixed once it starts), and prints each count's float and csq
 * steps (median over its rounds) and `threadSpeedup <1-thread float / N-thread float>`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  configureKernelPool,
  kernelPoolState,
  registerWasmTrainingKernels,
  useStockWasmKernels,
} from '@csq/backend-wasm-kernels';
import { enableWasmThreads } from '@csq/backend-wasm-kernels/node';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../dist/index.js';
import { alternate, makeStep, median, profileTable } from './lib.mjs';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: process.env.CSQ_BACKEND ?? 'auto' },
    model: { type: 'string', default: 'resnet20' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    bits: { type: 'string', default: '8' },
    profile: { type: 'boolean', default: false },
    stock: { type: 'boolean', default: true },
    'no-stock': { type: 'boolean', default: false },
    threads: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
    'no-kernel-pool': { type: 'boolean', default: false },
    'pool-compare': { type: 'boolean', default: false },
  },
});
const threadList = (values.threads ?? '').split(',').filter(Boolean).map(Number);
if (threadList.length > 1) {
  await compareThreads(threadList);
  process.exit(0);
}
if (threadList.length === 1) enableWasmThreads({ threads: threadList[0] });
if (values['no-kernel-pool']) configureKernelPool({ threads: 1 }); // csq's kernels: calling thread
const batch = Number(values.batch);
const steps = Number(values.steps);
const bits = Number(values.bits);

const backend = await selectBackend({ backend: values.backend });
const described = await describeBackend();
console.log(`backend: ${described.text}`);
const poolNote = () => {
  const pool = kernelPoolState();
  return pool
    ? `csq kernel pool: ${pool.workers} worker(s), ${pool.workerParts} parts run on them`
    : 'csq kernel pool: none (csq kernels on the calling thread)';
};
const onWasm = tf.getBackend() === 'wasm';
const withStock = onWasm && values.stock && !values['no-stock'];

const variants = {
  float: makeStep(values.model, { quantized: false, batch, bits }),
  csq: makeStep(values.model, { quantized: true, batch, bits }),
};
if (withStock) variants.stock = makeStep(values.model, { quantized: false, batch, bits });
const poolCompare = onWasm && values['pool-compare'] && !values['no-kernel-pool'];
if (poolCompare) variants.nopool = makeStep(values.model, { quantized: false, batch, bits });
const useKernels = (name) => {
  if (!onWasm) return;
  if (name === 'stock') useStockWasmKernels();
  else registerWasmTrainingKernels();
  // `nopool`: csq's kernels on the calling thread (XNNPACK keeps its threads)
  if (poolCompare) configureKernelPool({ threads: name === 'nopool' ? 1 : null });
};
const t = await alternate(variants, steps, useKernels);
useKernels('float');
if (onWasm) console.log(poolNote());

const ips = (ms) => ((batch * 1000) / ms).toFixed(1);
console.log(
  `${values.model}, batch ${batch}, ${backend.name}, median of ${steps} steps (round-robin):`,
);
console.log(`float step  ${t.float.toFixed(0)} ms  (${ips(t.float)} images/s)`);
console.log(
  `csq step    ${t.csq.toFixed(0)} ms  (${ips(t.csq)} images/s, N = ${bits}, soft weights + budget term)`,
);
if (values.profile) {
  console.log(await profileTable(`${values.model} float step, csq kernels`, variants.float));
  console.log(await profileTable(`${values.model} csq step, csq kernels`, variants.csq));
  if (withStock) {
    useKernels('stock');
    console.log(
      await profileTable(`${values.model} float step, stock wasm kernels`, variants.stock),
    );
    useKernels('float');
  }
  if (poolCompare) {
    useKernels('nopool');
    console.log(
      await profileTable(
        `${values.model} float step, csq kernels on the calling thread`,
        variants.nopool,
      ),
    );
    useKernels('float');
  }
}
if (poolCompare) {
  console.log(
    `nopool step ${t.nopool.toFixed(0)} ms  (float, csq's kernels on the calling thread)`,
  );
  console.log(`poolSpeedup ${(t.nopool / t.float).toFixed(3)}`);
}
if (withStock) {
  console.log(
    `stock step  ${t.stock.toFixed(0)} ms  (float, tfjs's stock wasm kernels + csq's missing ones)`,
  );
  console.log(`speedup ${(t.stock / t.float).toFixed(3)}`);
}
if (values.json) {
  const threads = described.wasm?.threadsCount ?? 1;
  console.log(`json ${JSON.stringify({ float: t.float, csq: t.csq, threads })}`);
}
console.log(`ratio ${(t.csq / t.float).toFixed(3)}`);

/** One child process per thread count and round (alternating), then the side-by-side table. */
async function compareThreads(counts) {
  const script = fileURLToPath(import.meta.url);
  const rounds = Number(values.rounds);
  const runs = Object.fromEntries(counts.map((n) => [n, { float: [], csq: [], threads: 0 }]));
  for (let r = 0; r < rounds; r++) {
    for (const n of r % 2 ? [...counts].reverse() : counts) {
      const args = [script, '--backend', 'wasm', '--model', values.model, '--batch', values.batch];
      args.push('--steps', values.steps, '--bits', values.bits, '--threads', String(n));
      args.push('--no-stock', '--json');
      if (values['no-kernel-pool']) args.push('--no-kernel-pool');
      const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
      const line = out.split('\n').find((l) => l.startsWith('json '));
      if (!line) throw new Error(`no result from the ${n}-thread run:\n${out}`);
      const res = JSON.parse(line.slice(5));
      runs[n].float.push(res.float);
      runs[n].csq.push(res.csq);
      runs[n].threads = res.threads;
      console.log(
        `round ${r + 1}, ${n} thread(s) (wasm runs ${res.threads}): float ${res.float.toFixed(0)} ms, csq ${res.csq.toFixed(0)} ms`,
      );
    }
  }
  console.log(
    `${values.model}, batch ${values.batch}, wasm, ${rounds} alternating rounds of ${values.steps} steps` +
      `${values['no-kernel-pool'] ? ", csq's kernels on the calling thread (--no-kernel-pool)" : ''}:`,
  );
  console.log('threads | float step (median / best round) | csq step (median / best round)');
  const best = (a) => Math.min(...a);
  for (const n of counts) {
    const r = runs[n];
    console.log(
      `${String(r.threads).padStart(7)} | ${median(r.float).toFixed(0)} / ${best(r.float).toFixed(0)} ms | ` +
        `${median(r.csq).toFixed(0)} / ${best(r.csq).toFixed(0)} ms`,
    );
  }
  const [a, b] = [counts[0], counts[counts.length - 1]];
  const speedup = (f) => (f(runs[a].float) / f(runs[b].float)).toFixed(3);
  console.log(
    `threadSpeedup ${speedup(median)} (float step, ${runs[b].threads} threads over ${runs[a].threads}; best rounds: ${speedup(best)})`,
  );
  console.log(`ratio ${(median(runs[b].csq) / median(runs[b].float)).toFixed(3)}`);
}
