/**
 * Bundles a page module for the browser with esbuild, resolving workspace packages from source
 * (the `@csq/source` condition) exactly as vitest does.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface Bundle {
  /** The bundled JavaScript (one ES module). */
  js: string;
  /** Every file that went into it (paths relative to the package folder). */
  inputs: string[];
}

async function bundle(
  stdin: string,
  platform: 'browser' | 'node',
  alias?: Record<string, string>,
): Promise<Bundle> {
  const result = await build({
    stdin: { contents: stdin, resolveDir: PACKAGE_DIR, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    target: 'es2022',
    conditions: ['@csq/source'],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: PACKAGE_DIR,
    ...(alias ? { alias } : {}),
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output');
  return { js: out.text, inputs: Object.keys((result.metafile as Metafile).inputs) };
}

/**
 * Bundles `modulePath` (absolute, or relative to the package folder) plus a few lines that
 * call its default export, an `async () => result`, and store the outcome in
 * `globalThis.__csqResult` as `{ ok: true, value }` or `{ ok: false, error }`.
 */
export function bundlePage(modulePath: string): Promise<Bundle> {
  const file = resolve(PACKAGE_DIR, modulePath);
  const entry = [
    `import run from ${JSON.stringify(file)};`,
    'globalThis.__csqResult = Promise.resolve()',
    '  .then(() => run())',
    '  .then((value) => ({ ok: true, value }),',
    '        (e) => ({ ok: false, error: String((e && e.stack) || e) }));',
  ].join('\n');
  return bundle(entry, 'browser');
}

/** Bundles `modulePath` alone for `platform`, to inspect what it pulls in. */
export function bundleModule(modulePath: string, platform: 'browser' | 'node'): Promise<Bundle> {
  const file = resolve(PACKAGE_DIR, modulePath);
  return bundle(`export * from ${JSON.stringify(file)};`, platform);
}

/**
 * Bundles a snippet of user code (an ES module, e.g. a README example) for `platform`, with
 * this package's own name resolving to its sources: fails on an import that does not exist.
 */
export function bundleSnippet(code: string, platform: 'browser' | 'node'): Promise<Bundle> {
  return bundle(code, platform, {
    '@csq/trainer-webgpu': './src/index.ts',
    '@csq/trainer-webgpu/node': './src/node.ts',
  });
}
