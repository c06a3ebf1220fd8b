/**
 * enableBrowserWasmThreads outside an isolated page changes nothing and says why (the threaded
 * path itself runs in headless Chromium: apps/playground's test checks "2 threads" there).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './index.js';
import { enableBrowserWasmThreads } from './browser-threads.js';

describe('enableBrowserWasmThreads', () => {
  it('is a no-op that says why where the context is not cross-origin isolated', () => {
    const before = tf.findBackendFactory('wasm');
    const r = enableBrowserWasmThreads({ factoryUrl: '/f.js', threads: 2 });
    expect(r).toEqual({
      threaded: false,
      threads: 1,
      reason: expect.stringMatching(
        /not cross-origin isolated.*COOP: same-origin and COEP: require-corp/,
      ),
    });
    expect(tf.findBackendFactory('wasm')).toBe(before); // the backend factory is untouched
  });

  it('wraps the wasm factory where isolated, once, and keeps the original reachable', () => {
    const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
    g.crossOriginIsolated = true;
    g.Worker = class {}; // Node has none; a browser's is there
    try {
      const original = tf.findBackendFactory('wasm');
      const r = enableBrowserWasmThreads({ factoryUrl: '/f.js', threads: 3 });
      expect(r).toEqual({ threaded: true, threads: 3, reason: '' });
      const wrapped = tf.findBackendFactory('wasm');
      expect(wrapped).not.toBe(original);
      enableBrowserWasmThreads({ factoryUrl: '/f.js', threads: 2 }); // wraps the original again
      const again = tf.findBackendFactory('wasm') as unknown as Record<symbol, unknown>;
      expect(again[Symbol.for('csq.browserWasmThreadsFactory')]).toBe(original);
      // put tfjs's factory back for the other tests of this file's worker
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', original!, 2);
    } finally {
      delete g.crossOriginIsolated;
      delete g.Worker;
    }
  });
});
