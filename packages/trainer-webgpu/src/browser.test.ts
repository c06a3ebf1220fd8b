import { useBackend } from '@csq/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM_ARGS,
  type ChromiumSession,
  findChromium,
  launchChromium,
  probeChromiumWebGpu,
} from '../test/harness/browser.js';
import { bundleModule } from '../test/harness/bundle.js';
import {
  expectLoopAgrees,
  expectLoopSane,
  expectOpsAgree,
  expectRealTraining,
  expectTrainingAgrees,
  logitMargin,
  maskMargin,
} from '../test/harness/compare.js';
import { skipReason, skipTestBecause } from '../test/harness/skip.js';
import type { PageResult } from '../test/pages/csq-webgpu.page.js';
import type { InitOutcome } from '../test/pages/init-error.page.js';
import type { LoopPageResult } from '../test/pages/trainer-loop.page.js';
import { coreOpsResults } from '../test/scenarios/core-ops.js';
import { tinyCsqTraining } from '../test/scenarios/tiny-train.js';
import { trainerLoopScenario } from '../test/scenarios/trainer-loop.js';

describe('the universal entry in a browser bundle', () => {
  it('pulls in neither the webgpu package nor any Node module', async () => {
    const bundle = await bundleModule('src/index.ts', 'browser');
    expect(bundle.inputs.some((f) => f.includes('@tensorflow/tfjs-backend-webgpu'))).toBe(true);
    expect(bundle.inputs.filter((f) => /node_modules\/webgpu\//.test(f))).toEqual([]);
    expect(bundle.inputs.filter((f) => f.startsWith('node:') || f.includes('swiftshader'))).toEqual(
      [],
    );
    expect(bundle.js).not.toMatch(/from\s*["']node:|require\(["']node:/);
  });
});

// Headless Chromium (playwright-core, system executable) with --enable-unsafe-webgpu.
const probe = await probeChromiumWebGpu();
const skip = skipReason('WebGPU in headless Chromium', probe.reason);

describe.skipIf(skip !== undefined)('WebGPU in headless Chromium', () => {
  let browser: ChromiumSession;
  let result: PageResult;

  beforeAll(async () => {
    if (probe.reason !== undefined) return;
    browser = probe.session;
    const run = await browser.run<PageResult>('test/pages/csq-webgpu.page.ts');
    result = run.value;
    console.log(
      `[@csq/trainer-webgpu] ${result.summary} in Chromium ${browser.version}; page bundle ` +
        `${(run.bundleBytes / 1e6).toFixed(1)} MB; step ms webgpu ` +
        `${result.webgpu.train.stepMs.map((t) => t.toFixed(0)).join(' ')}, cpu ` +
        `${result.cpu.train.stepMs.map((t) => t.toFixed(0)).join(' ')}`,
    );
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('initWebGpu sets up the webgpu backend and reports the adapter', () => {
    expect(result.webgpu.train.backend).toBe('webgpu');
    expect(result.cpu.train.backend).toBe('cpu');
    expect(result.summary).toMatch(/^webgpu \(browser\): /);
    const a = result.adapter;
    expect(`${a.vendor}${a.architecture}${a.device}${a.description}`.length).toBeGreaterThan(0);
    expect(a.limits.maxBufferSize).toBeGreaterThan(0);
    expect(result.userAgent).toMatch(/Chrome\//);
  });

  it('@csq/core forward values and gradients agree with the cpu backend', () => {
    expectOpsAgree(result.webgpu.ops, result.cpu.ops, 'browser webgpu vs browser cpu');
  });

  it('a tiny CSQ training run matches the cpu backend step by step', () => {
    expectRealTraining(result.webgpu.train);
    expectRealTraining(result.cpu.train);
    expectTrainingAgrees(result.webgpu.train, result.cpu.train, 'browser webgpu vs browser cpu');
  });

  it('the page computed what Node computes (same data, same cpu results)', async () => {
    await useBackend('cpu');
    expectOpsAgree(result.cpu.ops, await coreOpsResults(), 'browser cpu vs node cpu');
    expectTrainingAgrees(
      result.webgpu.train,
      await tinyCsqTraining(),
      'browser webgpu vs node cpu',
    );
  });

  it("@csq/trainer's train() through trainOnWebGpu matches the cpu backend, without leaks", async (ctx) => {
    const { value: page } = await browser.run<LoopPageResult>('test/pages/trainer-loop.page.ts');
    expectLoopSane(page.cpu, 'browser cpu');
    // the same loop, data and seeds give the same numbers in the page and in Node (both cpu)
    await useBackend('cpu');
    const nodeCpu = await trainerLoopScenario();
    expectLoopAgrees(page.cpu, nodeCpu, 'browser cpu vs node cpu');
    // a synchronous read: the GPU values where tfjs can read synchronously, else a clear error
    // (the software fallback adapter returns zeros and loses the device without it)
    expect(page.syncRead.asyncValues).toEqual([6, 6, 6, 6]);
    if (page.syncReadProblem) expect(page.syncRead.code).toBe('CSQ_WEBGPU_SYNC_READ');
    else expect(page.syncRead.values).toEqual([6, 6, 6, 6]);
    if (page.blocked) {
      expect(page.blocked.message).toBe(page.syncReadProblem);
      skipTestBecause(
        ctx.skip,
        "@csq/trainer's loop on WebGPU in headless Chromium",
        `train() read GPU data synchronously (dataSync), which does not work on ${page.summary}; ` +
          'it runs once @csq/trainer and @csq/budget read asynchronously',
      );
    }
    const { cpu, webgpu } = page;
    expect(webgpu.backend).toBe('webgpu');
    expect(page.reusedSession, 'trainOnWebGpu reused the live session').toBe(true);
    expectLoopSane(webgpu, 'browser webgpu');
    const worst = expectLoopAgrees(webgpu, cpu, 'browser webgpu vs browser cpu');
    console.log(
      `[@csq/trainer-webgpu] train() webgpu vs cpu (Chromium): worst |diff| ${worst.abs.toExponential(2)}, ` +
        `worst relative ${worst.rel.toExponential(2)}, ${(100 * worst.ofTolerance).toFixed(1)}% of ` +
        `WEBGPU_TOL at ${worst.where}; mask margin ${maskMargin(cpu).toExponential(2)}, exact-logit ` +
        `margin ${logitMargin(cpu).toExponential(2)}; train() ms webgpu ${webgpu.trainMs.toFixed(0)}, ` +
        `cpu ${cpu.trainMs.toFixed(0)}`,
    );
  }, 180_000);
});

describe.skipIf(skip !== undefined)('initWebGpu errors in headless Chromium', () => {
  it('without --enable-unsafe-webgpu: CSQ_NO_GPU_ADAPTER exactly when the raw API has none', async () => {
    const args = CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu');
    const browser = await launchChromium(findChromium(), args);
    try {
      const { value } = await browser.run<InitOutcome>('test/pages/init-error.page.ts');
      if (value.rawAdapter) {
        expect(value.ok).toBe(true); // a machine whose GPU Chromium allows without the flag
      } else {
        expect(value.code).toBe('CSQ_NO_GPU_ADAPTER');
        expect(value.message).toContain('--enable-unsafe-webgpu');
      }
    } finally {
      await browser.close();
    }
  }, 120_000);
});
