/**
 * Reads the bytes of a packed model from a URL (fetch), from memory, or, in Node only, from a
 * file path. node:fs is imported dynamically and only for paths, under a specifier bundlers do
 * not follow, so browser bundles never see it.
 */
import { CsqError } from '@csq/core';
import { limitError, resolveLimits } from './limits.js';

/** Where a packed model comes from: URL (string or URL), bytes, or (Node) a file path. */
export type PackedSource = string | URL | ArrayBuffer | ArrayBufferView;

/** Options of `readPackedSource` and `loadPackedModel`. */
export interface ReadSourceOptions {
  /** fetch to use for URLs (default: the global fetch). */
  fetch?: typeof globalThis.fetch;
  /** Extra fetch options (headers, credentials...). */
  requestInit?: RequestInit;
  /** Largest file to read, in bytes (default 2^30); see `PackedLimits.maxBytes`. */
  maxBytes?: number;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;
const WINDOWS_DRIVE = /^[a-z]:[\\/]/i;

/** True in Node (not in a browser, even one whose bundle shims `process`). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return (
    typeof p?.versions?.node === 'string' &&
    typeof (globalThis as { window?: unknown }).window === 'undefined'
  );
}

// Held in variables so that bundlers (esbuild, webpack, vite) leave these imports alone.
const NODE_FS = 'node:fs/promises';
const NODE_URL = 'node:url';

const tooBig = (shown: string, size: number, maxBytes: number) =>
  limitError(
    `the packed model ${shown} is ${size} bytes, more than maxBytes = ${maxBytes}`,
    'maxBytes',
  );

async function readFile(path: string, shown: string, maxBytes: number): Promise<Uint8Array> {
  const fs = (await import(
    /* @vite-ignore */ /* webpackIgnore: true */ NODE_FS
  )) as typeof import('node:fs/promises');
  try {
    const stat = await fs.stat(path);
    if (stat.isFile() && stat.size > maxBytes) throw tooBig(shown, stat.size, maxBytes);
    const buf = await fs.readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof CsqError) throw e;
    const code = (e as { code?: string }).code;
    throw new CsqError(
      'CSQ_PACKED_SOURCE',
      code === 'ENOENT'
        ? `no packed model at ${shown}: the file does not exist. Check the path (relative paths ` +
            `are resolved from ${(globalThis as { process?: { cwd(): string } }).process?.cwd()}).`
        : `could not read the packed model ${shown}: ${(e as Error).message}.`,
    );
  }
}

/** The body of `res`, refusing (without reading further) past `maxBytes`. */
async function readBody(res: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers?.get?.('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooBig(url, declared, maxBytes);
  const reader = res.body?.getReader?.();
  if (!reader) {
    const all = new Uint8Array(await res.arrayBuffer());
    if (all.length > maxBytes) throw tooBig(url, all.length, maxBytes);
    return all;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooBig(url, total, maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function fetchBytes(url: string, opts: ReadSourceOptions): Promise<Uint8Array> {
  const f = opts.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') {
    throw new CsqError(
      'CSQ_PACKED_SOURCE',
      `cannot fetch ${url}: this environment has no fetch. Pass the bytes instead, or opts.fetch.`,
    );
  }
  let res: Response;
  try {
    res = await f(url, opts.requestInit);
  } catch (e) {
    throw new CsqError(
      'CSQ_PACKED_SOURCE',
      `could not fetch the packed model ${url}: ${(e as Error).message}. Check the URL, the ` +
        'server and (in a browser) CORS.',
    );
  }
  if (!res.ok) {
    throw new CsqError(
      'CSQ_PACKED_SOURCE',
      `fetching the packed model ${url} failed: HTTP ${res.status} ${res.statusText}. Check the ` +
        'URL and that the server serves the file.',
    );
  }
  return readBody(res, url, resolveLimits({ maxBytes: opts.maxBytes }).maxBytes);
}

/** The bytes of a packed model from any `PackedSource`. */
export async function readPackedSource(
  source: PackedSource,
  opts: ReadSourceOptions = {},
): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  const node = isNode();
  const { maxBytes } = resolveLimits({ maxBytes: opts.maxBytes });
  if (source instanceof URL) {
    if (node && source.protocol === 'file:') {
      const url = (await import(
        /* @vite-ignore */ /* webpackIgnore: true */ NODE_URL
      )) as typeof import('node:url');
      return readFile(url.fileURLToPath(source), source.href, maxBytes);
    }
    return fetchBytes(source.href, opts);
  }
  if (typeof source === 'string') {
    if (source === '') {
      throw new CsqError('CSQ_PACKED_SOURCE', 'the packed model source is an empty string.');
    }
    const hasScheme = SCHEME.test(source) && !WINDOWS_DRIVE.test(source);
    if (node) {
      if (!hasScheme) return readFile(source, source, maxBytes);
      if (/^file:/i.test(source)) return readPackedSource(new URL(source), opts);
    }
    return fetchBytes(source, opts);
  }
  throw new CsqError(
    'CSQ_PACKED_SOURCE',
    `cannot load a packed model from ${source === null ? 'null' : typeof source}: pass a URL, a ` +
      'file path (Node), an ArrayBuffer or a Uint8Array.',
  );
}
