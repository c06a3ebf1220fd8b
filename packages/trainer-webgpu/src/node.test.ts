import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectOpsAgree,
  expectRealTraining,
  expectTrainingAgrees,
} from '../test/harness/compare.js';
import { probeNodeWebGpu } from '../test/harness/node-webgpu.js';
import { skipReason } from '../test/harness/skip.js';
import { type BackendPair, onCpuAndWebGpu } from '../test/scenarios/backends.js';
import { type CoreScenario, coreScenario } from '../test/scenarios/core-scenario.js';
import { WEBGPU_BACKEND } from './node.js';

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
});
