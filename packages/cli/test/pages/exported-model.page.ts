/**
 * Browser page of export-browser.test.ts: loads the exported quickstart model with the real
 * @csq/loader over HTTP and predicts the test images it is given.
 */
import { loadPackedModel } from '@csq/loader';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

async function run(): Promise<{ ok: true; values: number[]; layers: string[] }> {
  await tf.setBackend('cpu');
  const input = (await (await fetch('input.json')).json()) as { values: number[]; shape: number[] };
  const model = await loadPackedModel('model.csqp');
  const y = model.predict(tf.tensor(input.values, input.shape)) as tf.Tensor;
  return {
    ok: true,
    values: Array.from(await y.data()),
    layers: model.layers.map((l) => l.getClassName()),
  };
}

run().then(
  (r) => {
    (window as unknown as { __csq: unknown }).__csq = r;
  },
  (e: unknown) => {
    (window as unknown as { __csq: unknown }).__csq = { ok: false, error: String(e) };
  },
);
