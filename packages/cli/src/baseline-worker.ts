/**
 * Worker thread that trains the float baseline next to the CSQ run (tfjs-wasm uses one core
 * per thread in Node, so two threads use both cores of a 2-core machine).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type TrainingRunConfig, toTrainConfig } from '@csq/run-format';
import { type NodeBackendName, trainNode } from '@csq/trainer-node';
import { buildRunModel, loadRunData } from './run-model.js';

interface BaselineJob {
  cfg: TrainingRunConfig;
  out: string;
  resume: boolean;
  backend: NodeBackendName;
  /** wasm threads of this thread's backend (its share of --threads). */
  threads: number;
}

const job = workerData as BaselineJob;
const port = parentPort!;
const stop = new AbortController();
port.on('message', (m: { type: string }) => {
  if (m.type === 'stop') stop.abort();
});

try {
  const data = await loadRunData(job.cfg);
  const result = await trainNode({
    model: () => buildRunModel(job.cfg, data, 'float'),
    data,
    config: toTrainConfig(job.cfg, 'float'),
    out: job.out,
    run: job.cfg,
    resume: job.resume ? 'if-checkpoint' : false,
    backend: job.backend,
    threads: job.threads,
    saveModel: false,
    handleInterrupt: false,
    lock: false, // the csq train process holds run.lock
    signal: stop.signal,
    log: () => {},
    callbacks: [{ onEpochEnd: (line) => port.postMessage({ type: 'epoch', line }) }],
  });
  port.postMessage({
    type: 'done',
    result: { stopped: result.stopped, softAccuracy: result.softAccuracy },
  });
} catch (e) {
  const err = e as Error & { code?: string };
  port.postMessage({ type: 'error', message: err.message, code: err.code, stack: err.stack });
}
