/**
 * Headless Chromium for WebGPU tests: find the system browser, launch it with a fresh profile and
 * the flags that give it a WebGPU adapter (SwiftShader on machines without a GPU), run bundled
 * page modules in it and collect their results.
 *
 * Flags, measured with Debian's chromium 156 on a machine without a GPU: `--enable-unsafe-webgpu`
 * alone gives the SwiftShader fallback adapter (vendor "google", architecture "swiftshader");
 * without it `requestAdapter()` returns null. `--enable-features=Vulkan`, `--use-angle=swiftshader`
 * and `--use-vulkan=swiftshader` change nothing there, so they are not passed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { bundlePage } from './bundle.js';
import { serveFiles } from './serve.js';

/** Where a Chromium/Chrome executable is looked for ($CSQ_CHROMIUM first). */
export const CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
];

/** Chromium switches the tests launch with (headless is set by playwright). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium executable to use, or undefined. */
export function findChromium(): string | undefined {
  const env = process.env.CSQ_CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  return CHROMIUM_PATHS.find((p) => existsSync(p));
}

/** What a page reports about `navigator.gpu`. */
export interface PageAdapter {
  gpu: boolean;
  adapter: { vendor: string; architecture: string; device: string; description: string } | null;
  userAgent: string;
}

/** The outcome of one page module run. */
export interface PageRun<T> {
  value: T;
  /** The page's console output and uncaught errors, in order. */
  logs: string[];
  /** Size of the page bundle. */
  bundleBytes: number;
}

/** A launched browser with a fresh profile; `close()` removes the profile. */
export interface ChromiumSession {
  executable: string;
  version: string;
  /** Opens an empty localhost page and asks `navigator.gpu` for an adapter. */
  probeAdapter(): Promise<PageAdapter>;
  /**
   * Bundles `modulePath` (whose default export is `async () => result`), serves it from
   * 127.0.0.1, runs it in a new page and returns its JSON result; throws with the page's error
   * and console output if it failed or took longer than `timeoutMs`.
   */
  run<T>(modulePath: string, opts?: { timeoutMs?: number }): Promise<PageRun<T>>;
  close(): Promise<void>;
}

const INDEX =
  '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>csq</title><script type="module" src="/page.js"></script>';
const EMPTY =
  '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>csq probe</title>';

/**
 * Launches headless Chromium (playwright-core, system executable, fresh --user-data-dir) with
 * `args` (default CHROMIUM_ARGS).
 */
export async function launchChromium(
  executable = findChromium(),
  args: readonly string[] = CHROMIUM_ARGS,
): Promise<ChromiumSession> {
  if (!executable)
    throw new Error(`no Chromium found (looked at $CSQ_CHROMIUM, ${CHROMIUM_PATHS.join(', ')})`);
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'csq-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: executable,
      headless: true,
      args: [...args],
      timeout: 60_000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const version = context.browser()?.version() ?? 'unknown';

  async function withPage<R>(
    files: Parameters<typeof serveFiles>[0],
    fn: (
      page: Awaited<ReturnType<BrowserContext['newPage']>>,
      url: string,
      logs: string[],
    ) => Promise<R>,
  ): Promise<R> {
    const server = await serveFiles(files);
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.stack ?? e.message}`));
    try {
      return await fn(page, server.url, logs);
    } finally {
      await page.close().catch(() => undefined);
      await server.close();
    }
  }

  return {
    executable,
    version,
    probeAdapter: () =>
      withPage({ '/index.html': { body: EMPTY, type: 'text/html' } }, async (page, url) => {
        await page.goto(url);
        return page.evaluate(async (): Promise<PageAdapter> => {
          const gpu = (
            navigator as unknown as {
              gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> };
            }
          ).gpu;
          if (!gpu) return { gpu: false, adapter: null, userAgent: navigator.userAgent };
          const a = await gpu.requestAdapter();
          const i: Partial<Record<string, string>> = a?.info ?? {};
          return {
            gpu: true,
            adapter: a
              ? {
                  vendor: i.vendor ?? '',
                  architecture: i.architecture ?? '',
                  device: i.device ?? '',
                  description: i.description ?? '',
                }
              : null,
            userAgent: navigator.userAgent,
          };
        });
      }),
    run: async <T>(modulePath: string, opts: { timeoutMs?: number } = {}) => {
      const bundle = await bundlePage(modulePath);
      return withPage(
        {
          '/index.html': { body: INDEX, type: 'text/html' },
          '/page.js': { body: bundle.js, type: 'text/javascript' },
        },
        async (page, url, logs) => {
          await page.goto(url);
          const timeoutMs = opts.timeoutMs ?? 120_000;
          await page.waitForFunction(() => '__csqResult' in globalThis, undefined, {
            timeout: timeoutMs,
          });
          const outcome = (await page.evaluate(
            () => (globalThis as { __csqResult?: unknown }).__csqResult,
          )) as { ok: true; value: T } | { ok: false; error: string };
          if (!outcome.ok) {
            throw new Error(`page ${modulePath} failed: ${outcome.error}\n${logs.join('\n')}`);
          }
          return { value: outcome.value, logs, bundleBytes: bundle.js.length };
        },
      );
    },
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Launches Chromium and checks that a page gets a WebGPU adapter. Returns the session, or the
 * reason the browser tests cannot run here (no executable, no playwright-core, no adapter).
 */
export async function probeChromiumWebGpu(): Promise<
  { session: ChromiumSession; adapter: PageAdapter; reason?: undefined } | { reason: string }
> {
  const executable = findChromium();
  if (!executable && process.env.CSQ_CHROMIUM) {
    return { reason: `CSQ_CHROMIUM=${process.env.CSQ_CHROMIUM} does not exist` };
  }
  if (!executable) {
    return {
      reason:
        `no Chromium executable (looked at $CSQ_CHROMIUM, ${CHROMIUM_PATHS.join(', ')}); ` +
        'on Debian: apt-get install chromium',
    };
  }
  let session: ChromiumSession;
  try {
    session = await launchChromium(executable);
  } catch (e) {
    return {
      reason: `could not launch ${executable}: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  try {
    const adapter = await session.probeAdapter();
    if (!adapter.gpu || !adapter.adapter) {
      await session.close();
      return {
        reason: `${executable} (${session.version}) ${adapter.gpu ? 'offers no WebGPU adapter' : 'has no navigator.gpu'} with ${CHROMIUM_ARGS.join(' ')}`,
      };
    }
    return { session, adapter };
  } catch (e) {
    await session.close();
    return {
      reason: `probing WebGPU in ${executable} failed: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
