/**
 * Shared pieces of the step benchmarks (not a test): one training step of a csq model with the
 * loop's own step (@csq/trainer createTrainStep: forward, cross-entropy (+ budget term),
 * gradients, SGD momentum with weight decay), medians, and the per-kernel profile table.
 */
import { BudgetRegularizer } from '@csq/budget';
import { buildModel, CsqController } from '@csq/layers';
import { createTrainStep, SgdMomentum } from '@csq/trainer';
import * as tf from '@tensorflow/tfjs';

/** An async function running one training step of `model` (float or CSQ) at `batch`; ms back. */
export function makeStep(model, { quantized, batch, bits = 8 }) {
  const net = buildModel(model, { quantized, bits, seed: 1 });
  const controller = new CsqController(net);
  const budget = quantized
    ? new BudgetRegularizer(controller, { targetBits: 2, lambda: 0.01 })
    : undefined;
  controller.setBeta(1);
  const optimizer = new SgdMomentum(0.9, 5e-4);
  const step = createTrainStep(net, { optimizer, budget });
  const vars = net.trainableWeights.map((w) => w.read());
  const [h, w, c] = net.inputs[0].shape.slice(1);
  const classes = net.outputs[0].shape[1];
  const x = tf.randomUniform([batch, h, w, c], -1, 1, 'float32', 3);
  const labels = tf.randomUniform([batch], 0, classes, 'int32', 4);
  const run = () => step(x, labels, { lr: 0.01, vars, withPenalty: quantized });
  const timed = async () => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
  timed.run = run;
  return timed;
}

/** Median of a list of numbers. */
export function median(a) {
  return [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
}

/**
 * Runs the variants round-robin (rotating the order each round, so load spikes on a shared
 * machine hit all of them alike) after one warm-up each; returns the median ms per variant.
 * `before(name)` switches state (e.g. kernels) before a variant runs.
 */
export async function alternate(variants, rounds, before = () => {}) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (const n of names) {
    before(n);
    await variants[n]();
  }
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const n = names[(i + r) % names.length];
      before(n);
      times[n].push(await variants[n]());
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}

/** Per-kernel table of one step (tf.profile wall time per kernel; the rest is JS outside). */
export async function profileTable(label, step) {
  const t0 = performance.now();
  const info = await tf.profile(() => step.run());
  const wall = performance.now() - t0;
  const by = new Map();
  for (const k of info.kernels) {
    // ops built with runKernelFunc appear as `name__op` around their kernel: count the kernel
    if (k.name.endsWith('__op')) continue;
    const e = by.get(k.name) ?? { calls: 0, ms: 0 };
    e.calls++;
    e.ms += Number(k.kernelTimeMs) || 0;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0);
  const lines = [`profile: ${label}, one step ${wall.toFixed(0)} ms (profiled; wall time)`];
  lines.push(
    `  ${'kernel'.padEnd(34)} ${'calls'.padStart(6)} ${'ms'.padStart(9)} ${'%'.padStart(6)}`,
  );
  for (const [name, e] of rows.slice(0, 25)) {
    lines.push(
      `  ${name.padEnd(34)} ${String(e.calls).padStart(6)} ${e.ms.toFixed(1).padStart(9)} ${((100 * e.ms) / wall).toFixed(1).padStart(6)}`,
    );
  }
  if (rows.length > 25) {
    const rest = rows.slice(25).reduce((s, [, e]) => s + e.ms, 0);
    lines.push(
      `  ${`(${rows.length - 25} more kernels)`.padEnd(34)} ${''.padStart(6)} ${rest.toFixed(1).padStart(9)}`,
    );
  }
  const js = wall - inKernels;
  lines.push(
    `  ${'outside kernels (JS, tape, GC)'.padEnd(34)} ${''.padStart(6)} ${js.toFixed(1).padStart(9)} ${((100 * js) / wall).toFixed(1).padStart(6)}`,
  );
  return lines.join('\n');
}
