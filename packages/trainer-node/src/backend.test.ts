import { CsqError } from '@csq/core';
import { useBackend } from '@csq/test-utils';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type BackendLoader,
  describeBackend,
  isNotInstalledError,
  type NodeBackendName,
  selectBackend,
} from './index.js';

afterEach(async () => {
  for (const name of ['tensorflow', 'webgpu']) {
    if (tf.findBackendFactory(name) != null) tf.removeBackend(name);
  }
  await useBackend('cpu');
});

function notFound(pkg: string, esm = false): Error {
  return Object.assign(
    new Error(
      esm
        ? `Cannot find package '${pkg}' imported from /app/node_modules/@csq/trainer-node/dist/index.js`
        : `Cannot find module '${pkg}'\nRequire stack:\n- /app/index.js`,
    ),
    { code: esm ? 'ERR_MODULE_NOT_FOUND' : 'MODULE_NOT_FOUND' },
  );
}

/** A loader standing in for tfjs-node: registers a 'tensorflow' backend (a cpu backend inside). */
const fakeNative: BackendLoader = async () => {
  const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
  tf.registerBackend('tensorflow', () => new Cpu(), 0);
};

/** tfjs-node-gpu on a machine whose CUDA libraries it cannot use: TensorFlow on the CPU. */
const fakeNativeGpuOnCpu: BackendLoader = async () => {
  const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
  tf.registerBackend('tensorflow', () => Object.assign(new Cpu(), { isUsingGpuDevice: false }), 0);
};

/** A loader standing in for @csq/trainer-webgpu on a hardware adapter (a cpu backend inside). */
function fakeWebGpu(released: string[], adapter = 'nvidia hopper NVIDIA H100'): BackendLoader {
  return async () => {
    const Cpu = tf.findBackend('cpu')!.constructor as new () => tf.KernelBackend;
    tf.registerBackend('webgpu', () => new Cpu(), 0);
    return {
      detail: `WebGPU (Dawn) on ${adapter}`,
      release: () => {
        released.push('webgpu');
        if (tf.findBackendFactory('webgpu') != null) tf.removeBackend('webgpu');
      },
    };
  };
}

/** How @csq/trainer-webgpu refuses: a CsqError with a few-word `short`. */
function webGpuRefuses(short: string, message: string): BackendLoader {
  return async () => {
    throw Object.assign(new CsqError('CSQ_WEBGPU_SOFTWARE_ADAPTER', message), { short });
  };
}

function calls(log: string[], name: NodeBackendName, f: BackendLoader): BackendLoader {
  return async () => {
    log.push(name);
    return f();
  };
}

describe('selectBackend, for real on this machine (no tfjs-node installed)', () => {
  it('auto takes wasm (or WebGPU on a GPU machine) and says how to install the faster ones', async () => {
    const sel = await selectBackend();
    expect(sel.tried.map((t) => t.name)).toEqual(
      sel.name === 'webgpu'
        ? ['tfjs-node-gpu', 'webgpu']
        : ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm'],
    );
    if (sel.name === 'webgpu') return; // a machine with a GPU and Vulkan: nothing more to check
    expect(sel.name).toBe('wasm');
    expect(sel.tfjsBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(sel.tried.map((t) => t.ok)).toEqual([false, false, false, true]);
    expect(sel.tried[0]!.reason).toMatch(
      /not installed.*npm install @tensorflow\/tfjs-node-gpu@4\.22\.0.*CUDA 11\.2.*cuDNN 8\.1/,
    );
    // here: no Vulkan loader, or only SwiftShader's driver; never a software adapter by itself
    expect(sel.tried[1]!.short).toMatch(/no Vulkan (loader|driver)|software/);
    expect(sel.tried[1]!.reason).toMatch(/libvulkan|nvidia_icd\.json/);
    expect(sel.tried[2]!.reason).toMatch(
      /not installed.*npm install @tensorflow\/tfjs-node@4\.22\.0/,
    );
    // one line, a few words per backend; the full reasons one per line in details
    expect(sel.message).not.toContain('\n');
    expect(sel.message).toMatch(
      /^using wasm \(WebAssembly .*\); not used: tfjs-node-gpu \(not installed\), webgpu \(.+\), tfjs-node \(not installed\)$/,
    );
    expect(sel.message.length).toBeLessThan(240);
    expect(sel.details.split('\n')).toHaveLength(4);
    expect(sel.details).toMatch(/^not used tfjs-node-gpu: not installed; to use it: npm install/);
    expect(sel.details).toMatch(/\nusing {4}wasm: WebAssembly/);
  });

  it('an explicit tfjs-node-gpu throws a CsqError naming what is available and how to get it', async () => {
    const err = await selectBackend({ backend: 'tfjs-node-gpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsqError);
    expect((err as CsqError).code).toBe('CSQ_BACKEND_UNAVAILABLE');
    expect((err as CsqError).message).toMatch(/"tfjs-node-gpu" is not available: not installed/);
    expect((err as CsqError).message).toMatch(/Available here: (webgpu, )?wasm, cpu\./);
    expect((err as CsqError).message).toMatch(
      /To get tfjs-node-gpu: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/,
    );
  });

  it('explicit cpu and wasm are taken as asked', async () => {
    expect((await selectBackend({ backend: 'cpu' })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const sel = await selectBackend({ backend: 'wasm' });
    expect(sel.tried).toEqual([
      { name: 'wasm', ok: true, reason: expect.stringMatching(/WebAssembly/), short: '' },
    ]);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unknown backend throws CSQ_UNKNOWN_BACKEND listing the valid names', async () => {
    const err = (await selectBackend({ backend: 'webgl' }).catch((e: unknown) => e)) as CsqError;
    expect(err).toBeInstanceOf(CsqError);
    expect(err.code).toBe('CSQ_UNKNOWN_BACKEND');
    expect(err.message).toMatch(/auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu/);
  });
});

describe('selectBackend order and reasons (injected loaders)', () => {
  it('tries the faster ones first and takes the first that loads', async () => {
    const log: string[] = [];
    const sel = await selectBackend({
      loaders: {
        'tfjs-node-gpu': calls(log, 'tfjs-node-gpu', async () => {
          throw new Error(
            'libcudart.so.11.0: cannot open shared object file: No such file or directory',
          );
        }),
        webgpu: calls(log, 'webgpu', webGpuRefuses('no Vulkan driver (ICD)', 'no ICD json')),
        'tfjs-node': calls(log, 'tfjs-node', fakeNative),
        wasm: calls(log, 'wasm', async () => {}),
        cpu: calls(log, 'cpu', async () => {}),
      },
    });
    expect(log).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node']);
    expect(sel.name).toBe('tfjs-node');
    expect(sel.tfjsBackend).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(sel.tried[0]).toEqual({
      name: 'tfjs-node-gpu',
      ok: false,
      reason: expect.stringMatching(
        /installed but failed to load: libcudart\.so\.11\.0: cannot open/,
      ),
      short: 'failed to load: libcudart.so.11.0: cannot open shared object file: No...',
    });
  });

  it('tells "not installed" (ESM and CJS errors) from a failing install, down to cpu', async () => {
    const sel = await selectBackend({
      loaders: {
        'tfjs-node-gpu': async () => {
          throw notFound('@tensorflow/tfjs-node-gpu', true);
        },
        webgpu: async () => {
          throw notFound('@csq/trainer-webgpu/package.json');
        },
        'tfjs-node': async () => {
          // installed, but its native addon is missing: a MODULE_NOT_FOUND for another path
          throw notFound('/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node');
        },
        wasm: async () => {
          throw notFound('@tensorflow/tfjs-backend-wasm');
        },
      },
    });
    expect(sel.name).toBe('cpu');
    expect(sel.tried.map((t) => t.reason.split(';')[0]!.split(':')[0])).toEqual([
      'not installed',
      'not installed',
      '@tensorflow/tfjs-node is installed but failed to load',
      'not installed',
      'plain JavaScript (slowest)',
    ]);
    expect(sel.tried[1]!.reason).toMatch(
      /npm install @csq\/trainer-webgpu @tensorflow\/tfjs-backend-webgpu@4\.22\.0 webgpu/,
    );
    expect(sel.tried[3]!.reason).toMatch(/npm install @tensorflow\/tfjs-backend-wasm@4\.22\.0/);
    expect(sel.message).toMatch(
      /^using cpu \(plain JavaScript \(slowest\)\); not used: tfjs-node-gpu \(not installed\), webgpu \(not installed\), tfjs-node \(failed to load: Cannot find module/,
    );
  });

  it('an explicit backend runs only its own loader, and a package that registers no backend fails', async () => {
    const log: string[] = [];
    const released: string[] = [];
    const err = (await selectBackend({
      backend: 'tfjs-node',
      loaders: {
        'tfjs-node-gpu': calls(log, 'tfjs-node-gpu', async () => {
          throw notFound('@tensorflow/tfjs-node-gpu');
        }),
        webgpu: calls(log, 'webgpu', fakeWebGpu(released)),
        'tfjs-node': calls(log, 'tfjs-node', async () => {}), // loads, registers nothing
      },
    }).catch((e: unknown) => e)) as CsqError;
    expect(err.code).toBe('CSQ_BACKEND_UNAVAILABLE');
    expect(err.message).toMatch(/registered no "tensorflow" backend/);
    expect(err.message).toMatch(/Available here: webgpu, wasm, cpu\./);
    // tfjs-node itself, then the others probed for the list of available ones
    expect(log).toEqual(['tfjs-node', 'tfjs-node-gpu', 'webgpu']);
    expect(released).toEqual(['webgpu']); // a probed WebGPU device is freed at once
  });

  it('WebGPU on a hardware adapter comes after tfjs-node-gpu and before tfjs-node', async () => {
    const log: string[] = [];
    const released: string[] = [];
    const sel = await selectBackend({
      loaders: {
        'tfjs-node-gpu': calls(log, 'tfjs-node-gpu', async () => {
          throw new Error(
            "Could not load dynamic library 'libcudart.so.11.0'; dlerror: libcudart.so.11.0: cannot open shared object file",
          );
        }),
        webgpu: calls(log, 'webgpu', fakeWebGpu(released)),
        'tfjs-node': calls(log, 'tfjs-node', fakeNative),
      },
    });
    expect(log).toEqual(['tfjs-node-gpu', 'webgpu']);
    expect(sel.name).toBe('webgpu');
    expect(sel.tfjsBackend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(released).toEqual([]); // the session stays up: the model's weights will live on it
    expect(sel.message).toBe(
      "using webgpu (WebGPU (Dawn) on nvidia hopper NVIDIA H100); not used: tfjs-node-gpu (failed to load: Could not load dynamic library 'libcudart.so.11.0'; d...)",
    );
    expect(sel.details).toContain(
      "not used tfjs-node-gpu: @tensorflow/tfjs-node-gpu is installed but failed to load: Could not load dynamic library 'libcudart.so.11.0'; dlerror",
    );
  });

  it('a software-only WebGPU is passed over with its few-word reason, the full one in details', async () => {
    const sel = await selectBackend({
      loaders: {
        'tfjs-node-gpu': async () => {
          throw notFound('@tensorflow/tfjs-node-gpu');
        },
        webgpu: webGpuRefuses(
          'software adapter only (google swiftshader)',
          'the only WebGPU adapter is a software one (google swiftshader): Vulkan found no GPU driver. Set CSQ_WEBGPU_ALLOW_SOFTWARE=1 to use it anyway.',
        ),
        'tfjs-node': async () => {
          throw notFound('@tensorflow/tfjs-node');
        },
      },
    });
    expect(sel.name).toBe('wasm');
    expect(sel.message).toMatch(
      /not used: tfjs-node-gpu \(not installed\), webgpu \(software adapter only \(google swiftshader\)\), tfjs-node \(not installed\)$/,
    );
    expect(sel.details).toContain(
      'not used webgpu: the only WebGPU adapter is a software one (google swiftshader): Vulkan found no GPU driver. Set CSQ_WEBGPU_ALLOW_SOFTWARE=1',
    );
  });

  it('tfjs-node-gpu without a CUDA GPU yields to WebGPU, else serves as the CPU TensorFlow', async () => {
    const released: string[] = [];
    const onGpu = await selectBackend({
      loaders: { 'tfjs-node-gpu': fakeNativeGpuOnCpu, webgpu: fakeWebGpu(released) },
    });
    expect(onGpu.name).toBe('webgpu');
    expect(onGpu.tried[0]).toMatchObject({
      name: 'tfjs-node-gpu',
      ok: false,
      short: expect.stringMatching(/no CUDA GPU/),
      reason: expect.stringMatching(/libcudart\.so\.11\.0 \(CUDA 11\.2\) and cuDNN 8\.1/),
    });
    tf.removeBackend('webgpu');
    tf.removeBackend('tensorflow');

    const log: string[] = [];
    const onCpu = await selectBackend({
      loaders: {
        'tfjs-node-gpu': fakeNativeGpuOnCpu,
        webgpu: webGpuRefuses('no Vulkan driver (ICD)', 'no ICD'),
        'tfjs-node': calls(log, 'tfjs-node', fakeNative),
      },
    });
    expect(log).toEqual([]); // a second TensorFlow would clash with the one loaded
    expect(onCpu.name).toBe('tfjs-node-gpu');
    expect(onCpu.tfjsBackend).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(onCpu.message).toMatch(
      /^using tfjs-node-gpu \(native TensorFlow on the CPU \(tfjs-node-gpu found no CUDA GPU\)\); not used: tfjs-node-gpu \(no CUDA GPU.*\), webgpu \(no Vulkan driver \(ICD\)\)$/,
    );
    // asked for explicitly, it is taken as it is (on the CPU, said so)
    tf.removeBackend('tensorflow');
    const explicit = await selectBackend({
      backend: 'tfjs-node-gpu',
      loaders: { 'tfjs-node-gpu': fakeNativeGpuOnCpu },
    });
    expect(explicit.name).toBe('tfjs-node-gpu');
    expect(explicit.message).toMatch(
      /^using tfjs-node-gpu \(loaded, but TensorFlow sees no CUDA GPU/,
    );
  });

  it('a WebGPU backend that fails to start is released and passed over', async () => {
    const released: string[] = [];
    const sel = await selectBackend({
      loaders: {
        'tfjs-node-gpu': async () => {
          throw notFound('@tensorflow/tfjs-node-gpu');
        },
        webgpu: async () => {
          tf.registerBackend('webgpu', () => {
            throw new Error('device lost');
          });
          return { detail: 'x', release: () => released.push('webgpu') };
        },
        'tfjs-node': fakeNative,
      },
    });
    expect(sel.name).toBe('tfjs-node');
    expect(released).toEqual(['webgpu']);
    expect(sel.tried[1]).toMatchObject({ ok: false, short: 'failed to initialise' });
  });

  it('isNotInstalledError matches the package itself only', () => {
    expect(isNotInstalledError(notFound('@tensorflow/tfjs-node'), '@tensorflow/tfjs-node')).toBe(
      true,
    );
    expect(
      isNotInstalledError(notFound('@tensorflow/tfjs-node', true), '@tensorflow/tfjs-node'),
    ).toBe(true);
    expect(
      isNotInstalledError(notFound('@tensorflow/tfjs-node-gpu'), '@tensorflow/tfjs-node'),
    ).toBe(false);
    expect(
      isNotInstalledError(
        new Error("Cannot find module '@tensorflow/tfjs-node'"),
        '@tensorflow/tfjs-node',
      ),
    ).toBe(false);
  });
});

describe('describeBackend', () => {
  it('reports wasm SIMD/threads and the training kernels', async () => {
    await useBackend('wasm');
    const d = await describeBackend();
    expect(d.name).toBe('wasm');
    expect(d.tfjsVersion).toBe('4.22.0');
    expect(d.wasm?.simd).toBe(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    expect(d.wasm?.trainingKernels).toBe(true);
    expect(d.text).toMatch(
      /^wasm \(tfjs 4\.22\.0; SIMD (on|off); threads .*; csq training kernels registered\)$/,
    );
  });

  it('names the cpu backend plainly', async () => {
    await useBackend('cpu');
    const d = await describeBackend();
    expect(d).toEqual({ name: 'cpu', tfjsVersion: '4.22.0', text: 'cpu (tfjs 4.22.0)' });
  });
});
