/** How many threads csq asks tfjs-backend-wasm for in Node (option, env, core count). */
import os from 'node:os';
import { CsqError } from '@csq/core';

/** The threaded build starts 8 pthread workers up front; more would be started mid-call. */
export const MAX_WASM_THREADS = 8;

/** Options of enableWasmThreads / resolveWasmThreads. */
export interface WasmThreadsOptions {
  /** Threads for the wasm backend (1 = the single-thread build); overrides `CSQ_WASM_THREADS`. */
  threads?: number;
  /** Environment to read `CSQ_WASM_THREADS` from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** How long the threaded build may take to start before csq falls back (default 120 s). */
  timeoutMs?: number;
  /** Told why when a threaded build was asked for but wasm runs single-threaded (default: console.warn). */
  onFallback?: (reason: string) => void;
}

function check(n: number, from: string): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new CsqError(
      'CSQ_BAD_WASM_THREADS',
      `${from} must be a whole number of threads >= 1 (1 = single-thread wasm build), got ${JSON.stringify(n)}; ` +
        `e.g. CSQ_WASM_THREADS=2, or leave it unset to use os.availableParallelism() (${os.availableParallelism()} here).`,
    );
  }
  return Math.min(n, MAX_WASM_THREADS);
}

/**
 * The wasm thread count: `options.threads`, else `CSQ_WASM_THREADS`, else
 * `os.availableParallelism()`, capped at {@link MAX_WASM_THREADS}. Throws CsqError
 * CSQ_BAD_WASM_THREADS for anything but a whole number >= 1.
 */
export function resolveWasmThreads(options: WasmThreadsOptions = {}): {
  threads: number;
  source: 'option' | 'env' | 'default';
} {
  if (options.threads !== undefined)
    return { threads: check(options.threads, 'threads'), source: 'option' };
  const raw = (options.env ?? process.env).CSQ_WASM_THREADS;
  if (raw !== undefined && raw.trim() !== '') {
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isNaN(n)) {
      throw new CsqError(
        'CSQ_BAD_WASM_THREADS',
        `CSQ_WASM_THREADS must be a whole number of threads >= 1 (1 = single-thread wasm build), got "${raw.slice(0, 40)}"; ` +
          'e.g. CSQ_WASM_THREADS=2, or unset it to use every core.',
      );
    }
    return { threads: check(n, 'CSQ_WASM_THREADS'), source: 'env' };
  }
  return {
    threads: check(Math.max(1, os.availableParallelism()), 'os.availableParallelism()'),
    source: 'default',
  };
}
