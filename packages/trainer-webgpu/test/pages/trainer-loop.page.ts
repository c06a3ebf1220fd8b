/**
 * Browser page: @csq/trainer's loop on the tiny CSQ model, first on cpu with `train`, then on
 * WebGPU with the universal entry's `trainOnWebGpu`, on the session `initWebGpu` set up; then
 * what a synchronous read of GPU data does on this adapter.
 */
import * as tf from '@tensorflow/tfjs';
import { initWebGpu, trainOnWebGpu, type WebGpuSession } from '../../src/index.js';
import { type LoopPair, loopOnCpuAndWebGpu } from '../scenarios/trainer-loop.js';

export type LoopPageResult = LoopPair & {
  summary: string;
  /** Every trainOnWebGpu call reused the live session (none set up a second one). */
  reusedSession: boolean;
  syncReadProblem?: string;
  /** `dataSync()` of a GPU result: its values, or the error code; then `await data()`. */
  syncRead: { values?: number[]; code?: string; asyncValues: number[] };
};

export default async function run(): Promise<LoopPageResult> {
  let session: WebGpuSession | undefined;
  let reusedSession = true;
  try {
    const pair = await loopOnCpuAndWebGpu(
      async () => {
        session = await initWebGpu({ cpuForward: false });
      },
      async (opts) => {
        const result = await trainOnWebGpu(opts);
        reusedSession &&= result.webgpu === session;
        return result;
      },
    );
    const t = tf.tidy(() => tf.mul(tf.add(tf.ones([4]), 1), 3));
    const syncRead: LoopPageResult['syncRead'] = { asyncValues: [] };
    try {
      syncRead.values = Array.from(t.dataSync());
    } catch (e) {
      syncRead.code = String((e as { code?: unknown }).code);
    }
    syncRead.asyncValues = Array.from(await t.data());
    t.dispose();
    return {
      ...pair,
      summary: session!.summary,
      reusedSession,
      ...(session!.syncReadProblem ? { syncReadProblem: session!.syncReadProblem } : {}),
      syncRead,
    };
  } finally {
    session?.dispose();
  }
}
