import { describe, expect, it } from 'vitest';
import { type MachineInfo, machineLabel } from './machine.js';

const machine: MachineInfo = {
  cpu: 'Intel(R) Xeon(R) Platinum 8480C CPU',
  cores: 16,
  memoryGiB: 128,
  gpus: ['NVIDIA H200, 570.86.15, 143771 MiB'],
  os: 'linux 6.8 x64',
  node: 'v20.20.2',
  backend: 'wasm',
  backendDetail: 'wasm (tfjs 4.22.0; SIMD on; threads off; csq training kernels registered)',
};

describe('machineLabel: the GPU when the run used one, else the CPU', () => {
  it('names the GPU for tfjs-node-gpu on CUDA and for WebGPU on a hardware adapter', () => {
    const cuda = {
      backend: 'tfjs-node-gpu',
      backendDetail: 'tensorflow (tfjs-node-gpu, tfjs 4.22.0; on a CUDA GPU)',
    };
    expect(machineLabel({ ...machine, ...cuda })).toBe('NVIDIA H200');
    const webgpu = {
      backend: 'webgpu',
      backendDetail: 'webgpu (tfjs 4.22.0; Dawn, nvidia hopper)',
    };
    expect(machineLabel({ ...machine, ...webgpu })).toBe('NVIDIA H200');
  });

  it('names the CPU for wasm and for WebGPU on SwiftShader', () => {
    expect(machineLabel(machine)).toBe('16x Intel Xeon Platinum 8480C');
    const sw = {
      backend: 'webgpu',
      backendDetail: 'webgpu (tfjs 4.22.0; Dawn, google swiftshader)',
    };
    expect(machineLabel({ ...machine, ...sw })).toBe('16x Intel Xeon Platinum 8480C');
  });
});
