/**
 * The built playground in headless Chromium (playwright-core, Debian's chromium): a short run on
 * wasm and a tiny one on WebGPU through SwiftShader; live charts, the summary, pause/resume/stop,
 * the .csqp download loaded with @csq/loader in Node, the drawing pad, and a clear message when
 * training fails. Writes test-results/playground.png (and the README's screenshot.png with
 * CSQ_WRITE_SCREENSHOT=1).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MNIST_MEAN, MNIST_STD, normalize, readAll, takeSource } from '@csq/data';
import { loadMnistEmbedded } from '@csq/data/node';
import { buildModel } from '@csq/layers';
import { loadPackedModel } from '@csq/loader';
import { expectClose, useBackend } from '@csq/test-utils';
import { chromiumAvailable, type Page } from '@csq/test-utils/browser';
import { train } from '@csq/trainer';
import { selectBackend } from '@csq/trainer-node';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, parseSettings, toTrainConfig } from '../src/settings.ts';
import {
  APP_DIR,
  buildAndServe,
  launchChromium,
  openPage,
  type ServedPlayground,
  SWIFTSHADER_ICD,
  view,
  waitForState,
} from './harness.ts';

type Browser = Awaited<ReturnType<typeof launchChromium>>;
const PKG = '@csq/app-playground';
const haveChromium = chromiumAvailable(PKG, 'the playground browser tests');
const haveSwiftShader = existsSync(SWIFTSHADER_ICD);
if (haveChromium && !haveSwiftShader) {
  console.warn(`[${PKG}] the WebGPU run SKIPPED: ${SWIFTSHADER_ICD} not found (Debian: chromium).`);
}

/** The first `count` held-out digits, as the page's asset holds them. */
async function heldOut(count: number): Promise<{ pixels: Uint8Array; labels: Int32Array }> {
  const test = await readAll(loadMnistEmbedded().test);
  return { pixels: test.images.slice(0, count * 784), labels: test.labels.slice(0, count) };
}

/** Logits of the .csqp `bytes` loaded with @csq/loader in Node (cpu), for 28x28 digits. */
async function nodeLogits(bytes: Uint8Array, pixels: Uint8Array, count: number) {
  await useBackend('cpu');
  const model = await loadPackedModel(bytes);
  const x = tf.tensor4d(normalize(pixels, MNIST_MEAN, MNIST_STD), [count, 28, 28, 1]);
  const out = model.predict(x) as tf.Tensor;
  const logits = (await out.array()) as number[][];
  tf.dispose([x, out]);
  model.dispose();
  return logits;
}

function maxDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]!.length);
    row.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - b[i]![j]!));
    });
  });
  return worst;
}

/** Downloads the page's .csqp through its button. */
async function download(page: Page): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  expect(file.suggestedFilename()).toMatch(/\.csqp$/);
  return new Uint8Array(readFileSync((await file.path())!));
}

/** The summary table's per-layer rows: [name, bits, N, params]. */
function summaryTable(page: Page): Promise<string[][]> {
  return page.$$eval('#summary-layers tbody tr', (rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('td'), (td) => td.textContent ?? '')),
  );
}

/** Checks what the page and Node's loader predict for held-out digits and a drawn one. */
async function expectSamePredictions(page: Page, bytes: Uint8Array): Promise<number> {
  const { pixels } = await heldOut(12);
  const inPage = await page.evaluate(
    (p) =>
      (
        window as unknown as {
          playground: { predict(p: number[], n: number): Promise<number[][]> };
        }
      ).playground.predict(p, 12),
    Array.from(pixels),
  );
  const diff = maxDiff(inPage, await nodeLogits(bytes, pixels, 12));
  expect(diff).toBeLessThanOrEqual(1e-5);
  // draw a "7" on the pad: the page predicts with the exact model and shows the digit
  const box = (await page.locator('#pad').boundingBox())!;
  const at = (fx: number, fy: number) => [box.x + fx * box.width, box.y + fy * box.height] as const;
  await page.mouse.move(...at(0.25, 0.2));
  await page.mouse.down();
  for (const [fx, fy] of [
    [0.75, 0.2],
    [0.6, 0.5],
    [0.45, 0.85],
  ] as const) {
    await page.mouse.move(...at(fx, fy), { steps: 8 });
  }
  await page.mouse.up();
  await page.waitForSelector('#prediction[data-digit]');
  const drawn = await page.evaluate(
    () =>
      (window as unknown as { playground: { lastDrawn: { pixels: number[]; logits: number[] } } })
        .playground.lastDrawn,
  );
  expect(drawn.pixels.filter((v) => v > 0).length).toBeGreaterThan(20);
  const [node] = await nodeLogits(bytes, Uint8Array.from(drawn.pixels), 1);
  const drawnDiff = maxDiff([drawn.logits], [node!]);
  expect(drawnDiff).toBeLessThanOrEqual(1e-5);
  const shown = await page.getAttribute('#prediction', 'data-digit');
  expect(Number(shown)).toBe(node!.indexOf(Math.max(...node!)));
  return Math.max(diff, drawnDiff);
}

/**
 * Writes test-results/NAME; with CSQ_WRITE_SCREENSHOT=1 and `forReadme`, also the README's
 * screenshot.png.
 */
async function screenshot(page: Page, name: string, forReadme: boolean): Promise<void> {
  mkdirSync(join(APP_DIR, 'test-results'), { recursive: true });
  const shot = join(APP_DIR, 'test-results', name);
  await page.screenshot({ path: shot, fullPage: true });
  if (forReadme && process.env.CSQ_WRITE_SCREENSHOT === '1') {
    copyFileSync(shot, join(APP_DIR, 'screenshot.png'));
  }
}

describe.skipIf(!haveChromium)('the playground in headless Chromium', () => {
  let served: ServedPlayground;
  beforeAll(async () => {
    served = await buildAndServe();
  }, 240_000);
  afterAll(async () => {
    await served?.close();
  });

  describe('a short run on wasm (auto: no WebGPU adapter without --enable-unsafe-webgpu)', () => {
    let browser: Browser;
    let page: Page;
    const logs: string[] = [];
    let pausedSteps = -1;
    let stepsAfterWait = -2;
    const N = 8;

    beforeAll(async () => {
      browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
      page = await openPage(
        browser.context,
        `${served.url}?train=640&batch=32&epochs=1&lambda=0.01&heldout=400&run=1`,
        logs,
      );
      // pause after a few batches, check that it holds still, then resume
      await page.waitForFunction(
        () => (window as unknown as { playground: { steps: number } }).playground.steps >= 3,
        null,
        { timeout: 120_000, polling: 50 },
      );
      await page.click('#pause');
      await waitForState(page, ['paused', 'done', 'error'], 60_000);
      pausedSteps = (await view(page)).steps;
      await page.waitForTimeout(1000);
      stepsAfterWait = (await view(page)).steps;
      await page.click('#resume');
      await waitForState(page, ['done', 'error', 'stopped'], 180_000);
    }, 300_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('trains on wasm with csq kernels and says why not WebGPU', async () => {
      const v = await view(page);
      expect(v.error, logs.join('\n')).toBeUndefined();
      expect(v.state).toBe('done');
      expect(v.backend).toBe('wasm');
      expect(v.backendMessage).toMatch(/^training on wasm \(tfjs wasm backend with csq/);
      expect(v.backendMessage).toMatch(/not faster ones because webgpu: /);
      // the preview server sends COOP/COEP: the page is cross-origin isolated and wasm threaded
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(v.backendMessage).toContain(
        cores > 1 ? `${Math.min(8, cores)} threads` : 'csq training kernels, 1 thread',
      );
      expect(await page.textContent('#backend')).toContain('training on wasm');
    });

    it('the page trains what Node trains: the same loss at every step (wasm in both)', async () => {
      const pageLosses = await page.evaluate(
        () => (window as unknown as { playground: { losses: number[] } }).playground.losses,
      );
      await selectBackend({ backend: 'wasm' });
      const data = loadMnistEmbedded();
      data.test = takeSource(data.test, 400);
      const model = buildModel('mnist-cnn', { bits: 8, seed: 0, actBits: 0 });
      const nodeLosses: number[] = [];
      const settings = { ...DEFAULT_SETTINGS, train: 640, batch: 32, epochs: 1, lambda: 0.01 };
      await train({
        model,
        data,
        config: toTrainConfig({ ...settings, heldout: 400 }),
        callbacks: { onBatchEnd: (l) => void nodeLosses.push(l.loss) },
      });
      model.dispose();
      expect(nodeLosses).toHaveLength(20);
      expectClose(pageLosses, nodeLosses, 1e-5);
    });

    it('pause holds the run still and resume finishes it', () => {
      expect(pausedSteps).toBeGreaterThanOrEqual(3);
      expect(stepsAfterWait).toBe(pausedSteps);
    });

    it('the charts received points as training went', async () => {
      const v = await view(page);
      const steps = 20; // 640 digits / batch 32
      expect(v.steps).toBe(steps);
      const p = v.points as Record<string, number[]>;
      expect(p.loss).toEqual([steps, 1]); // every step, and the epoch
      // train; held-out soft and exact per epoch; and on 256 held-out digits at step 16
      expect(p.accuracy).toEqual([steps, 1, 1, 1, 1]);
      expect(p.temperature).toEqual([steps]);
      // R and its target: at the start, every 4 steps and at the epoch's last step
      expect(p.budget).toEqual([1 + steps / 4, 1 + steps / 4]);
      expect(v.points.bits).toBe(2 + steps / 4); // and once more for the exact model
      const drawn = await page.$$eval('#charts canvas', (cs) =>
        cs.map((c) => Number((c as HTMLCanvasElement).dataset.points ?? 0)),
      );
      expect(drawn.every((n) => n > 0)).toBe(true);
    });

    it('the summary shows per-layer bits within 0..N, as the run reported them', async () => {
      const v = await view(page);
      const rows = await summaryTable(page);
      expect(rows.map((r) => r[0])).toEqual(['conv1', 'conv2', 'conv3', 'dense']);
      for (const [, bits, n] of rows) {
        expect(Number(n)).toBe(N);
        expect(Number(bits)).toBeGreaterThanOrEqual(0);
        expect(Number(bits)).toBeLessThanOrEqual(N);
      }
      expect(rows.map((r) => Number(r[1]))).toEqual(v.summary!.layers.map((l) => l.bits));
      const bitsChart = await page.getAttribute('#chart-bits', 'data-bits');
      expect(JSON.parse(bitsChart!)).toEqual(v.summary!.layers.map((l) => l.bits));
      const text = await page.textContent('#summary-rows');
      expect(text).toContain('exact accuracy');
      expect(text).toContain('per weight (params)');
      expect(text).toMatch(/KiB exact model vs 94\.9 KiB float32/);
    });

    it('the downloaded .csqp loads with @csq/loader in Node and predicts what the page predicted', async () => {
      const bytes = await download(page);
      const worst = await expectSamePredictions(page, bytes);
      console.log(`[${PKG}] wasm run: page vs Node logits, max |diff| ${worst.toExponential(2)}`);
      mkdirSync(join(APP_DIR, 'test-results'), { recursive: true });
      const shot = join(APP_DIR, 'test-results', 'playground.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.CSQ_WRITE_SCREENSHOT === '1')
        copyFileSync(shot, join(APP_DIR, 'screenshot.png'));
    });

    it('stop ends a run early and still gives a summary and a model', async () => {
      await page.goto(`${served.url}?train=2000&batch=32&epochs=2&heldout=100&seed=3&run=1`);
      await page.waitForFunction(
        () => (window as unknown as { playground: { steps: number } }).playground.steps >= 2,
        null,
        { timeout: 120_000, polling: 50 },
      );
      await page.click('#stop');
      await waitForState(page, ['stopped', 'done', 'error'], 120_000);
      const v = await view(page);
      expect(v.state).toBe('stopped');
      expect(v.steps).toBeLessThan(126);
      expect(v.summary!.layers).toHaveLength(4);
      expect(await page.textContent('#summary-title')).toContain('stopped early');
      // the address holds the settings: reloading it reproduces the run's form
      expect(parseSettings(new URL(page.url()).search)).toEqual({
        ...DEFAULT_SETTINGS,
        train: 2000,
        batch: 32,
        epochs: 2,
        heldout: 100,
        seed: 3,
      });
      expect(new URL(page.url()).searchParams.has('run')).toBe(false);
    });

    it('reports a clear message when training fails or a setting is wrong', async () => {
      await page.goto(`${served.url}?bits=2&target=6&run=1`);
      await waitForState(page, ['error', 'done'], 120_000);
      const v = await view(page);
      expect(v.error?.code).toBe('CSQ_BAD_TARGET');
      const shown = await page.textContent('#error');
      expect(shown).toContain('targetBits 6 is above the starting precision N = 2');
      expect(await page.isVisible('#error')).toBe(true);

      await page.goto(`${served.url}?budget=bytes`);
      const bad = await page.textContent('#error');
      expect(bad).toContain('setting "budget" must be slots, params, bops, storage, got "bytes"');
      expect((await view(page)).state).toBe('error');
    });
  });

  describe.skipIf(!haveSwiftShader)('a tiny run on WebGPU (SwiftShader)', () => {
    let browser: Browser;
    let page: Page;
    const logs: string[] = [];

    beforeAll(async () => {
      browser = await launchChromium({ args: ['--enable-unsafe-webgpu'] });
      page = await openPage(
        browser.context,
        `${served.url}?backend=webgpu&train=32&batch=32&epochs=1&heldout=32&run=1`,
        logs,
      );
      await waitForState(page, ['done', 'error', 'stopped'], 300_000);
    }, 360_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('trains on webgpu, fills the charts and the summary', async () => {
      const v = await view(page);
      expect(v.error, logs.join('\n')).toBeUndefined();
      expect(v.backend).toBe('webgpu');
      expect(v.backendMessage).toMatch(/^training on webgpu \(webgpu \(browser\): /);
      expect(v.steps).toBe(1);
      expect((v.points as Record<string, number[]>).loss).toEqual([1, 1]);
      expect((v.points as Record<string, number[]>).accuracy).toEqual([1, 1, 1, 0, 0]);
      const rows = await summaryTable(page);
      expect(rows).toHaveLength(4);
      for (const [, bits] of rows) expect(Number(bits)).toBeLessThanOrEqual(8);
    });

    it('its .csqp predicts in Node what the page predicted', async () => {
      const worst = await expectSamePredictions(page, await download(page));
      console.log(`[${PKG}] webgpu run: page vs Node logits, max |diff| ${worst.toExponential(2)}`);
    });

    it('auto does not take a software WebGPU adapter, and says so', async () => {
      await page.goto(`${served.url}?train=32&batch=32&heldout=32&epochs=1&run=1`);
      await page.waitForFunction(
        () => (window as unknown as { playground: { backend?: string } }).playground.backend,
        null,
        { timeout: 120_000, polling: 100 },
      );
      const v = await view(page);
      expect(v.backend).toBe('wasm');
      expect(v.backendMessage).toMatch(/webgpu: the only WebGPU adapter is a software one/);
    });
  });

  // CSQ_SLOW=1: the whole quickstart (8 epochs on 8,000 digits) in the page, as a user starts it
  describe.skipIf(process.env.CSQ_SLOW !== '1')('the quickstart in the page (CSQ_SLOW=1)', () => {
    it('reaches the quickstart accuracy with the budget met', async () => {
      const browser = await launchChromium({ viewport: { width: 1280, height: 900 } });
      try {
        const logs: string[] = [];
        const page = await openPage(browser.context, `${served.url}?run=1`, logs);
        await waitForState(page, ['done', 'error'], 3_000_000);
        const v = await view(page);
        expect(v.error, logs.join('\n')).toBeUndefined();
        const s = v.summary!;
        console.log(`[${PKG}] quickstart in the page: ${JSON.stringify(s)}`);
        expect(s.exactAccuracy).toBeGreaterThan(0.9);
        expect(s.avgBits.slots).toBeLessThanOrEqual(2 + 1e-9);
        for (const l of s.layers) expect(l.bits).toBeLessThanOrEqual(8);
        await expectSamePredictions(page, await download(page));
        await screenshot(page, 'quickstart.png', true);
      } finally {
        await browser.close();
      }
    }, 3_600_000);
  });
});
