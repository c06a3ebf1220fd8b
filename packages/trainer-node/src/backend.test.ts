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
  if (tf.findBackendFactory('tensorflow') != null) tf.removeBackend('tensorflow');
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

function calls(log: string[], name: NodeBackendName, f: BackendLoader): BackendLoader {
  return async () => {
    log.push(name);
    await f();
  };
}

describe('selectBackend, for real on this machine (no tfjs-node installed)', () => {
  it('auto takes wasm and says how to install the two faster ones', async () => {
    const sel = await selectBackend();
    expect(sel.name).toBe('wasm');
    expect(sel.tfjsBackend).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(sel.tried.map((t) => [t.name, t.ok])).toEqual([
      ['tfjs-node-gpu', false],
      ['tfjs-node', false],
      ['wasm', true],
    ]);
    expect(sel.tried[0]!.reason).toMatch(
      /not installed.*npm install @tensorflow\/tfjs-node-gpu@4\.22\.0.*CUDA 11\.2.*cuDNN 8\.1/,
    );
    expect(sel.tried[1]!.reason).toMatch(
      /not installed.*npm install @tensorflow\/tfjs-node@4\.22\.0/,
    );
    expect(sel.message).toMatch(/^using wasm .*not used: tfjs-node-gpu: not installed/);
    // the one line csq prints by default: the backend and the names of the missing ones
    expect(sel.summary).toBe(
      'backend wasm (WebAssembly (XNNPACK) with the csq training kernels); tfjs-node-gpu, tfjs-node not installed',
    );
  });

  it('an explicit tfjs-node-gpu throws a CsqError naming what is available and how to get it', async () => {
    const err = await selectBackend({ backend: 'tfjs-node-gpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsqError);
    expect((err as CsqError).code).toBe('CSQ_BACKEND_UNAVAILABLE');
    expect((err as CsqError).message).toMatch(/"tfjs-node-gpu" is not available: not installed/);
    expect((err as CsqError).message).toMatch(/Available here: wasm, cpu\./);
    expect((err as CsqError).message).toMatch(
      /To get tfjs-node-gpu: npm install @tensorflow\/tfjs-node-gpu@4\.22\.0/,
    );
  });

  it('explicit cpu and wasm are taken as asked', async () => {
    expect((await selectBackend({ backend: 'cpu' })).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const sel = await selectBackend({ backend: 'wasm' });
    expect(sel.tried).toEqual([
      { name: 'wasm', ok: true, reason: expect.stringMatching(/WebAssembly/) },
    ]);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('an unknown backend throws CSQ_UNKNOWN_BACKEND listing the valid names', async () => {
    const err = (await selectBackend({ backend: 'webgpu' }).catch((e: unknown) => e)) as CsqError;
    expect(err).toBeInstanceOf(CsqError);
    expect(err.code).toBe('CSQ_UNKNOWN_BACKEND');
    expect(err.message).toMatch(/auto, tfjs-node-gpu, tfjs-node, wasm, cpu/);
    expect(err.message).toMatch(/@csq\/trainer-webgpu/);
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
        'tfjs-node': calls(log, 'tfjs-node', fakeNative),
        wasm: calls(log, 'wasm', async () => {}),
        cpu: calls(log, 'cpu', async () => {}),
      },
    });
    expect(log).toEqual(['tfjs-node-gpu', 'tfjs-node']);
    expect(sel.name).toBe('tfjs-node');
    expect(sel.tfjsBackend).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(sel.tried[0]).toEqual({
      name: 'tfjs-node-gpu',
      ok: false,
      reason: expect.stringMatching(
        /installed but failed to load: libcudart\.so\.11\.0: cannot open/,
      ),
    });
  });

  it('tells "not installed" (ESM and CJS errors) from a failing install, down to cpu', async () => {
    const sel = await selectBackend({
      loaders: {
        'tfjs-node-gpu': async () => {
          throw notFound('@tensorflow/tfjs-node-gpu', true);
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
      '@tensorflow/tfjs-node is installed but failed to load',
      'not installed',
      'plain JavaScript (slowest)',
    ]);
    expect(sel.tried[2]!.reason).toMatch(/npm install @tensorflow\/tfjs-backend-wasm@4\.22\.0/);
  });

  it('an explicit backend runs only its own loader, and a package that registers no backend fails', async () => {
    const log: string[] = [];
    const err = (await selectBackend({
      backend: 'tfjs-node',
      loaders: {
        'tfjs-node-gpu': calls(log, 'tfjs-node-gpu', async () => {
          throw notFound('@tensorflow/tfjs-node-gpu');
        }),
        'tfjs-node': calls(log, 'tfjs-node', async () => {}), // loads, registers nothing
      },
    }).catch((e: unknown) => e)) as CsqError;
    expect(err.code).toBe('CSQ_BACKEND_UNAVAILABLE');
    expect(err.message).toMatch(/registered no "tensorflow" backend/);
    expect(err.message).toMatch(/Available here: wasm, cpu\./);
    // tfjs-node itself, then tfjs-node-gpu probed for the list of available ones
    expect(log).toEqual(['tfjs-node', 'tfjs-node-gpu']);
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
