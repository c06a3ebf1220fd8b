/**
 * Builds the playground (the digits asset, then `vite build` into a temporary folder), serves it
 * with `vite preview` on 127.0.0.1 and drives it in headless Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, type Page } from '@csq/test-utils/browser';
import { build, preview } from 'vite';
import { writeDigitsAsset } from '../scripts/make-data.ts';
import type { PageSummary } from '../src/summary.ts';

/** The app's folder. */
export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** SwiftShader's Vulkan driver from Debian's chromium: WebGPU without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** A built and served copy of the page. */
export interface ServedPlayground {
  url: string;
  close(): Promise<void>;
}

/** Builds the page into a temporary folder and serves it. */
export async function buildAndServe(): Promise<ServedPlayground> {
  await writeDigitsAsset();
  const outDir = mkdtempSync(join(tmpdir(), 'csq-playground-'));
  const configFile = join(APP_DIR, 'vite.config.ts');
  await build({
    root: APP_DIR,
    configFile,
    logLevel: 'error',
    build: { outDir, emptyOutDir: true },
  });
  const server = await preview({
    root: APP_DIR,
    configFile,
    logLevel: 'error',
    build: { outDir },
    preview: { port: 0, host: '127.0.0.1', open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview gave no URL');
  return {
    url,
    close: async () => {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/** What the page exposes as `window.playground` (see src/main.ts). */
export interface PageView {
  state: string;
  backend?: string;
  backendMessage: string;
  error?: { code: string; message: string };
  summary?: PageSummary;
  steps: number;
  points: Record<string, number[] | number>;
}

/** The page's state, as plain data. */
export function view(page: Page): Promise<PageView> {
  return page.evaluate(() => {
    const p = (window as unknown as { playground: Record<string, unknown> }).playground as {
      chartPoints(): Record<string, number[] | number>;
    } & Omit<PageView, 'points'>;
    return {
      state: p.state,
      backend: p.backend,
      backendMessage: p.backendMessage,
      error: p.error,
      summary: p.summary,
      steps: p.steps,
      points: p.chartPoints(),
    } as PageView;
  });
}

/** Waits until the page's state is one of `states` (polling). */
export async function waitForState(page: Page, states: string[], timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    (want) =>
      want.includes((window as unknown as { playground: { state: string } }).playground.state),
    states,
    { timeout: timeoutMs, polling: 200 },
  );
}

/** Opens the page with a query string; collects console errors into `logs`. */
export async function openPage(
  context: Awaited<ReturnType<typeof launchChromium>>['context'],
  url: string,
  logs: string[],
): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  return page;
}

export { launchChromium };
