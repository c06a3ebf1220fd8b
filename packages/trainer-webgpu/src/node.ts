/**
 * @csq/trainer-webgpu/node: the tfjs WebGPU backend in Node through Dawn (the optional peer
 * `webgpu` package). Everything in the universal entry is re-exported; `initWebGpu` here
 * creates Dawn's GPU object, exposes it as `navigator.gpu` and sets the backend up.
 */
import { existsSync } from 'node:fs';
import { CsqError } from '@csq/core';
import type { GpuLike } from './gpu-types.js';
import { type InitWebGpuOptions, initWebGpuWith, type WebGpuSession } from './init.js';
import {
  softwareAdapterProblem,
  softwareAllowedByEnv,
  vulkanProblem,
  withShortReason,
} from './node-backend.js';
import { findSwiftShader, hasVulkanLoader, SWIFTSHADER_DIRS } from './swiftshader.js';
import {
  type TrainOnWebGpuOptions,
  trainOnWebGpuWith,
  type WebGpuTrainResult,
} from './train-webgpu.js';
import { inspectVulkan } from './vulkan.js';

export * from './index.js';
export {
  ALLOW_SOFTWARE_ENV,
  adapterName,
  type DawnModule,
  type InspectNodeWebGpuOptions,
  inspectNodeWebGpu,
  type NodeWebGpuReport,
  softwareAdapterProblem,
  softwareAllowedByEnv,
  vulkanProblem,
  WebGpuUnavailableError,
} from './node-backend.js';
export {
  findSwiftShader,
  hasVulkanLoader,
  type SwiftShaderInstall,
  swiftShaderEnv,
} from './swiftshader.js';
export {
  type InspectVulkanOptions,
  icdSummary,
  inspectVulkan,
  ldconfigPaths,
  readLdconfig,
  VULKAN_ICD_DIRS,
  type VulkanIcd,
  type VulkanReport,
} from './vulkan.js';

/** Options of the Node `initWebGpu`. */
export interface NodeWebGpuOptions extends InitWebGpuOptions {
  /**
   * Flags for Dawn's `create()`, e.g. `['backend=vulkan']`, `['adapter=SwiftShader']` or
   * `['enable-dawn-features=allow_unsafe_apis']` (see the webgpu package's README).
   */
  dawnFlags?: string[];
  /**
   * The Vulkan driver manifest to use: a path to an ICD json, or 'swiftshader' for the CPU
   * driver that Chrome/Chromium ship (`findSwiftShader`). Sets `VK_ICD_FILENAMES` before the
   * adapter is requested. Default: leave the environment as it is.
   */
  vulkanIcd?: string;
}

function noAdapterHint(): string {
  const tips: string[] = [];
  if (process.platform === 'linux') {
    const ss = findSwiftShader();
    const loader = hasVulkanLoader();
    if (!loader) {
      tips.push(
        'No Vulkan loader (libvulkan.so.1) is on the library path: install it ' +
          '(Debian/Ubuntu: apt-get install libvulkan1)' +
          (ss?.loader ? ` or start node with LD_LIBRARY_PATH=${ss.dir}` : '') +
          '.',
      );
    }
    if (!process.env.VK_ICD_FILENAMES) {
      tips.push(
        ss
          ? `Without a GPU driver, use the SwiftShader CPU driver: VK_ICD_FILENAMES=${ss.icd} ` +
              "(or initWebGpu({ vulkanIcd: 'swiftshader' }))."
          : 'Without a GPU driver, install Chromium (Debian: apt-get install chromium) for its ' +
              'SwiftShader CPU driver, then pass initWebGpu({ vulkanIcd: "swiftshader" }).',
      );
    } else if (loader) {
      tips.push(
        `VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES} gave no adapter; check the path.`,
      );
    }
  } else {
    tips.push(
      'Check that a GPU driver with Metal (macOS) or D3D12 (Windows) support is installed.',
    );
  }
  tips.push('Otherwise train on the wasm or cpu backend with @csq/trainer-node.');
  return tips.join(' ');
}

const NODE_SYNC_READ =
  'tensor.dataSync() / arraySync() of a tensor held by the GPU cannot work on WebGPU in Node: ' +
  'Dawn (the webgpu package) maps GPU buffers only asynchronously, and tfjs reads WebGPU data ' +
  'synchronously only through OffscreenCanvas, which Node lacks. Read tensors with ' +
  '`await tensor.data()` / `await tensor.array()`. For code you cannot change (a library that ' +
  'calls dataSync), use WebGPU in a browser, or train on wasm or cpu with @csq/trainer-node.';

interface WebGpuModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

async function loadDawn(): Promise<WebGpuModule> {
  try {
    const mod = (await import('webgpu')) as unknown as WebGpuModule & { default?: WebGpuModule };
    const m = typeof mod.create === 'function' ? mod : mod.default;
    if (!m || typeof m.create !== 'function') throw new Error('it has no create()');
    return m;
  } catch (e) {
    throw new CsqError(
      'CSQ_NO_WEBGPU_PACKAGE',
      `could not load the "webgpu" package (Dawn for Node): ${e instanceof Error ? e.message : String(e)}. ` +
        'Install it next to @csq/trainer-webgpu (npm install webgpu); it ships prebuilt ' +
        'binaries for Linux, macOS and Windows on x64 and arm64.',
    );
  }
}

/**
 * Node: sets up the tfjs WebGPU backend on Dawn (the `webgpu` package): creates its GPU
 * object, installs the WebGPU globals Dawn provides and `navigator.gpu`, then requests an
 * adapter and makes `webgpu` the active tfjs backend. `session.dispose()` frees the device
 * and removes `navigator.gpu` (a live Dawn instance keeps Node from exiting).
 * Throws CsqError `CSQ_NO_WEBGPU_PACKAGE`, `CSQ_NO_GPU_ADAPTER` (with what to install or set),
 * `CSQ_WEBGPU_DEVICE_FAILED`, `CSQ_WEBGPU_BACKEND_FAILED` or `CSQ_BAD_PATH`.
 */
export async function initWebGpu(opts: NodeWebGpuOptions = {}): Promise<WebGpuSession> {
  if (opts.vulkanIcd !== undefined) {
    const icd = opts.vulkanIcd === 'swiftshader' ? findSwiftShader()?.icd : opts.vulkanIcd;
    if (!icd || !existsSync(icd)) {
      throw new CsqError(
        'CSQ_BAD_PATH',
        opts.vulkanIcd === 'swiftshader'
          ? 'vulkanIcd "swiftshader": no SwiftShader driver found (looked in $CSQ_SWIFTSHADER_DIR ' +
              `and ${SWIFTSHADER_DIRS.join(', ')}). Install Chromium or Chrome, or pass the path ` +
              'of a vk_swiftshader_icd.json.'
          : `vulkanIcd: no file at ${opts.vulkanIcd}; pass the path of a Vulkan ICD json.`,
      );
    }
    process.env.VK_ICD_FILENAMES = icd;
  }
  const dawn = await loadDawn();
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (g[name] === undefined) g[name] = value;
  }
  const gpu = dawn.create(opts.dawnFlags ?? []);

  // Node 21+ has a navigator without gpu; Node 20 has none.
  let release: () => void;
  const nav = g.navigator as Record<string, unknown> | undefined;
  if (nav === undefined) {
    g.navigator = { gpu };
    release = () => {
      if ((g.navigator as { gpu?: unknown } | undefined)?.gpu === gpu) delete g.navigator;
    };
  } else {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
    release = () => {
      if (nav.gpu === gpu) delete nav.gpu;
    };
  }
  return initWebGpuWith(gpu, opts, {
    runtime: 'node',
    noGpu: 'the webgpu package returned no GPU object; reinstall it (npm install webgpu).',
    noAdapter: noAdapterHint,
    release,
    syncRead: NODE_SYNC_READ,
  });
}

/**
 * Node: trains with @csq/trainer's loop (`train`) on WebGPU through Dawn. Sets WebGPU up with
 * this entry's `initWebGpu(opts.webgpu)` (e.g. `{ vulkanIcd: 'swiftshader' }`) unless a
 * session is already live, and returns the loop's result plus the session. The session keeps
 * Node alive until `result.webgpu.dispose()`, which also frees the model's weights: save or
 * export the model first.
 */
export function trainOnWebGpu(
  opts: TrainOnWebGpuOptions<NodeWebGpuOptions>,
): Promise<WebGpuTrainResult> {
  return trainOnWebGpuWith(initWebGpu, opts);
}

/** Options of {@link loadNodeWebGpuBackend}. */
export interface NodeWebGpuBackendOptions extends NodeWebGpuOptions {
  /**
   * Take a software adapter (SwiftShader, lavapipe) too; they run WebGPU on the CPU, 10 to 100
   * times slower than wasm. Default: CSQ_WEBGPU_ALLOW_SOFTWARE=1 in the environment.
   */
  allowSoftware?: boolean;
}

/**
 * The WebGPU loader of `@csq/trainer-node`'s backend choice: sets the tfjs `webgpu` backend up
 * on Dawn (registered, not made active) on a hardware adapter, or on a software one only when
 * allowed. On Linux it checks the Vulkan loader and drivers first (without loading Dawn).
 * Throws WebGpuUnavailableError, a CsqError whose `short` says why in a few words.
 */
export async function loadNodeWebGpuBackend(
  opts: NodeWebGpuBackendOptions = {},
): Promise<WebGpuSession> {
  const { allowSoftware: allow, ...init } = opts;
  const allowSoftware = allow ?? softwareAllowedByEnv();
  if (process.platform === 'linux' && init.vulkanIcd === undefined) {
    const problem = vulkanProblem(inspectVulkan(), allowSoftware);
    if (problem) throw problem;
  }
  let session: WebGpuSession;
  try {
    session = await initWebGpu({ ...init, setBackend: false });
  } catch (e) {
    throw withShortReason(e);
  }
  const refused = softwareAdapterProblem(session.adapter, allowSoftware);
  if (refused) {
    session.dispose();
    throw refused;
  }
  return session;
}
