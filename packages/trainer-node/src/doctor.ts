/**
 * `doctor`: what this machine can train on and why not, backend by backend (tfjs-node-gpu with
 * its driver and CUDA libraries, WebGPU with Vulkan and Dawn's adapters, tfjs-node, wasm with
 * SIMD and threads, cpu), each missing piece with the command that fixes it. `csq doctor`
 * prints `formatDoctorReport(await doctor())`.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { type BackendLoader, NODE_BACKENDS, type NodeBackendName } from './backend.js';
import { installHint } from './backend-hints.js';
import { CUDA11_FIX, type CudaReport, inspectCuda, missingForTfjsNodeGpu } from './cuda-libs.js';

/** One thing checked, with what was found and, when it is missing, the fix. */
export interface DoctorCheck {
  what: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** One backend: whether csq can train on it here, in a few words, and the checks behind that. */
export interface DoctorBackend {
  name: NodeBackendName;
  usable: boolean;
  /** A few words: "CUDA GPU", "not installed", "no Vulkan driver (ICD)", ... */
  summary: string;
  checks: DoctorCheck[];
}

/** What {@link doctor} reports. */
export interface DoctorReport {
  node: string;
  platform: string;
  tfjsVersion: string;
  backends: DoctorBackend[];
  /** The backend `selectBackend('auto')` would take (never a software WebGPU adapter). */
  best?: NodeBackendName;
  /** At least one backend works (a command's exit status 0). */
  ok: boolean;
  /** A GPU backend works: tfjs-node-gpu on a CUDA GPU, or WebGPU on a hardware adapter. */
  gpu: boolean;
}

/** The WebGPU part, as `inspectNodeWebGpu` of `@csq/trainer-webgpu/node` returns it. */
export interface WebGpuInspection {
  vulkan?: {
    loader?: string;
    icds: {
      path: string;
      library: string;
      apiVersion: string;
      software: boolean;
      problem?: string;
    }[];
    icdDirs: string[];
  };
  dawn: { ok: boolean; problem?: string };
  adapters: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    software: boolean;
  }[];
  chosen?: { vendor: string; architecture: string; software: boolean };
  problem?: { short?: string; message: string };
}

/** Options of {@link doctor}: every probe can be replaced (tests fake the paths absent here). */
export interface DoctorOptions {
  /** Loaders of the native packages (default: import them). */
  loaders?: Partial<Record<'tfjs-node-gpu' | 'tfjs-node', BackendLoader>>;
  /** Whether a package is installed (default: resolve its package.json). */
  installed?: (pkg: string) => boolean;
  /** The CUDA inspection (default: inspectCuda()). */
  cuda?: CudaReport;
  /** The WebGPU inspection (default: @csq/trainer-webgpu's inspectNodeWebGpu, when installed). */
  webgpu?: () => Promise<WebGpuInspection>;
  /** Count a software WebGPU adapter as usable (default: CSQ_WEBGPU_ALLOW_SOFTWARE=1). */
  allowSoftwareAdapter?: boolean;
}

function defaultInstalled(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

async function nativeBackend(
  name: 'tfjs-node-gpu' | 'tfjs-node',
  opts: DoctorOptions,
  installed: (pkg: string) => boolean,
  loadedAlready: boolean,
): Promise<DoctorBackend> {
  const pkg = `@tensorflow/${name}`;
  const checks: DoctorCheck[] = [];
  const out = (usable: boolean, summary: string) => ({ name, usable, summary, checks });
  if (name === 'tfjs-node-gpu') {
    const cuda = opts.cuda ?? inspectCuda();
    checks.push(
      cuda.driver
        ? { what: 'NVIDIA driver', ok: true, detail: `kernel module ${cuda.driver}` }
        : {
            what: 'NVIDIA driver',
            ok: false,
            detail: 'no NVIDIA kernel driver loaded (/proc/driver/nvidia/version)',
            fix: 'install the NVIDIA driver (nvidia-smi must list the GPU); in Docker run with --gpus all',
          },
    );
    const toolkits = cuda.toolkits.map(
      (t) => `${t.root}${t.version ? ` (CUDA ${t.version})` : ''}`,
    );
    const libs = [...new Set(cuda.libraries.map((l) => l.file))].map(
      (f) => `${f} (${cuda.libraries.find((l) => l.file === f)!.path.replace(/\/[^/]*$/, '')})`,
    );
    const missing = missingForTfjsNodeGpu(cuda);
    checks.push({
      what: 'CUDA libraries',
      ok: missing.length === 0,
      detail:
        `${toolkits.length ? `toolkits ${toolkits.join(', ')}; ` : 'no toolkit in /usr/local/cuda*; '}` +
        `found ${libs.length ? libs.join(', ') : 'no libcudart/libcublas/libcudnn'}` +
        (missing.length
          ? `; tfjs-node-gpu 4.22 (libtensorflow 2.9.1) needs ${missing.join(', ')}`
          : ''),
      ...(missing.length ? { fix: CUDA11_FIX } : {}),
    });
  }
  if (!installed(pkg)) {
    checks.unshift({ what: 'package', ok: false, detail: 'not installed', fix: installHint(name) });
    return out(false, 'not installed');
  }
  checks.unshift({ what: 'package', ok: true, detail: `${pkg} installed` });
  if (loadedAlready) {
    checks.push({
      what: 'loads',
      ok: true,
      detail: "not loaded: tfjs-node-gpu's TensorFlow is already loaded in this process",
    });
    return out(false, 'tfjs-node-gpu loaded instead');
  }
  try {
    await (opts.loaders?.[name] ?? (() => import(/* @vite-ignore */ pkg)))();
    if (!(await tf.setBackend('tensorflow')))
      throw new Error('the tensorflow backend did not start');
  } catch (e) {
    checks.push({
      what: 'loads',
      ok: false,
      detail: msg(e),
      fix: `npm rebuild ${pkg}, or reinstall it`,
    });
    return out(false, 'fails to load');
  }
  const b = tf.backend() as { isUsingGpuDevice?: boolean };
  if (name === 'tfjs-node-gpu' && b.isUsingGpuDevice === false) {
    checks.push({
      what: 'loads',
      ok: false,
      detail: 'loads, but TensorFlow sees no CUDA GPU and would run on the CPU',
      fix: CUDA11_FIX,
    });
    return out(false, 'no CUDA GPU (TensorFlow on the CPU)');
  }
  checks.push({ what: 'loads', ok: true, detail: 'native TensorFlow starts' });
  return out(true, name === 'tfjs-node-gpu' ? 'CUDA GPU' : 'native TensorFlow on the CPU');
}

async function webGpuBackend(
  opts: DoctorOptions,
  installed: (pkg: string) => boolean,
): Promise<DoctorBackend> {
  const checks: DoctorCheck[] = [];
  const done = (usable: boolean, summary: string): DoctorBackend => ({
    name: 'webgpu',
    usable,
    summary,
    checks,
  });
  let inspect = opts.webgpu;
  if (!inspect) {
    if (!installed('@csq/trainer-webgpu')) {
      checks.push({
        what: 'package',
        ok: false,
        detail: 'not installed',
        fix: installHint('webgpu'),
      });
      return done(false, 'not installed');
    }
    const allowSoftware = opts.allowSoftwareAdapter;
    inspect = async () => {
      const entry = (await import(/* @vite-ignore */ '@csq/trainer-webgpu/node')) as {
        inspectNodeWebGpu(o: { allowSoftware?: boolean }): Promise<WebGpuInspection>;
      };
      return entry.inspectNodeWebGpu(allowSoftware === undefined ? {} : { allowSoftware });
    };
  }
  checks.push({ what: 'package', ok: true, detail: '@csq/trainer-webgpu installed' });
  let r: WebGpuInspection;
  try {
    r = await inspect();
  } catch (e) {
    checks.push({ what: 'Dawn', ok: false, detail: msg(e), fix: installHint('webgpu') });
    return done(false, 'fails to load');
  }
  const fix = r.problem?.message;
  if (r.vulkan) {
    checks.push(
      r.vulkan.loader
        ? { what: 'Vulkan loader', ok: true, detail: r.vulkan.loader }
        : {
            what: 'Vulkan loader',
            ok: false,
            detail: 'no libvulkan.so.1',
            fix: 'apt-get install libvulkan1',
          },
    );
    const icds = r.vulkan.icds.map(
      (i) =>
        `${i.path} (${[i.library, i.apiVersion && `Vulkan ${i.apiVersion}`, i.software && 'CPU driver', i.problem].filter(Boolean).join(', ')})`,
    );
    const hardware = r.vulkan.icds.some((i) => !i.software && !i.problem);
    checks.push({
      what: 'Vulkan drivers (ICDs)',
      ok: hardware,
      detail: icds.length
        ? icds.join('; ')
        : `none in ${r.vulkan.icdDirs.join(', ') || 'VK_ICD_FILENAMES'}`,
      ...(hardware || !fix ? {} : { fix }),
    });
  }
  checks.push(
    r.dawn.ok
      ? { what: 'Dawn (webgpu package)', ok: true, detail: 'loads' }
      : {
          what: 'Dawn (webgpu package)',
          ok: false,
          detail: r.dawn.problem ?? 'does not load',
          fix: 'npm install webgpu',
        },
  );
  const names = r.adapters.map(
    (a) =>
      [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') +
      (a.software ? ' (software)' : ''),
  );
  checks.push({
    what: 'WebGPU adapters',
    ok: r.chosen !== undefined,
    detail: names.length ? names.join('; ') : 'none',
    ...(r.chosen || !fix ? {} : { fix }),
  });
  // the problem's full message (with its fix) goes on the first check that failed, once
  const firstFailed = checks.find((c) => !c.ok);
  for (const c of checks) if (c !== firstFailed && c.fix === fix) delete c.fix;
  if (firstFailed && fix) firstFailed.fix = fix;
  if (r.chosen) return done(true, r.chosen.software ? 'software adapter (allowed)' : 'GPU adapter');
  return done(false, r.problem?.short ?? 'no adapter');
}

async function wasmBackend(): Promise<DoctorBackend> {
  const checks: DoctorCheck[] = [];
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  } catch (e) {
    checks.push({ what: 'loads', ok: false, detail: msg(e), fix: installHint('wasm') });
    return { name: 'wasm', usable: false, summary: 'fails to load', checks };
  }
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  checks.push({ what: 'loads', ok: true, detail: 'tfjs-backend-wasm starts' });
  checks.push({
    what: 'SIMD',
    ok: simd,
    detail: simd ? 'on' : 'off',
    ...(simd ? {} : { fix: 'use Node.js 16.4 or newer (WebAssembly SIMD)' }),
  });
  checks.push({
    what: 'threads',
    ok: true, // optional: one thread per process is how csq uses wasm in Node
    detail: threads
      ? 'on'
      : 'off (one thread; csq trains the float baseline in a second thread instead)',
  });
  return { name: 'wasm', usable: true, summary: `SIMD ${simd ? 'on' : 'off'}`, checks };
}

/**
 * Checks every backend csq can train on in Node and says why each one that cannot be used is
 * not, with the fix. Loads the native packages that are installed (so it may switch the active
 * tfjs backend); creates no GPU device.
 */
export async function doctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const installed = opts.installed ?? defaultInstalled;
  const gpuPkg = await nativeBackend('tfjs-node-gpu', opts, installed, false);
  const gpuLoaded = tf.findBackendFactory('tensorflow') != null; // one TensorFlow per process
  const backends: DoctorBackend[] = [
    gpuPkg,
    await webGpuBackend(opts, installed),
    await nativeBackend('tfjs-node', opts, installed, gpuLoaded),
    await wasmBackend(),
    {
      name: 'cpu',
      usable: true,
      summary: 'plain JavaScript (slowest)',
      checks: [{ what: 'loads', ok: true, detail: `@tensorflow/tfjs ${tf.version.tfjs}` }],
    },
  ];
  // what --backend auto takes: never a software WebGPU adapter
  const autoTakes = (b: DoctorBackend | undefined) =>
    b?.usable === true && !(b.name === 'webgpu' && b.summary !== 'GPU adapter');
  const best = NODE_BACKENDS.find((n) => autoTakes(backends.find((b) => b.name === n)));
  const webgpu = backends[1]!;
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    tfjsVersion: tf.version.tfjs,
    backends,
    ...(best ? { best } : {}),
    ok: best !== undefined,
    gpu: gpuPkg.usable || (webgpu.usable && webgpu.summary === 'GPU adapter'),
  };
}

/** The report as text: one line per backend; with `verbose`, every check and fix under it. */
export function formatDoctorReport(r: DoctorReport, opts: { verbose?: boolean } = {}): string {
  const lines = [`csq doctor: Node ${r.node}, ${r.platform}, @tensorflow/tfjs ${r.tfjsVersion}`];
  for (const b of r.backends) {
    lines.push(`  ${b.usable ? 'yes' : 'no '}  ${b.name.padEnd(14)} ${b.summary}`);
    for (const c of b.checks) {
      if (!opts.verbose && (c.ok || !b.checks.some((x) => !x.ok))) continue;
      lines.push(`         ${c.ok ? 'ok ' : 'no '} ${c.what}: ${c.detail}`);
      if (!c.ok && c.fix) lines.push(`             fix: ${c.fix}`);
    }
  }
  lines.push(
    r.best
      ? `csq trains on ${r.best} here (--backend auto)${r.gpu ? '' : '; no GPU backend works'}.`
      : 'No backend works here.',
  );
  return `${lines.join('\n')}\n`;
}
