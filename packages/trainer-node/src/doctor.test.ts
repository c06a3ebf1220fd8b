import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type CudaReport,
  type DoctorReport,
  doctor,
  formatDoctorReport,
  inspectCuda,
  missingForTfjsNodeGpu,
  type WebGpuInspection,
} from './index.js';

const root = mkdtempSync(join(tmpdir(), 'csq-doctor-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
  await useBackend('cpu');
});

describe('inspectCuda: driver, toolkits and the libraries tfjs-node-gpu opens', () => {
  it('finds versions in a toolkit, LD_LIBRARY_PATH and ld.so.cache, each file once', () => {
    const cuda = join(root, 'cuda-11.2');
    mkdirSync(join(cuda, 'lib64'), { recursive: true });
    writeFileSync(join(cuda, 'version.json'), JSON.stringify({ cuda: { version: '11.2.152' } }));
    writeFileSync(join(cuda, 'lib64', 'libcudart.so.11.0'), '');
    writeFileSync(join(cuda, 'lib64', 'libcudart.so'), ''); // the dev link: no version
    symlinkSync(cuda, join(root, 'cuda')); // /usr/local/cuda -> cuda-11.2
    const extra = join(root, 'cudnn');
    mkdirSync(extra);
    writeFileSync(join(extra, 'libcudnn.so.8.1.1'), '');
    const driverFile = join(root, 'nvidia-version');
    writeFileSync(
      driverFile,
      'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n',
    );
    const base = {
      env: { LD_LIBRARY_PATH: extra },
      roots: [join(root, 'cuda'), cuda],
      libDirs: [],
      driverFile,
    };
    const r = inspectCuda({ ...base, ldconfig: '' });
    expect(r.driver).toBe('550.54.14');
    expect(r.toolkits).toEqual([{ root: join(root, 'cuda'), version: '11.2.152' }]);
    expect(r.libraries.map((l) => [l.lib, l.file, l.version])).toEqual([
      ['cudnn', 'libcudnn.so.8.1.1', '8.1.1'],
      ['cudart', 'libcudart.so.11.0', '11.0'],
    ]);
    expect(missingForTfjsNodeGpu(r)).toEqual(['libcublas.so.11']);
    const cache = '\tlibcublas.so.11 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcublas.so.11\n';
    expect(missingForTfjsNodeGpu(inspectCuda({ ...base, ldconfig: cache }))).toEqual([]);
    const none = inspectCuda({ env: {}, roots: [], libDirs: [], ldconfig: '', driverFile: '/x' });
    expect(none).toEqual({ toolkits: [], libraries: [], searched: [] });
  });
});

const cuda13: CudaReport = {
  driver: '580.65.06',
  toolkits: [{ root: '/usr/local/cuda-13.0', version: '13.0' }],
  libraries: [
    {
      lib: 'cudart',
      file: 'libcudart.so.13',
      path: '/usr/local/cuda-13.0/lib/libcudart.so.13',
      version: '13',
    },
  ],
  searched: [],
};
const cuda11: CudaReport = {
  driver: '535.183.01',
  toolkits: [],
  libraries: [
    { lib: 'cudart', file: 'libcudart.so.11.0', path: '/opt/c/libcudart.so.11.0', version: '11.0' },
    { lib: 'cublas', file: 'libcublas.so.11', path: '/opt/c/libcublas.so.11', version: '11' },
    { lib: 'cudnn', file: 'libcudnn.so.8', path: '/opt/c/libcudnn.so.8', version: '8' },
  ],
  searched: [],
};

function fakeTensorflow(usingGpu: boolean) {
  return async () => {
    const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
    tf.registerBackend('tensorflow', () =>
      Object.assign(new Cpu(), { isUsingGpuDevice: usingGpu }),
    );
  };
}

const hopper: WebGpuInspection = {
  vulkan: {
    loader: '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
    icds: [
      {
        path: '/usr/share/vulkan/icd.d/nvidia_icd.json',
        library: 'libGLX_nvidia.so.0',
        apiVersion: '1.4.303',
        software: false,
      },
    ],
    icdDirs: ['/usr/share/vulkan/icd.d'],
  },
  dawn: { ok: true },
  adapters: [
    {
      vendor: 'nvidia',
      architecture: 'hopper',
      device: '',
      description: 'NVIDIA H200',
      software: false,
    },
  ],
  chosen: { vendor: 'nvidia', architecture: 'hopper', software: false },
};

const swiftShaderOnly: WebGpuInspection = {
  vulkan: {
    loader: '/usr/lib/chromium/libvulkan.so.1',
    icds: [
      {
        path: '/usr/lib/chromium/vk_swiftshader_icd.json',
        library: './libvk_swiftshader.so',
        apiVersion: '1.0.5',
        software: true,
      },
    ],
    icdDirs: [],
  },
  dawn: { ok: true },
  adapters: [
    {
      vendor: 'google',
      architecture: 'swiftshader',
      device: '',
      description: 'SwiftShader',
      software: true,
    },
  ],
  problem: {
    short: 'software adapter only (google swiftshader)',
    message:
      'the only WebGPU adapter is a software one; set CSQ_WEBGPU_ALLOW_SOFTWARE=1 to use it anyway.',
  },
};

const installedOnly =
  (...pkgs: string[]) =>
  (pkg: string) =>
    pkgs.includes(pkg);

function row(r: DoctorReport, name: string) {
  return r.backends.find((b) => b.name === name)!;
}

describe('doctor: every backend, why not, and the fix (loaders faked)', () => {
  it('a CUDA 11 machine with tfjs-node-gpu: the GPU works, tfjs-node is not loaded beside it', async () => {
    const r = await doctor({
      installed: installedOnly('@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'),
      loaders: { 'tfjs-node-gpu': fakeTensorflow(true) },
      cuda: cuda11,
      webgpu: async () => hopper,
    });
    expect(r.backends.map((b) => [b.name, b.usable, b.summary])).toEqual([
      ['tfjs-node-gpu', true, 'CUDA GPU'],
      ['webgpu', true, 'GPU adapter'],
      ['tfjs-node', false, 'tfjs-node-gpu loaded instead'],
      ['wasm', true, expect.stringMatching(/^SIMD (on|off)$/)],
      ['cpu', true, 'plain JavaScript (slowest)'],
    ]);
    expect(r).toMatchObject({ best: 'tfjs-node-gpu', ok: true, gpu: true });
    expect(row(r, 'tfjs-node-gpu').checks.map((c) => [c.what, c.ok])).toEqual([
      ['package', true],
      ['NVIDIA driver', true],
      ['CUDA libraries', true],
      ['loads', true],
    ]);
  });

  it('a CUDA 13 machine: tfjs-node-gpu runs on the CPU, WebGPU on the GPU is taken; fixes named', async () => {
    const r = await doctor({
      installed: installedOnly('@tensorflow/tfjs-node-gpu'),
      loaders: { 'tfjs-node-gpu': fakeTensorflow(false) },
      cuda: cuda13,
      webgpu: async () => hopper,
    });
    expect(row(r, 'tfjs-node-gpu')).toMatchObject({
      usable: false,
      summary: 'no CUDA GPU (TensorFlow on the CPU)',
    });
    const libs = row(r, 'tfjs-node-gpu').checks.find((c) => c.what === 'CUDA libraries')!;
    expect(libs.ok).toBe(false);
    expect(libs.detail).toMatch(
      /toolkits \/usr\/local\/cuda-13\.0 \(CUDA 13\.0\); found libcudart\.so\.13 .*needs libcudart\.so\.11\.0, libcublas\.so\.11, libcudnn\.so\.8/,
    );
    expect(libs.fix).toMatch(/nvidia-cudnn-cu11==8\.\*.*LD_LIBRARY_PATH/);
    expect(r).toMatchObject({ best: 'webgpu', ok: true, gpu: true });
    const text = formatDoctorReport(r);
    expect(text).toMatch(/^ {2}yes {2}webgpu {9}GPU adapter$/m);
    expect(text).toMatch(/^csq trains on webgpu here \(--backend auto\)\.$/m);
    expect(formatDoctorReport(r, { verbose: true })).toMatch(
      /ok {2}WebGPU adapters: nvidia hopper NVIDIA H200\n/,
    );
  });

  it('no GPU: software WebGPU and missing packages each say why, with the fix; wasm works', async () => {
    const r = await doctor({
      installed: installedOnly(),
      cuda: { toolkits: [], libraries: [], searched: [] },
      webgpu: async () => swiftShaderOnly,
    });
    expect(r).toMatchObject({ best: 'wasm', ok: true, gpu: false });
    expect(row(r, 'webgpu')).toMatchObject({
      usable: false,
      summary: 'software adapter only (google swiftshader)',
    });
    const text = formatDoctorReport(r);
    expect(text).toContain('no   tfjs-node-gpu  not installed');
    expect(text).toContain('fix: npm install @tensorflow/tfjs-node-gpu@4.22.0');
    expect(text).toContain('no  NVIDIA driver: no NVIDIA kernel driver loaded');
    expect(text).toMatch(
      /no {2}Vulkan drivers \(ICDs\): .*vk_swiftshader_icd\.json \(.*CPU driver\)/,
    );
    expect(text).toContain(
      'fix: the only WebGPU adapter is a software one; set CSQ_WEBGPU_ALLOW_SOFTWARE=1',
    );
    expect(text).toMatch(/csq trains on wasm here \(--backend auto\); no GPU backend works\.\n$/);
  });

  it('a software adapter, when allowed, is usable with --backend webgpu but never the auto choice', async () => {
    const r = await doctor({
      installed: installedOnly(),
      cuda: { toolkits: [], libraries: [], searched: [] },
      webgpu: async () => ({
        ...swiftShaderOnly,
        chosen: { vendor: 'google', architecture: 'swiftshader', software: true },
      }),
    });
    expect(row(r, 'webgpu')).toMatchObject({ usable: true, summary: 'software adapter (allowed)' });
    expect(r).toMatchObject({ best: 'wasm', ok: true, gpu: false });
  });

  it('a package that is installed but fails to load says so', async () => {
    const r = await doctor({
      installed: installedOnly('@tensorflow/tfjs-node-gpu', '@csq/trainer-webgpu'),
      loaders: {
        'tfjs-node-gpu': async () => {
          throw new Error('libcudart.so.11.0: cannot open shared object file\nmore');
        },
      },
      cuda: cuda13,
      webgpu: async () => {
        throw new Error('dawn.node: invalid ELF header');
      },
    });
    expect(row(r, 'tfjs-node-gpu').checks.at(-1)).toEqual({
      what: 'loads',
      ok: false,
      detail: 'libcudart.so.11.0: cannot open shared object file',
      fix: 'npm rebuild @tensorflow/tfjs-node-gpu, or reinstall it',
    });
    expect(row(r, 'webgpu')).toMatchObject({ usable: false, summary: 'fails to load' });
  });
});
