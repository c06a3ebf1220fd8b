/**
 * Benchmark (not a test): csq's float training step on wasm against PyTorch's on the CPU, same
 * models (mnist-cnn and ResNet-20 at batch 128, bench/torch_step.py), same number of threads,
 * measured in alternating rounds. Prints `vsTorch <csq / torch>` for ResNet-20 last. Without a
 * python3 that imports torch (Debian: `apt-get install python3-torch`; or set CSQ_PYTHON) it says
 * so and exits 0.
 *
 *   pnpm bench:torch                      # from the repo root (builds first)
 *   node packages/trainer-node/bench/torch.mjs --steps 5 --rounds 2
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describeBackend, selectBackend } from '../dist/index.js';
import { makeStep, median } from './lib.mjs';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: process.env.CSQ_BACKEND ?? 'wasm' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const rounds = Number(values.rounds);

function findTorchPython() {
  const candidates = [process.env.CSQ_PYTHON, 'python3', '/usr/bin/python3', 'python'];
  for (const py of candidates.filter(Boolean)) {
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { py, version: r.stdout.trim() };
  }
  return null;
}

const torch = findTorchPython();
if (torch == null) {
  console.log(
    'bench:torch: no python3 with torch found (Debian: apt-get install python3-torch, or set ' +
      'CSQ_PYTHON to a python that has it); nothing measured.',
  );
  process.exit(0);
}

await selectBackend({ backend: values.backend });
console.log(`backend: ${(await describeBackend()).text}`);
const threads = tf.getBackend() === 'wasm' ? getThreadsCount() : 1;
console.log(`torch ${torch.version} (${torch.py}), ${threads} thread(s) for both`);
const script = join(dirname(fileURLToPath(import.meta.url)), 'torch_step.py');

function torchStepMs(model) {
  const r = spawnSync(
    torch.py,
    [
      script,
      '--model',
      model,
      '--batch',
      String(batch),
      '--steps',
      String(steps),
      '--threads',
      String(threads),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`torch_step.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()).stepMs;
}

const ratios = {};
for (const model of ['mnist-cnn', 'resnet20']) {
  const step = makeStep(model, { quantized: false, batch });
  await step(); // warm-up
  const csqTimes = [];
  const torchTimes = [];
  for (let r = 0; r < rounds; r++) {
    const mine = [];
    for (let s = 0; s < steps; s++) mine.push(await step());
    csqTimes.push(median(mine));
    torchTimes.push(torchStepMs(model));
  }
  const c = median(csqTimes);
  const t = median(torchTimes);
  ratios[model] = c / t;
  console.log(
    `${model}, batch ${batch}, float step: csq ${c.toFixed(0)} ms, torch ${t.toFixed(0)} ms, csq/torch ${(c / t).toFixed(2)}`,
  );
}
console.log(`vsTorch ${ratios.resnet20.toFixed(2)}`);
