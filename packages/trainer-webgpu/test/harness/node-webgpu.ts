/**
 * Node side of the harness: one WebGPU session per test file through Dawn, or the reason there
 * is none (no `webgpu` package, no Vulkan loader, no adapter).
 */
import { CsqError } from '@csq/core';
import { initWebGpu, type NodeWebGpuOptions, type WebGpuSession } from '../../src/node.js';

export type NodeWebGpuProbe =
  | { session: WebGpuSession; reason?: undefined }
  | { session?: undefined; reason: string };

/**
 * Sets up the WebGPU backend in this process (and makes it the active backend) or says
 * why it cannot. Tests run on the worker environment the package's vitest config gives them
 * (VK_ICD_FILENAMES and LD_LIBRARY_PATH for SwiftShader).
 */
export async function probeNodeWebGpu(opts: NodeWebGpuOptions = {}): Promise<NodeWebGpuProbe> {
  try {
    const session = await initWebGpu({ cpuForward: false, ...opts });
    return { session };
  } catch (e) {
    if (e instanceof CsqError) return { reason: `${e.code}: ${e.message}` };
    return { reason: `WebGPU setup failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}
