/**
 * Benchmark (not a test): one training step of a float ResNet-20 and of a CSQ ResNet-20 (N = 8)
 * side by side on WebGPU (Node, Dawn), with @csq/trainer's own step (forward, cross-entropy +
 * budget term, gradients, SGD momentum) plus the budget's per-batch mask download, as the loop
 * runs them. Prints both times, images per second and `ratio <csq/float>`; with --profile, what
 * one step of each does on the GPU: kernels by name, GPU dispatches, kernels handed to the CPU
 * (WEBGPU_CPU_FORWARD), uploads and readbacks (synchronous ones would stall the GPU).
 *
 *   pnpm --filter @csq/trainer-webgpu bench:step -- --batch 128 --steps 5 --profile
 *   (no GPU: add --allow-software for SwiftShader, and a small --batch: it is ~100x slower)
 */
import { parseArgs } from 'node:util';
import { BudgetRegularizer } from '@csq/budget';
import { buildModel, CsqController } from '@csq/layers';
import { createTrainStep, SgdMomentum } from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';
import { loadNodeWebGpuBackend } from '../src/node.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'resnet20' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    bits: { type: 'string', default: '8' },
    profile: { type: 'boolean', default: false },
    'allow-software': { type: 'boolean', default: false },
    'cpu-forward': { type: 'string', default: 'default' },
    json: { type: 'string' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const bits = Number(values.bits);

const session = await loadNodeWebGpuBackend({
  allowSoftware: values['allow-software'] || undefined,
  ...(values['cpu-forward'] === 'default' ? {} : { cpuForward: values['cpu-forward'] === 'true' }),
});
await tf.setBackend('webgpu');
await tf.ready();
console.log(`backend: ${session.summary}`);

function bench(quantized: boolean) {
  const model = buildModel(values.model!, { quantized, bits, seed: 1 });
  const controller = new CsqController(model);
  const budget = quantized
    ? new BudgetRegularizer(controller, { targetBits: 2, lambda: 0.01 })
    : undefined;
  controller.setBeta(1);
  const optimizer = new SgdMomentum(0.9, 5e-4);
  const step = createTrainStep(model, { optimizer, ...(budget ? { budget } : {}) });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const [h, w, c] = model.inputs[0]!.shape.slice(1) as number[];
  const classes = model.outputs[0]!.shape[1] as number;
  const x = tf.randomUniform([batch, h!, w!, c!], -1, 1, 'float32', 3);
  const labels = tf.randomUniform([batch], 0, classes, 'int32', 4);
  return async () => {
    const t0 = performance.now();
    await step(x, labels, { lr: 0.01, vars, withPenalty: quantized });
    if (budget) await budget.refresh(); // the loop's per-batch mask count (async download)
    return performance.now() - t0;
  };
}

/** Counts what the WebGPU backend does while `run` runs. */
async function profile(run: () => Promise<number>) {
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  const counts = { dispatches: 0, cpuForwards: 0, uploads: 0, readSync: 0, read: 0 };
  const programs = new Map<string, number>();
  const wrap = (name: string, on: (args: unknown[], out: unknown) => void) => {
    const orig = backend[name]!;
    backend[name] = function (this: unknown, ...args: unknown[]) {
      const out = orig.apply(this, args);
      on(args, out);
      return out;
    };
    return () => {
      backend[name] = orig;
    };
  };
  const tensorMap = (
    backend as unknown as { tensorMap: { get(id: object): { resource?: unknown } } }
  ).tensorMap;
  const uploaded = new Set<object>();
  const orig = backend.uploadToGPU!;
  const pre = (id: object) => {
    if (tensorMap.get(id)?.resource == null) uploaded.add(id);
  };
  const undo = [
    (() => {
      backend.uploadToGPU = function (this: unknown, ...args: unknown[]) {
        pre(args[0] as object);
        return orig.apply(this, args);
      };
      return () => {
        backend.uploadToGPU = orig;
      };
    })(),
    wrap('runWebGPUProgram', (args) => {
      counts.dispatches++;
      const p = (args[0] as { constructor: { name: string } }).constructor.name;
      programs.set(p, (programs.get(p) ?? 0) + 1);
    }),
    wrap('shouldExecuteOnCPU', (_a, out) => void (out === true && counts.cpuForwards++)),
    // uploadToGPU is called for every input; count only real CPU -> GPU copies
    wrap('uploadToGPU', (args) => void (uploaded.delete(args[0] as object) && counts.uploads++)),
    wrap('readSync', () => void counts.readSync++),
    wrap('read', () => void counts.read++),
  ];
  let info: tf.ProfileInfo;
  try {
    info = await tf.profile(async () => {
      await run();
      return [];
    });
  } finally {
    for (const u of undo.reverse()) u(); // the last wrapper first
  }
  const kernels = new Map<string, { n: number; ms: number }>();
  let timed = true;
  for (const k of info.kernels) {
    const e = kernels.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    if (typeof k.kernelTimeMs === 'number') e.ms += k.kernelTimeMs;
    else timed = false;
    kernels.set(k.name, e);
  }
  return { counts, kernels, programs, timed, total: info.kernels.length };
}

const runs = { float: bench(false), csq: bench(true) };
const times: Record<'float' | 'csq', number[]> = { float: [], csq: [] };
const firstMs = { float: await runs.float(), csq: await runs.csq() }; // shader compiles
for (let s = 0; s < steps; s++) {
  for (const k of s % 2 === 0 ? (['float', 'csq'] as const) : (['csq', 'float'] as const)) {
    times[k].push(await runs[k]());
  }
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
const f = median(times.float);
const q = median(times.csq);
const ips = (ms: number) => ((batch * 1000) / ms).toFixed(1);
console.log(`${values.model}, batch ${batch}, webgpu, median of ${steps} steps (alternating):`);
console.log(
  `float step  ${f.toFixed(0)} ms  (${ips(f)} images/s; first step ${firstMs.float.toFixed(0)} ms)`,
);
console.log(
  `csq step    ${q.toFixed(0)} ms  (${ips(q)} images/s, N = ${bits}, soft weights + budget term; first step ${firstMs.csq.toFixed(0)} ms)`,
);

const out: Record<string, unknown> = {
  model: values.model,
  batch,
  steps,
  floatMs: f,
  csqMs: q,
  ratio: q / f,
  adapter: session.summary,
};
if (values.profile) {
  const p = { float: await profile(runs.float), csq: await profile(runs.csq) };
  console.log('\nprofile of one step (tf.profile + WebGPU backend counters):');
  console.log(
    '             kernels  GPU dispatches  CPU-forwarded  uploads  async reads  sync reads',
  );
  for (const k of ['float', 'csq'] as const) {
    const c = p[k].counts;
    console.log(
      `${k.padEnd(12)} ${String(p[k].total).padStart(7)}  ${String(c.dispatches).padStart(14)}  ${String(c.cpuForwards).padStart(13)}  ${String(c.uploads).padStart(7)}  ${String(c.read).padStart(11)}  ${String(c.readSync).padStart(10)}`,
    );
  }
  const names = [...new Set([...p.float.kernels.keys(), ...p.csq.kernels.keys()])];
  const timed = p.float.timed && p.csq.timed;
  const row = (n: string) => {
    const a = p.float.kernels.get(n) ?? { n: 0, ms: 0 };
    const b = p.csq.kernels.get(n) ?? { n: 0, ms: 0 };
    return { n, a, b };
  };
  const rows = names
    .map(row)
    .sort((x, y) => (timed ? y.b.ms - x.b.ms : y.b.n - x.b.n) || y.b.n - x.b.n);
  console.log(
    `\nkernels by ${timed ? 'GPU time (timestamp queries)' : 'count (this adapter has no timestamp queries: no per-kernel times)'}, float vs csq:`,
  );
  console.log(`${'kernel'.padEnd(28)} float n   csq n${timed ? '   float ms     csq ms' : ''}`);
  for (const r of rows.slice(0, 30)) {
    console.log(
      `${r.n.padEnd(28)} ${String(r.a.n).padStart(7)} ${String(r.b.n).padStart(7)}${timed ? ` ${r.a.ms.toFixed(2).padStart(10)} ${r.b.ms.toFixed(2).padStart(10)}` : ''}`,
    );
  }
  const only = names.filter((n) => !p.float.kernels.has(n));
  console.log(`kernels only the CSQ step runs: ${only.join(', ') || 'none'}`);
  out.profile = Object.fromEntries(
    (['float', 'csq'] as const).map((k) => [
      k,
      { ...p[k].counts, kernels: p[k].total, byKernel: Object.fromEntries(p[k].kernels) },
    ]),
  );
}
console.log(`ratio ${(q / f).toFixed(3)}`);
if (values.json) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(values.json, `${JSON.stringify(out, null, 2)}\n`);
}
session.dispose();
