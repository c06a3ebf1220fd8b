/**
 * Worker thread that trains the float baseline next to the CSQ run (tfjs-wasm uses one core
 * per thread in Node, so two threads use both cores of a 2-core machine).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '@csq/trainer-node';
import type { RunConfig } from './config.js';
import { loadRunData, trainRunModel } from './run-model.js';

interface BaselineJob {
  cfg: RunConfig;
  out: string;
  resume: boolean;
  backend: string;
}

const job = workerData as BaselineJob;
const port = parentPort!;
const stop = new AbortController();
port.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stop.abort();
});

try {
  await selectBackend({ backend: job.backend });
  const data = await loadRunData(job.cfg);
  const { result } = await trainRunModel({
    cfg: job.cfg,
    kind: 'float',
    out: job.out,
    resume: job.resume,
    data,
    signal: stop.signal,
    callbacks: [{ onEpochEnd: (line) => port.postMessage({ type: 'epoch', line }) }],
  });
  port.postMessage({ type: 'done', result: { ...result, report: undefined } });
} catch (e) {
  const err = e as Error & { code?: string };
  port.postMessage({ type: 'error', message: err.message, code: err.code, stack: err.stack });
}
