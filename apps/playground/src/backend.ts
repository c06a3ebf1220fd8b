/**
 * Picks the page's backend: WebGPU when the browser has a (hardware) adapter, else tfjs' wasm
 * backend with csq's training kernels, else the pure-JS cpu backend; says why.
 */
// csq's wasm training kernels (Conv2DBackpropFilter and faster ones), registered on import
import { enableBrowserWasmThreads, simdReady } from '@csq/backend-wasm-kernels';
import { CsqError } from '@csq/core';
import { hasWebGpu, initWebGpu } from '@csq/trainer-webgpu';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { WasmUrls } from './messages.js';
import type { PageBackend } from './settings.js';

/** The backend the page trains on and the reasons for it. */
export interface PageBackendChoice {
  name: 'webgpu' | 'wasm' | 'cpu';
  tried: { name: string; ok: boolean; reason: string }[];
  /** One line for the page: what was taken, and why each faster one was not. */
  message: string;
}

/** Kernels tfjs-backend-wasm 4.22 lacks and conv-net training needs (csq registers them). */
export const REQUIRED_WASM_KERNELS = ['Conv2DBackpropFilter'];

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function tryWebGpu(explicit: boolean): Promise<string> {
  if (!hasWebGpu()) {
    throw new Error('this browser has no WebGPU (navigator.gpu is undefined)');
  }
  const session = await initWebGpu({});
  if (session.adapter.software && !explicit) {
    const summary = session.summary;
    session.dispose();
    throw new Error(
      `the only WebGPU adapter is a software one (${summary}), slower than wasm; ` +
        'add backend=webgpu to the address to use it anyway',
    );
  }
  return session.summary;
}

async function tryWasm(urls: WasmUrls): Promise<string> {
  const missing = REQUIRED_WASM_KERNELS.filter((k) => !tf.getKernel(k, 'wasm'));
  if (missing.length) {
    throw new Error(
      `tfjs-backend-wasm lacks ${missing.join(', ')}, which conv-net training needs, and csq's ` +
        'wasm training kernels are not registered in this build',
    );
  }
  const { threadedFactory, ...binaries } = urls;
  setWasmPaths(binaries as unknown as Record<string, string>);
  // every core where the page is cross-origin isolated (the playground's server sends COOP/COEP)
  const threads = enableBrowserWasmThreads({ factoryUrl: threadedFactory });
  await simdReady(); // csq's SIMD module, compiled before the first step needs it
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs could not start the wasm backend');
  await tf.ready();
  const threaded = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const n = threaded ? getThreadsCount() : 1;
  const how = n > 1 ? `${n} threads` : `1 thread${threads.reason ? ` (${threads.reason})` : ''}`;
  return `tfjs wasm backend with csq training kernels, ${how}`;
}

/** Sets up the first backend of `want` that works (auto: webgpu, wasm, cpu). */
export async function pickBackend(want: PageBackend, urls: WasmUrls): Promise<PageBackendChoice> {
  const order: ('webgpu' | 'wasm' | 'cpu')[] = want === 'auto' ? ['webgpu', 'wasm', 'cpu'] : [want];
  const tried: PageBackendChoice['tried'] = [];
  for (const name of order) {
    try {
      const detail =
        name === 'webgpu'
          ? await tryWebGpu(want === 'webgpu')
          : name === 'wasm'
            ? await tryWasm(urls)
            : ((await tf.setBackend('cpu')) && 'tfjs cpu backend (pure JavaScript)') || '';
      if (!detail) throw new Error('tfjs could not start the cpu backend');
      tried.push({ name, ok: true, reason: detail });
      const skipped = tried.filter((t) => !t.ok).map((t) => `${t.name}: ${t.reason}`);
      const message =
        `training on ${name} (${detail})` +
        (skipped.length ? `; not faster ones because ${skipped.join('; ')}` : '');
      return { name, tried, message };
    } catch (e) {
      tried.push({ name, ok: false, reason: why(e) });
    }
  }
  throw new CsqError(
    'CSQ_PLAYGROUND_NO_BACKEND',
    `no backend could train here: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}. ` +
      (want === 'auto' ? '' : 'Remove backend= from the address to let the page choose.'),
  );
}
