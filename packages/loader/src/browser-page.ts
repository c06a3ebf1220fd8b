/**
 * Test fixture (not part of the package): the page script of browser.test.ts, bundled with
 * esbuild for the browser. Loads packed models over HTTP with the real loader and reports back
 * through `window.__csq`.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { CsqError } from '@csq/core';
import { loadPackedModel } from './index.js';

interface PageResult {
  ok: boolean;
  backend?: string;
  values?: number[];
  error?: string;
  errors?: Array<{ url: string; code: string; message: string; isCsqError: boolean }>;
}

async function main(): Promise<PageResult> {
  await tf.setBackend('cpu');
  await tf.ready();
  const input = (await (await fetch('input.json')).json()) as { values: number[]; shape: number[] };
  // a relative URL string, resolved against the page like any fetch
  const model = await loadPackedModel('model.csqp');
  const y = model.predict(tf.tensor(input.values, input.shape)) as tf.Tensor;
  const values = Array.from(await y.data());
  const errors: PageResult['errors'] = [];
  for (const url of ['corrupt.csqp', 'missing.csqp', new URL('model.csqp', location.href).href]) {
    try {
      const m = await loadPackedModel(url);
      m.dispose();
      errors.push({ url, code: 'none', message: '', isCsqError: false });
    } catch (e) {
      errors.push({
        url,
        code: (e as CsqError).code,
        message: (e as Error).message,
        isCsqError: e instanceof CsqError,
      });
    }
  }
  return { ok: true, backend: tf.getBackend(), values, errors };
}

main().then(
  (r) => {
    (window as unknown as { __csq: PageResult }).__csq = r;
  },
  (e: unknown) => {
    (window as unknown as { __csq: PageResult }).__csq = { ok: false, error: String(e) };
  },
);
