import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuAdapterLike, GpuLike } from './gpu-types.js';
import {
  inspectNodeWebGpu,
  loadNodeWebGpuBackend,
  softwareAllowedByEnv,
  vulkanProblem,
  WebGpuUnavailableError,
} from './node.js';
import { findSwiftShader } from './swiftshader.js';
import { inspectVulkan, ldconfigPaths, type VulkanReport } from './vulkan.js';

const root = mkdtempSync(join(tmpdir(), 'csq-vk-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function icdDir(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const NVIDIA_ICD = JSON.stringify({
  file_format_version: '1.0.1',
  ICD: { library_path: 'libGLX_nvidia.so.0', api_version: '1.4.303' },
});
const SWIFTSHADER_ICD = JSON.stringify({
  file_format_version: '1.0.0',
  ICD: { library_path: './libvk_swiftshader.so', api_version: '1.0.5' },
});

describe('inspectVulkan: the loader and driver manifests, as the Vulkan loader finds them', () => {
  const lib = icdDir('lib', { 'libvulkan.so.1': '' });

  it('reads every manifest of the system folders, hardware and software told apart', () => {
    const etc = icdDir('etc', { 'nvidia_icd.json': NVIDIA_ICD, 'notes.txt': 'x' });
    const share = icdDir('share', { 'lvp_icd.x86_64.json': '{"ICD":{}}', 'bad.json': '{' });
    const r = inspectVulkan({ env: {}, icdDirs: [etc, share], libDirs: [lib], ldconfig: '' });
    expect(r.loader).toBe(join(lib, 'libvulkan.so.1'));
    expect(r.icdDirs).toEqual([etc, share]);
    expect(r.icds).toEqual([
      {
        path: join(etc, 'nvidia_icd.json'),
        source: 'system',
        library: 'libGLX_nvidia.so.0',
        apiVersion: '1.4.303',
        software: false,
      },
      expect.objectContaining({ path: join(share, 'bad.json'), problem: 'not valid JSON' }),
      expect.objectContaining({ software: true, problem: 'no ICD.library_path in it' }),
    ]);
  });

  it('VK_ICD_FILENAMES replaces the folders; the loader comes from LD_LIBRARY_PATH or ld.so.cache', () => {
    const ss = icdDir('ss', { 'vk_swiftshader_icd.json': SWIFTSHADER_ICD });
    const icd = join(ss, 'vk_swiftshader_icd.json');
    const viaEnv = inspectVulkan({
      env: { VK_ICD_FILENAMES: `${icd}:/nowhere/x.json`, LD_LIBRARY_PATH: lib },
      libDirs: [],
      ldconfig: '',
    });
    expect(viaEnv.icdDirs).toEqual([]);
    expect(viaEnv.icds.map((i) => [i.source, i.software, i.problem])).toEqual([
      ['env', true, undefined],
      ['env', false, 'no such file'],
    ]);
    expect(viaEnv.loader).toBe(join(lib, 'libvulkan.so.1'));
    const cache = `\tlibvulkan.so.1 (libc6,x86-64) => ${lib}/libvulkan.so.1\n`;
    expect(ldconfigPaths(cache, 'libvulkan.so.1')).toEqual([`${lib}/libvulkan.so.1`]);
    expect(inspectVulkan({ env: {}, icdDirs: [], libDirs: [], ldconfig: cache }).loader).toBe(
      join(lib, 'libvulkan.so.1'),
    );
    expect(inspectVulkan({ env: {}, icdDirs: [], libDirs: [], ldconfig: '' }).loader).toBe(
      undefined,
    );
  });
});

describe('vulkanProblem: what stops WebGPU before Dawn is even loaded', () => {
  const icd = (software: boolean, problem?: string) => ({
    path: software ? '/x/vk_swiftshader_icd.json' : '/x/nvidia_icd.json',
    source: 'system' as const,
    library: software ? './libvk_swiftshader.so' : 'libGLX_nvidia.so.0',
    apiVersion: '1.3.0',
    software,
    ...(problem ? { problem } : {}),
  });
  const report = (r: Partial<VulkanReport>): VulkanReport => ({
    loader: '/lib/libvulkan.so.1',
    icds: [],
    icdDirs: ['/etc/vulkan/icd.d', '/usr/share/vulkan/icd.d'],
    ...r,
  });

  it('no loader, no driver, software only: a short reason and the fix', () => {
    const noLoader = vulkanProblem(report({ loader: undefined }), false)!;
    expect(noLoader).toBeInstanceOf(WebGpuUnavailableError);
    expect(noLoader.short).toBe('no Vulkan loader (libvulkan.so.1)');
    expect(noLoader.message).toMatch(/apt-get install libvulkan1/);

    const noIcd = vulkanProblem(report({ icds: [icd(false, 'not valid JSON')] }), false)!;
    expect(noIcd.short).toBe('no Vulkan driver (ICD)');
    expect(noIcd.message).toMatch(/in \/etc\/vulkan\/icd\.d, \/usr\/share\/vulkan\/icd\.d/);
    expect(noIcd.message).toMatch(/nvidia_icd\.json.*libnvidia-gl-.*NVIDIA_DRIVER_CAPABILITIES/);

    const soft = vulkanProblem(report({ icds: [icd(true)] }), false)!;
    expect(soft.code).toBe('CSQ_WEBGPU_SOFTWARE_ADAPTER');
    expect(soft.short).toBe(
      'software Vulkan driver only (vk_swiftshader_icd.json (./libvk_swiftshader.so, Vulkan 1.3.0))',
    );
    expect(soft.message).toMatch(/CSQ_WEBGPU_ALLOW_SOFTWARE=1/);
  });

  it('a hardware driver, or software when allowed, lets Dawn try', () => {
    expect(vulkanProblem(report({ icds: [icd(true), icd(false)] }), false)).toBeUndefined();
    expect(vulkanProblem(report({ icds: [icd(true)] }), true)).toBeUndefined();
    expect(softwareAllowedByEnv({ CSQ_WEBGPU_ALLOW_SOFTWARE: '1' })).toBe(true);
    expect(softwareAllowedByEnv({ CSQ_WEBGPU_ALLOW_SOFTWARE: '0' })).toBe(false);
    expect(softwareAllowedByEnv({})).toBe(false);
  });
});

function fakeAdapter(vendor: string, architecture: string, fallback = false): GpuAdapterLike {
  return {
    features: new Set(['timestamp-query']),
    limits: { maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 30 },
    info: { vendor, architecture, device: '', description: '', isFallbackAdapter: fallback },
    requestDevice: async () => ({ destroy: () => {} }),
  };
}

function fakeDawn(byRequest: (o: { forceFallbackAdapter?: boolean }) => GpuAdapterLike | null) {
  const gpu: GpuLike = { requestAdapter: async (o = {}) => byRequest(o) };
  return async () => ({ create: () => gpu });
}

const vulkanOk: VulkanReport = {
  loader: '/lib/libvulkan.so.1',
  icds: [
    {
      path: '/usr/share/vulkan/icd.d/nvidia_icd.json',
      source: 'system',
      library: 'libGLX_nvidia.so.0',
      apiVersion: '1.4.303',
      software: false,
    },
  ],
  icdDirs: ['/usr/share/vulkan/icd.d'],
};

describe('inspectNodeWebGpu (the WebGPU part of csq doctor), Dawn faked', () => {
  it('lists the distinct adapters and chooses the hardware one', async () => {
    const gpu = fakeAdapter('nvidia', 'hopper');
    const sw = fakeAdapter('google', 'swiftshader', true);
    const r = await inspectNodeWebGpu({
      vulkan: vulkanOk,
      loadDawn: fakeDawn((o) => (o.forceFallbackAdapter ? sw : gpu)),
    });
    expect(r.dawn).toEqual({ ok: true });
    expect(r.adapters.map((a) => [a.vendor, a.architecture, a.software])).toEqual([
      ['nvidia', 'hopper', false],
      ['google', 'swiftshader', true],
    ]);
    expect(r.chosen?.vendor).toBe('nvidia');
    expect(r.problem).toBeUndefined();
  });

  it('software only: refused unless allowed; no adapter, no Dawn: each with its reason', async () => {
    const sw = fakeAdapter('google', 'swiftshader', true);
    const refused = await inspectNodeWebGpu({
      vulkan: vulkanOk,
      allowSoftware: false,
      loadDawn: fakeDawn(() => sw),
    });
    expect(refused.chosen).toBeUndefined();
    expect(refused.problem?.short).toBe('software adapter only (google swiftshader)');
    const allowed = await inspectNodeWebGpu({
      vulkan: vulkanOk,
      allowSoftware: true,
      loadDawn: fakeDawn(() => sw),
    });
    expect(allowed.chosen?.architecture).toBe('swiftshader');

    const none = await inspectNodeWebGpu({ vulkan: vulkanOk, loadDawn: fakeDawn(() => null) });
    expect(none.adapters).toEqual([]);
    expect(none.problem?.short).toBe('Dawn found no adapter');
    expect(none.problem?.message).toMatch(/nvidia_icd\.json.*nvidia-smi.*vulkaninfo/);

    const noDawn = await inspectNodeWebGpu({
      vulkan: vulkanOk,
      loadDawn: async () => {
        throw new Error("Cannot find package 'webgpu'");
      },
    });
    expect(noDawn.dawn).toEqual({ ok: false, problem: "Cannot find package 'webgpu'" });
    expect(noDawn.problem?.message).toMatch(/npm install webgpu/);

    const noLoader = await inspectNodeWebGpu({
      vulkan: { ...vulkanOk, loader: undefined },
      loadDawn: fakeDawn(() => {
        throw new Error('must not be asked');
      }),
    });
    expect(noLoader.problem?.short).toBe('no Vulkan loader (libvulkan.so.1)');
  });
});

const swiftShader = findSwiftShader();
describe.skipIf(!swiftShader || !process.env.VK_ICD_FILENAMES)(
  'loadNodeWebGpuBackend on this machine (Dawn on SwiftShader)',
  () => {
    it('refuses the software adapter by default, takes it when allowed', async () => {
      const err = await loadNodeWebGpuBackend({ allowSoftware: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WebGpuUnavailableError);
      expect((err as WebGpuUnavailableError).short).toMatch(/^software Vulkan driver only/);

      const report = await inspectNodeWebGpu({ allowSoftware: false });
      expect(report.dawn.ok).toBe(true);
      expect(report.adapters.length).toBeGreaterThan(0);
      expect(report.adapters.every((a) => a.software)).toBe(true);
      expect(report.problem?.short).toMatch(/^software adapter only \(google swiftshader/);

      const session = await loadNodeWebGpuBackend({ allowSoftware: true });
      try {
        expect(session.adapter.software).toBe(true);
        expect(tf.findBackendFactory('webgpu')).toBeDefined();
        expect(await tf.setBackend('webgpu')).toBe(true);
        const y = tf.add(tf.tensor1d([1, 2]), 1);
        expect(Array.from(await y.data())).toEqual([2, 3]);
        y.dispose();
      } finally {
        session.dispose();
      }
    });
  },
);
