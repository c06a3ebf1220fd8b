/**
 * Runs one scenario on the cpu backend, then on WebGPU, in the same JavaScript context (a test
 * worker or a browser page). Browser-safe. A scenario is any `async () => JSON-serialisable`
 * that sets up its own tensors and frees them; it must not switch backends itself.
 */
import * as tf from '@tensorflow/tfjs';

export interface BackendPair<T> {
  cpu: T;
  webgpu: T;
}

/**
 * `scenario` on cpu, then `switchToWebGpu()` (e.g. `() => initWebGpu({ cpuForward: false })`
 * or `() => tf.setBackend('webgpu')`), then `scenario` again. Throws if WebGPU did not become
 * the active backend (a silent fallback would compare cpu with cpu).
 */
export async function onCpuAndWebGpu<T>(
  scenario: () => Promise<T>,
  switchToWebGpu: () => Promise<unknown>,
): Promise<BackendPair<T>> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start');
  const cpu = await scenario();
  await switchToWebGpu();
  const active = tf.getBackend();
  if (active !== 'webgpu') throw new Error(`expected the webgpu backend, got ${active}`);
  const webgpu = await scenario();
  return { cpu, webgpu };
}
