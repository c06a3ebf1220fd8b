import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsqController } from '@csq/layers';
import { fileSystemIO } from '@csq/layers/node';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchChromium,
  MODULE_PAGE,
  serveFiles,
} from '@csq/test-utils/browser';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { openRunDir } from '../src/run-dir.js';
import { loadRunData } from '../src/run-model.js';
import { csq, QUICK, tempDir } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const hasChromium = chromiumAvailable('@csq/cli', 'exported model in the browser');

describe.skipIf(!hasChromium)('an exported quickstart run in a headless browser page', () => {
  it('loads with @csq/loader and predicts what the exact model predicts in Node (<= 1e-5)', async () => {
    const root = tempDir('csq-export-browser-');
    const out = join(root, 'run');
    // long enough for the exact model to be far from trivial (its masks must leave 0: H(0) = 0)
    const train = await csq([
      'train',
      ...QUICK,
      '--epochs',
      '3',
      '--limit-train',
      '1024',
      '--batch',
      '64',
      '--out',
      out,
    ]);
    expect(train.code).toBe(0);
    expect((await csq(['export', out, '--out', join(root, 'export')])).code).toBe(0);

    // Node: the saved CSQ model in exact mode, on 64 real test digits
    await tf.setBackend('wasm');
    const model = await tf.loadLayersModel(fileSystemIO(join(out, 'model')));
    new CsqController(model).setExact(true);
    const data = await loadRunData(openRunDir(out, 'test').config);
    const n = 64;
    const { images } = await data.test.read(Array.from({ length: n }, (_, i) => i));
    const values = Array.from(images, (p) => (p / 255 - data.mean[0]!) / data.std[0]!);
    const node = tf.tidy(() =>
      Array.from((model.predict(tf.tensor4d(values, [n, 28, 28, 1])) as tf.Tensor).dataSync()),
    );
    // a meaningful comparison: the logits vary from image to image and class to class
    expect(new Set(node.map((v) => v.toFixed(3))).size).toBeGreaterThan(100);

    const site = await serveFiles({
      '/': ['text/html', MODULE_PAGE],
      '/bundle.js': [
        'text/javascript',
        await bundleForBrowser(join(here, 'pages', 'exported-model.page.ts')),
      ],
      '/model.csqp': [
        'application/octet-stream',
        new Uint8Array(readFileSync(join(root, 'export', 'model.csqp'))),
      ],
      '/input.json': ['application/json', JSON.stringify({ values, shape: [n, 28, 28, 1] })],
    });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(site.url);
      await page.waitForFunction(() => (window as { __csq?: unknown }).__csq !== undefined, null, {
        timeout: 60_000,
      });
      const r = (await page.evaluate(() => (window as { __csq?: unknown }).__csq)) as {
        ok: boolean;
        error?: string;
        values: number[];
        layers: string[];
      };
      expect(r.ok, r.error).toBe(true);
      expect(r.layers.some((c) => c.startsWith('Csq'))).toBe(false);
      expect(r.values).toHaveLength(node.length);
      const diff = Math.max(...r.values.map((v, i) => Math.abs(v - node[i]!)));
      console.log(
        `exported quickstart model, browser (cpu) vs Node (${tf.getBackend()}) exact model: max |logit difference| = ${diff}`,
      );
      expect(diff).toBeLessThanOrEqual(1e-5);
    } finally {
      await browser.close();
      await site.close();
    }
  }, 180_000);
});
