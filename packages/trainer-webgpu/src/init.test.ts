import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import type { GpuAdapterLike, GpuDeviceLike, GpuLike } from './gpu-types.js';
import { initWebGpu } from './index.js';
import {
  adapterSummary,
  describeAdapter,
  initWebGpuWith,
  type RuntimeHints,
  syncReadProblem,
} from './init.js';

function fakeAdapter(over: Partial<GpuAdapterLike> = {}, device?: GpuDeviceLike): GpuAdapterLike {
  return {
    features: new Set(['timestamp-query', 'shader-f16']),
    limits: {
      maxBufferSize: 1 << 28,
      maxStorageBufferBindingSize: 1 << 27,
      maxComputeWorkgroupStorageSize: 16384,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupsPerDimension: 65535,
      maxComputeWorkgroupSizeX: 256,
    },
    info: { vendor: 'acme', architecture: 'rdna9', device: '', description: 'Acme GPU' },
    requestDevice: vi.fn(async () => device ?? { destroy: vi.fn() }),
    ...over,
  };
}

function hints(release = vi.fn()): RuntimeHints & { release: ReturnType<typeof vi.fn> } {
  return {
    runtime: 'node',
    noGpu: 'NO-GPU-HINT',
    noAdapter: () => 'NO-ADAPTER-HINT',
    release,
  };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(CsqError);
    return { code: (e as CsqError).code, message: (e as CsqError).message };
  }
  throw new Error('expected a CsqError');
}

describe('initWebGpuWith failures', () => {
  it('no GPU object: CSQ_NO_WEBGPU with the runtime hint', async () => {
    const h = hints();
    const e = await codeOf(initWebGpuWith(undefined, {}, h));
    expect(e).toEqual({ code: 'CSQ_NO_WEBGPU', message: 'NO-GPU-HINT' });
    expect(h.release).toHaveBeenCalledTimes(1);
  });

  it('no adapter: CSQ_NO_GPU_ADAPTER with what to try, options passed through', async () => {
    const requestAdapter = vi.fn(async () => null);
    const h = hints();
    const e = await codeOf(
      initWebGpuWith(
        { requestAdapter },
        { powerPreference: 'low-power', forceFallbackAdapter: true },
        h,
      ),
    );
    expect(e.code).toBe('CSQ_NO_GPU_ADAPTER');
    expect(e.message).toContain('NO-ADAPTER-HINT');
    expect(requestAdapter).toHaveBeenCalledWith({
      powerPreference: 'low-power',
      forceFallbackAdapter: true,
    });
    expect(h.release).toHaveBeenCalledTimes(1);
  });

  it('requestAdapter throwing is CSQ_NO_GPU_ADAPTER too, with its message', async () => {
    const gpu: GpuLike = {
      requestAdapter: async () => Promise.reject(new Error('driver crashed')),
    };
    const e = await codeOf(initWebGpuWith(gpu, {}, hints()));
    expect(e.code).toBe('CSQ_NO_GPU_ADAPTER');
    expect(e.message).toContain('driver crashed');
  });

  it('a device request that fails: CSQ_WEBGPU_DEVICE_FAILED', async () => {
    const adapter = fakeAdapter({ requestDevice: async () => Promise.reject(new Error('oom')) });
    const h = hints();
    const e = await codeOf(initWebGpuWith({ requestAdapter: async () => adapter }, {}, h));
    expect(e.code).toBe('CSQ_WEBGPU_DEVICE_FAILED');
    expect(e.message).toMatch(/oom.*another backend/);
    expect(h.release).toHaveBeenCalledTimes(1);
  });

  it('a backend tfjs cannot start: CSQ_WEBGPU_BACKEND_FAILED, device destroyed', async () => {
    // Node has no navigator.gpu here, so tfjs' WebGPUBackend constructor refuses the device.
    const device = { destroy: vi.fn() };
    const adapter = fakeAdapter({}, device);
    const h = hints();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const e = await codeOf(initWebGpuWith({ requestAdapter: async () => adapter }, {}, h));
    warn.mockRestore();
    expect(e.code).toBe('CSQ_WEBGPU_BACKEND_FAILED');
    expect(e.message).toContain('acme rdna9 Acme GPU');
    expect(device.destroy).toHaveBeenCalledTimes(1);
    expect(h.release).toHaveBeenCalledTimes(1);
    expect(tf.findBackendFactory('webgpu')).toBeNull();
  });
});

describe('initWebGpuWith without setting the backend', () => {
  it('requests the adapter limits and the available optional features, then disposes', async () => {
    const device = { destroy: vi.fn() };
    const adapter = fakeAdapter({}, device);
    const h = hints();
    const session = await initWebGpuWith(
      { requestAdapter: async () => adapter },
      { setBackend: false },
      h,
    );
    expect(adapter.requestDevice).toHaveBeenCalledWith({
      requiredFeatures: ['timestamp-query'],
      requiredLimits: {
        maxComputeWorkgroupStorageSize: 16384,
        maxComputeWorkgroupsPerDimension: 65535,
        maxStorageBufferBindingSize: 1 << 27,
        maxBufferSize: 1 << 28,
        maxComputeWorkgroupSizeX: 256,
        maxComputeInvocationsPerWorkgroup: 256,
      },
    });
    expect(session.summary).toBe('webgpu (node): acme rdna9 Acme GPU');
    expect(tf.findBackendFactory('webgpu')).not.toBeNull();
    session.dispose();
    expect(device.destroy).toHaveBeenCalledTimes(1);
    expect(h.release).toHaveBeenCalledTimes(1);
    expect(tf.findBackendFactory('webgpu')).toBeNull();
    session.dispose(); // a second dispose is a no-op
    expect(device.destroy).toHaveBeenCalledTimes(1);
  });

  it('a second init replaces the first and frees its device', async () => {
    const d1 = { destroy: vi.fn() };
    const d2 = { destroy: vi.fn() };
    const s1 = await initWebGpuWith(
      { requestAdapter: async () => fakeAdapter({}, d1) },
      { setBackend: false },
      hints(),
    );
    const s2 = await initWebGpuWith(
      { requestAdapter: async () => fakeAdapter({}, d2) },
      { setBackend: false },
      hints(),
    );
    expect(d1.destroy).toHaveBeenCalledTimes(1);
    s1.dispose(); // stale session: must not touch the new one
    expect(d2.destroy).not.toHaveBeenCalled();
    s2.dispose();
    expect(d2.destroy).toHaveBeenCalledTimes(1);
  });
});

describe('describeAdapter and adapterSummary', () => {
  it('reads info, limits and sorted features; flags software adapters', async () => {
    const r = await describeAdapter(
      fakeAdapter({
        info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader 5' },
      }),
    );
    expect(r).toEqual({
      vendor: 'google',
      architecture: 'swiftshader',
      device: '',
      description: 'SwiftShader 5',
      isFallbackAdapter: false,
      software: true,
      features: ['shader-f16', 'timestamp-query'],
      limits: {
        maxBufferSize: 1 << 28,
        maxStorageBufferBindingSize: 1 << 27,
        maxComputeWorkgroupStorageSize: 16384,
        maxComputeInvocationsPerWorkgroup: 256,
      },
    });
    expect(adapterSummary(r, 'browser')).toBe(
      'webgpu (browser): google swiftshader SwiftShader 5, software adapter',
    );
  });

  it('a hardware adapter is not software; the fallback flag and requestAdapterInfo are read', async () => {
    const hw = await describeAdapter(fakeAdapter());
    expect([hw.software, hw.isFallbackAdapter]).toEqual([false, false]);
    const old = await describeAdapter(
      fakeAdapter({
        info: undefined,
        isFallbackAdapter: true,
        requestAdapterInfo: async () => ({ vendor: 'v', architecture: 'a' }),
      }),
    );
    expect([old.vendor, old.architecture, old.isFallbackAdapter, old.software]).toEqual([
      'v',
      'a',
      true,
      true,
    ]);
    expect(adapterSummary(old, 'node')).toBe('webgpu (node): v a, software fallback adapter');
    const blank = await describeAdapter(fakeAdapter({ info: {} }));
    expect(adapterSummary(blank, 'node')).toBe('webgpu (node): unnamed adapter');
  });
});

describe('the universal initWebGpu', () => {
  it('in Node (no navigator.gpu) points to the /node entry', async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    const e = await codeOf(initWebGpu());
    expect(e.code).toBe('CSQ_NO_WEBGPU');
    expect(e.message).toContain('@csq/trainer-webgpu/node');
  });
});

describe('syncReadProblem (when dataSync of GPU data throws CSQ_WEBGPU_SYNC_READ)', () => {
  it('without OffscreenCanvas (Node): always, with the runtime message or a default', () => {
    expect(typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas).toBe('undefined');
    const hw = { isFallbackAdapter: false };
    expect(syncReadProblem(hw, { runtime: 'node', syncRead: 'NODE-HINT' })).toBe('NODE-HINT');
    expect(syncReadProblem(hw, { runtime: 'browser' })).toMatch(/await tensor\.data\(\)/);
  });

  it("with OffscreenCanvas: only on a browser's software fallback adapter", () => {
    vi.stubGlobal('OffscreenCanvas', class {});
    try {
      expect(syncReadProblem({ isFallbackAdapter: true }, { runtime: 'browser' })).toMatch(
        /fallback adapter.*SwiftShader returns zeros.*await tensor\.data\(\)/,
      );
      expect(syncReadProblem({ isFallbackAdapter: false }, { runtime: 'browser' })).toBeUndefined();
      expect(syncReadProblem({ isFallbackAdapter: true }, { runtime: 'node' })).toBeUndefined();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
