/**
 * selectBackend's `threads` reaches the wasm backend (csq train --threads and the baseline
 * thread's share go through it). One file per wasm start: a backend's thread count is fixed
 * once it runs.
 */
import { describe, expect, it } from 'vitest';
import { describeBackend, selectBackend } from './backend.js';

describe('selectBackend({ threads })', () => {
  it('threads: 1 runs the single-thread wasm build even with CSQ_WASM_THREADS=2 set', async () => {
    const before = process.env.CSQ_WASM_THREADS;
    process.env.CSQ_WASM_THREADS = '2';
    try {
      const selection = await selectBackend({ backend: 'wasm', threads: 1 });
      expect(selection.name).toBe('wasm');
      const described = await describeBackend();
      expect(described.wasm).toMatchObject({ threads: false, threadsCount: 1 });
    } finally {
      if (before === undefined) delete process.env.CSQ_WASM_THREADS;
      else process.env.CSQ_WASM_THREADS = before;
    }
  });

  it('a bad count is a CSQ_BAD_WASM_THREADS error', async () => {
    await expect(selectBackend({ backend: 'wasm', threads: 0 })).rejects.toMatchObject({
      code: 'CSQ_BAD_WASM_THREADS',
    });
  });
});
