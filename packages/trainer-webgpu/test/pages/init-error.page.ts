/**
 * Browser page: what initWebGpu does in this browser, next to what the raw WebGPU API says
 * (used with a Chromium launched without --enable-unsafe-webgpu, where there is no adapter).
 */
import { initWebGpu } from '../../src/index.js';

export interface InitOutcome {
  rawAdapter: boolean;
  ok: boolean;
  code?: string;
  message?: string;
}

export default async function run(): Promise<InitOutcome> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const rawAdapter = gpu ? (await gpu.requestAdapter()) !== null : false;
  try {
    const session = await initWebGpu();
    session.dispose();
    return { rawAdapter, ok: true };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    return { rawAdapter, ok: false, code: err.code, message: err.message };
  }
}
