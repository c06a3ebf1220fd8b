import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uniform, useBackend } from '@csq/test-utils';
import {
  bundleForBrowser,
  chromiumAvailable,
  launchChromium,
  MODULE_PAGE,
  serveFiles,
} from '@csq/test-utils/browser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePackedModel } from './encode.js';
import { loadPackedModel } from './load.js';
import {
  maxAbsDiff,
  predict,
  quantizeModel,
  RESIDUAL_PLANS,
  randomizeWeights,
  residualModel,
} from './test-models.js';

const hasChromium = chromiumAvailable('@csq/loader', 'browser test');
const here = dirname(fileURLToPath(import.meta.url));

describe.skipIf(!hasChromium)('loadPackedModel in headless chromium (esbuild bundle)', () => {
  let site: Awaited<ReturnType<typeof serveFiles>>;
  let bundle = '';
  let bytes: Uint8Array;
  const inShape = [6, 6, 3];
  const batch = 3;
  const x = uniform(batch * 6 * 6 * 3, -1, 1, 21);
  let nodeValues: Float32Array;

  beforeAll(async () => {
    await useBackend('cpu');
    const model = residualModel();
    randomizeWeights(model, 17);
    const { inputs } = quantizeModel(model, RESIDUAL_PLANS);
    bytes = encodePackedModel({ topology: model.toJSON(null, false) as object, weights: inputs });
    model.dispose();
    const loaded = await loadPackedModel(bytes);
    nodeValues = predict(loaded, x, [batch, ...inShape]);
    loaded.dispose();

    bundle = await bundleForBrowser(join(here, 'browser-page.ts'));

    const corrupt = Uint8Array.from(bytes);
    corrupt[corrupt.length - 2]! ^= 0x40;
    const files: Record<string, [string, string | Uint8Array]> = {
      '/': ['text/html', MODULE_PAGE],
      '/bundle.js': ['text/javascript', bundle],
      '/model.csqp': ['application/octet-stream', bytes],
      '/corrupt.csqp': ['application/octet-stream', corrupt],
      '/input.json': [
        'application/json',
        JSON.stringify({ values: Array.from(x), shape: [batch, ...inShape] }),
      ],
    };
    site = await serveFiles(files);
  });

  afterAll(async () => {
    await site?.close();
  });

  it('bundles for the browser without node: modules', () => {
    expect(bundle.length).toBeGreaterThan(100_000);
    // the Node-only branch is a dynamic import of a variable, never a static node: import
    expect(bundle).not.toMatch(/from\s*["']node:/);
    expect(bundle).not.toMatch(/require\(["']node:/);
  });

  it('gives the same predictions as Node, and clear errors for bad files', async () => {
    const { context, close } = await launchChromium();
    try {
      const page = await context.newPage();
      const logs: string[] = [];
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      await page.goto(site.url);
      await page.waitForFunction(() => (window as { __csq?: unknown }).__csq !== undefined, null, {
        timeout: 60_000,
      });
      const r = (await page.evaluate(() => (window as { __csq?: unknown }).__csq)) as {
        ok: boolean;
        error?: string;
        backend: string;
        values: number[];
        errors: Array<{ url: string; code: string; message: string; isCsqError: boolean }>;
      };
      expect(r.ok, `${r.error}\n${logs.join('\n')}`).toBe(true);
      expect(r.backend).toBe('cpu');
      expect(r.values).toHaveLength(nodeValues.length);
      const diff = maxAbsDiff(r.values, nodeValues);
      console.log(`browser vs Node max |logit difference| = ${diff}`);
      expect(diff).toBeLessThanOrEqual(1e-5);
      expect(r.errors[0]).toMatchObject({ code: 'CSQ_PACKED_CHECKSUM', isCsqError: true });
      expect(r.errors[0]!.message).toMatch(/weights .* are corrupt/);
      expect(r.errors[1]).toMatchObject({ code: 'CSQ_PACKED_SOURCE', isCsqError: true });
      expect(r.errors[1]!.message).toMatch(/HTTP 404/);
      expect(r.errors[2]).toMatchObject({ code: 'none' }); // an absolute URL string loads
    } finally {
      await close();
    }
  });
});
