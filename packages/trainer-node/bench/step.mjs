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
 */
import { parseArgs } from 'node:util';
import { registerWasmTrainingKernels, useStockWasmKernels } from '@csq/backend-wasm-kernels';
import * as tf from '@tensorflow/tfjs';
import { describeBackend, selectBackend } from '../dist/index.js';
import { alternate, makeStep, profileTable } from './lib.mjs';

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
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const bits = Number(values.bits);

const backend = await selectBackend({ backend: values.backend });
console.log(`backend: ${(await describeBackend()).text}`);
const onWasm = tf.getBackend() === 'wasm';
const withStock = onWasm && values.stock && !values['no-stock'];

const variants = {
  float: makeStep(values.model, { quantized: false, batch, bits }),
  csq: makeStep(values.model, { quantized: true, batch, bits }),
};
if (withStock) variants.stock = makeStep(values.model, { quantized: false, batch, bits });
const useKernels = (name) => {
  if (!onWasm) return;
  if (name === 'stock') useStockWasmKernels();
  else registerWasmTrainingKernels();
};
const t = await alternate(variants, steps, useKernels);
useKernels('float');

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
}
if (withStock) {
  console.log(
    `stock step  ${t.stock.toFixed(0)} ms  (float, tfjs's stock wasm kernels + csq's missing ones)`,
  );
  console.log(`speedup ${(t.stock / t.float).toFixed(3)}`);
}
console.log(`ratio ${(t.csq / t.float).toFixed(3)}`);
