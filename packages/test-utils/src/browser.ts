/**
 * Headless Debian chromium for the browser tests (playwright-core, never a downloaded browser):
 * where it is, how to launch it with a fresh profile and the flags a closed network needs, how
 * to serve a page and bundle its script.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type BrowserContext, chromium } from 'playwright-core';

/** The chromium binary: CSQ_CHROMIUM, or Debian's /usr/bin/chromium. */
export const CHROMIUM = process.env.CSQ_CHROMIUM ?? '/usr/bin/chromium';

/** True when chromium is installed; otherwise prints why `what` is skipped (never silently). */
export function chromiumAvailable(pkg: string, what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  console.warn(
    `[${pkg}] ${what} SKIPPED: ${CHROMIUM} not found (Debian: apt-get install chromium).`,
  );
  return false;
}

/** Flags for headless chromium on a machine without network access or GPU. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches chromium with a fresh profile; `close()` removes the profile. */
export async function launchChromium(
  opts: {
    args?: string[];
    viewport?: { width: number; height: number };
    deviceScaleFactor?: number;
  } = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'csq-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    ...(opts.viewport ? { viewport: opts.viewport } : {}),
    ...(opts.deviceScaleFactor ? { deviceScaleFactor: opts.deviceScaleFactor } : {}),
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Serves `files` (path -> [content type, body]) on 127.0.0.1; 404 for anything else. */
export async function serveFiles(
  files: Record<string, [string, string | Uint8Array]>,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404, 'Not Found');
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0] });
    res.end(typeof f[1] === 'string' ? f[1] : Buffer.from(f[1]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Bundles a page script for the browser (ESM), resolving @csq packages from source. */
export async function bundleForBrowser(entry: string): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@csq/source'],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

/** A page that runs `bundle.js` as a module. */
export const MODULE_PAGE =
  '<!doctype html><meta charset="utf-8"><script type="module" src="bundle.js"></script>';

export type { BrowserContext, Page } from 'playwright-core';
