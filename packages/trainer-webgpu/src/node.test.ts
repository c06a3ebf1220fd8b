import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectLoopAgrees,
  expectLoopSane,
  expectOpsAgree,
  expectRealTraining,
  expectTrainingAgrees,
  logitMargin,
  maskMargin,
} from '../test/harness/compare.js';
import { probeNodeWebGpu } from '../test/harness/node-webgpu.js';
import { skipReason, skipTestBecause } from '../test/harness/skip.js';
import { type BackendPair, onCpuAndWebGpu } from '../test/scenarios/backends.js';
import { type CoreScenario, coreScenario } from '../test/scenarios/core-scenario.js';
import { loopOnCpuAndWebGpu } from '../test/scenarios/trainer-loop.js';
import { trainOnWebGpu, WEBGPU_BACKEND } from './node.js';

// Dawn (the webgpu package) + a Vulkan driver: SwiftShader's here, via the vitest config's env.
const probe = await probeNodeWebGpu();
const skip = skipReason('WebGPU in Node (webgpu package)', probe.reason);

describe.skipIf(skip !== undefined)('WebGPU in Node through Dawn', () => {
  const session = probe.session!;
  let both: BackendPair<CoreScenario>;

  beforeAll(async () => {
    console.log(`[@csq/trainer-webgpu] ${session.summary}`);
    both = await onCpuAndWebGpu(coreScenario, async () => {
      await useBackend(WEBGPU_BACKEND);
      expect(tf.env().getBool('WEBGPU_CPU_FORWARD'), 'every op on the GPU').toBe(false);
    });
  });
  afterAll(() => session.dispose());

  it('reports the adapter it runs on', () => {
    expect(session.runtime).toBe('node');
    expect(session.backend).toBe(WEBGPU_BACKEND);
    const a = session.adapter;
    expect(`${a.vendor}${a.architecture}${a.device}${a.description}`.length).toBeGreaterThan(0);
    expect(a.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(a.features.length).toBeGreaterThan(0);
    expect(session.summary).toMatch(/^webgpu \(node\): /);
  });

  it('@csq/core forward values and gradients agree with the cpu backend', () => {
    expectOpsAgree(both.webgpu.ops, both.cpu.ops, 'webgpu vs cpu');
  });

  it('a tiny CSQ training run matches the cpu backend step by step', () => {
    expect([both.cpu.train.backend, both.webgpu.train.backend]).toEqual(['cpu', 'webgpu']);
    expectRealTraining(both.webgpu.train);
    expectRealTraining(both.cpu.train);
    expectTrainingAgrees(both.webgpu.train, both.cpu.train, 'webgpu vs cpu');
  });

  it('a synchronous read of GPU data is CSQ_WEBGPU_SYNC_READ saying what to do; the device lives on', async () => {
    await useBackend(WEBGPU_BACKEND);
    expect(session.syncReadProblem).toMatch(/await tensor\.data\(\)/);
    const onGpu = tf.tidy(() => tf.mul(tf.add(tf.ones([4]), 1), 3));
    const onCpu = tf.tensor1d([1, 2, 3]);
    try {
      expect(() => onGpu.dataSync()).toThrow(
        expect.objectContaining({ code: 'CSQ_WEBGPU_SYNC_READ', message: session.syncReadProblem }),
      );
      expect(Array.from(onCpu.dataSync())).toEqual([1, 2, 3]); // still on the CPU: no GPU read
      expect(Array.from(await onGpu.data())).toEqual([6, 6, 6, 6]);
    } finally {
      tf.dispose([onGpu, onCpu]);
    }
  });

  it("@csq/trainer's train() through trainOnWebGpu matches the cpu backend, without leaks", async (ctx) => {
    const pair = await loopOnCpuAndWebGpu(() => useBackend(WEBGPU_BACKEND), trainOnWebGpu);
    expectLoopSane(pair.cpu, 'cpu');
    if (pair.blocked) {
      // the loop itself read GPU data synchronously: say where, and that it is not this package
      expect(pair.blocked.message).toContain(session.syncReadProblem!);
      skipTestBecause(
        ctx.skip,
        "@csq/trainer's loop on WebGPU in Node",
        `train() read GPU data synchronously (dataSync ${pair.blocked.where ?? ''}), which ` +
          'Dawn in Node cannot do; it runs once @csq/trainer and @csq/budget read asynchronously',
      );
    }
    const { cpu, webgpu } = pair;
    expect(webgpu.backend).toBe(WEBGPU_BACKEND);
    expectLoopSane(webgpu, 'webgpu');
    const worst = expectLoopAgrees(webgpu, cpu, 'webgpu vs cpu');
    console.log(
      `[@csq/trainer-webgpu] train() webgpu vs cpu (Node): worst |diff| ${worst.abs.toExponential(2)}, ` +
        `worst relative ${worst.rel.toExponential(2)}, ${(100 * worst.ofTolerance).toFixed(1)}% of ` +
        `WEBGPU_TOL at ${worst.where}; mask margin ` +
        `${maskMargin(cpu).toExponential(2)}, exact-logit margin ${logitMargin(cpu).toExponential(2)}; ` +
        `train() ms webgpu ${webgpu.trainMs.toFixed(0)}, cpu ${cpu.trainMs.toFixed(0)}`,
    );
  }, 120_000);
});
