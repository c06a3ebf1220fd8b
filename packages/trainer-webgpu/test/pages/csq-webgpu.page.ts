/**
 * Browser page (bundled by the harness, run in headless Chromium): the @csq/core checks and the
 * tiny CSQ training, first on cpu, then on WebGPU set up by the universal entry's initWebGpu.
 */
import { initWebGpu, type WebGpuAdapterReport, type WebGpuSession } from '../../src/index.js';
import { type BackendPair, onCpuAndWebGpu } from '../scenarios/backends.js';
import { type CoreScenario, coreScenario } from '../scenarios/core-scenario.js';

export interface PageResult extends BackendPair<CoreScenario> {
  userAgent: string;
  summary: string;
  adapter: WebGpuAdapterReport;
}

export default async function run(): Promise<PageResult> {
  let session: WebGpuSession | undefined;
  try {
    const pair = await onCpuAndWebGpu(coreScenario, async () => {
      session = await initWebGpu({ cpuForward: false });
    });
    return {
      ...pair,
      userAgent: navigator.userAgent,
      summary: session!.summary,
      adapter: session!.adapter,
    };
  } finally {
    session?.dispose();
  }
}
