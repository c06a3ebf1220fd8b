/**
 * WebGPU as one of the backends `@csq/trainer-node` picks from (Node, Dawn): sets the backend
 * up on a hardware adapter only, unless a software one (SwiftShader, lavapipe) is allowed, and
 * says in a few words why not; plus the WebGPU part of `csq doctor`.
 */
import { CsqError } from '@csq/core';
import type { GpuLike } from './gpu-types.js';
import { adapterSummary, describeAdapter, type WebGpuAdapterReport } from './init.js';
import { icdSummary, inspectVulkan, type VulkanReport } from './vulkan.js';

/** The environment variable that lets the backend choice take a software adapter. */
export const ALLOW_SOFTWARE_ENV = 'CSQ_WEBGPU_ALLOW_SOFTWARE';

/** A CsqError with a few words (`short`) for one-line backend messages. */
export class WebGpuUnavailableError extends CsqError {
  /** E.g. "no Vulkan driver (ICD)" or "software adapter only (google swiftshader)". */
  readonly short: string;
  constructor(code: string, short: string, message: string) {
    super(code, message);
    this.short = short;
  }
}

/** True when `CSQ_WEBGPU_ALLOW_SOFTWARE` is 1/true/yes. */
export function softwareAllowedByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env[ALLOW_SOFTWARE_ENV] ?? '');
}

const NVIDIA_VULKAN_FIX =
  'NVIDIA GPUs: the driver ships its Vulkan part as /usr/share/vulkan/icd.d/nvidia_icd.json ' +
  '(Debian/Ubuntu: apt-get install libnvidia-gl-<driver version>, or the full driver ' +
  'installer; in Docker run with NVIDIA_DRIVER_CAPABILITIES=all or a value that includes ' +
  '"graphics"); other GPUs: mesa-vulkan-drivers';

const SOFTWARE_FIX =
  `To use it anyway (tests; about 10 to 100 times slower than wasm) set ${ALLOW_SOFTWARE_ENV}=1 ` +
  'or pass allowSoftware.';

/**
 * Checks a Vulkan report (Linux) before Dawn is loaded: a missing loader or driver is
 * known without it (and Dawn would print a warning). Undefined when an adapter may exist.
 */
export function vulkanProblem(
  vulkan: VulkanReport,
  allowSoftware: boolean,
): WebGpuUnavailableError | undefined {
  if (!vulkan.loader) {
    return new WebGpuUnavailableError(
      'CSQ_NO_GPU_ADAPTER',
      'no Vulkan loader (libvulkan.so.1)',
      'WebGPU in Node runs on Vulkan (Dawn), and no Vulkan loader libvulkan.so.1 is on the ' +
        'library path. Install it (Debian/Ubuntu: apt-get install libvulkan1; Fedora: dnf ' +
        'install vulkan-loader), or start node with LD_LIBRARY_PATH set to a folder that has it.',
    );
  }
  const usable = vulkan.icds.filter((i) => !i.problem);
  if (usable.length === 0) {
    const where = vulkan.icdDirs.length
      ? `in ${vulkan.icdDirs.join(', ')}`
      : `named by VK_ICD_FILENAMES (${vulkan.icds.map(icdSummary).join('; ') || 'nothing'})`;
    return new WebGpuUnavailableError(
      'CSQ_NO_GPU_ADAPTER',
      'no Vulkan driver (ICD)',
      `no usable Vulkan driver manifest (ICD json) ${where}, so Dawn finds no GPU. ${NVIDIA_VULKAN_FIX}.`,
    );
  }
  if (!allowSoftware && usable.every((i) => i.software)) {
    return new WebGpuUnavailableError(
      'CSQ_WEBGPU_SOFTWARE_ADAPTER',
      `software Vulkan driver only (${usable.map(icdSummary).join(', ')})`,
      `the only Vulkan drivers here run on the CPU (${usable.map(icdSummary).join(', ')}). ` +
        `${NVIDIA_VULKAN_FIX}. ${SOFTWARE_FIX}`,
    );
  }
  return undefined;
}

/** Short adapter name, e.g. "nvidia hopper NVIDIA H100 80GB HBM3". */
export function adapterName(report: WebGpuAdapterReport): string {
  return adapterSummary(report, '')
    .replace(/^webgpu \(\): /, '')
    .replace(/, software( fallback)? adapter$/, '');
}

/**
 * The refusal for a software adapter when software is not allowed, or undefined: the backend
 * choice never trains on a CPU implementation of WebGPU unless asked to.
 */
export function softwareAdapterProblem(
  report: WebGpuAdapterReport,
  allowSoftware: boolean,
): WebGpuUnavailableError | undefined {
  if (!report.software || allowSoftware) return undefined;
  const name = adapterName(report);
  return new WebGpuUnavailableError(
    'CSQ_WEBGPU_SOFTWARE_ADAPTER',
    `software adapter only (${name})`,
    `the only WebGPU adapter is a software one (${name}${report.isFallbackAdapter ? ', fallback adapter' : ''}): ` +
      `Vulkan found no GPU driver. ${NVIDIA_VULKAN_FIX}. ${SOFTWARE_FIX}`,
  );
}

/** Gives a CsqError from initWebGpu a short reason for backend messages. */
export function withShortReason(e: unknown): unknown {
  if (e instanceof WebGpuUnavailableError || !(e instanceof CsqError)) return e;
  const short: Record<string, string> = {
    CSQ_NO_WEBGPU_PACKAGE: 'the webgpu package (Dawn) does not load',
    CSQ_NO_GPU_ADAPTER: 'Dawn found no adapter',
    CSQ_WEBGPU_DEVICE_FAILED: 'the adapter refused a device',
    CSQ_WEBGPU_BACKEND_FAILED: 'the tfjs WebGPU backend did not start',
    CSQ_BAD_PATH: 'bad Vulkan driver path',
  };
  return new WebGpuUnavailableError(e.code, short[e.code] ?? e.code, e.message);
}

/** A Dawn module as the `webgpu` package exports it. */
export interface DawnModule {
  create(flags: string[]): GpuLike;
}

/** The WebGPU part of `csq doctor`: Vulkan, Dawn and the adapters it offers. */
export interface NodeWebGpuReport {
  /** Linux only (undefined elsewhere: Dawn uses Metal or D3D12). */
  vulkan?: VulkanReport;
  /** Whether the `webgpu` package (Dawn) loads, and why not. */
  dawn: { ok: boolean; problem?: string };
  /** The distinct adapters Dawn offers (high-performance, low-power and fallback requests). */
  adapters: WebGpuAdapterReport[];
  /** The adapter the backend choice would take, or undefined. */
  chosen?: WebGpuAdapterReport;
  /** Why WebGPU cannot be used here (undefined when `chosen` is set). */
  problem?: WebGpuUnavailableError;
}

/** Options of {@link inspectNodeWebGpu}. */
export interface InspectNodeWebGpuOptions {
  allowSoftware?: boolean;
  /** Replaces the Vulkan inspection (tests); null skips it (not Linux). */
  vulkan?: VulkanReport | null;
  /** Replaces `import('webgpu')` (tests). */
  loadDawn?: () => Promise<DawnModule>;
}

async function importDawn(): Promise<DawnModule> {
  const mod = (await import('webgpu')) as unknown as DawnModule & { default?: DawnModule };
  const m = typeof mod.create === 'function' ? mod : mod.default;
  if (!m || typeof m.create !== 'function') throw new Error('the webgpu package has no create()');
  return m;
}

/**
 * What WebGPU in this Node process could run on, without setting a backend up: the Vulkan
 * loader and drivers (Linux), whether Dawn loads, and every adapter it offers (no device is
 * created, so nothing stays alive). `chosen` is the adapter `--backend webgpu` would train on.
 */
export async function inspectNodeWebGpu(
  opts: InspectNodeWebGpuOptions = {},
): Promise<NodeWebGpuReport> {
  const allowSoftware = opts.allowSoftware ?? softwareAllowedByEnv();
  const vulkan =
    opts.vulkan === undefined
      ? process.platform === 'linux'
        ? inspectVulkan()
        : undefined
      : (opts.vulkan ?? undefined);
  const out: NodeWebGpuReport = {
    ...(vulkan ? { vulkan } : {}),
    dawn: { ok: false },
    adapters: [],
  };
  let dawn: DawnModule;
  try {
    dawn = await (opts.loadDawn ?? importDawn)();
    out.dawn = { ok: true };
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    out.dawn = { ok: false, problem: why };
    out.problem = new WebGpuUnavailableError(
      'CSQ_NO_WEBGPU_PACKAGE',
      'the webgpu package (Dawn) does not load',
      `the "webgpu" package (Dawn for Node) does not load (${why}); npm install webgpu.`,
    );
    return out;
  }
  const early = vulkan ? vulkanProblem(vulkan, true) : undefined;
  if (early) {
    out.problem = early; // no loader or no driver: Dawn cannot offer anything
    return out;
  }
  const gpu = dawn.create([]);
  const seen = new Set<string>();
  for (const request of [
    { powerPreference: 'high-performance' as const },
    { powerPreference: 'low-power' as const },
    { forceFallbackAdapter: true },
  ]) {
    const adapter = await gpu.requestAdapter(request).catch(() => null);
    if (!adapter) continue;
    const report = await describeAdapter(adapter);
    const key = adapterSummary(report, '');
    if (seen.has(key)) continue;
    seen.add(key);
    out.adapters.push(report);
  }
  const hardware = out.adapters.find((a) => !a.software);
  const chosen = hardware ?? (allowSoftware ? out.adapters[0] : undefined);
  if (chosen) out.chosen = chosen;
  else if (out.adapters[0]) out.problem = softwareAdapterProblem(out.adapters[0], false);
  else {
    const icds = vulkan?.icds.map(icdSummary).join(', ');
    out.problem = new WebGpuUnavailableError(
      'CSQ_NO_GPU_ADAPTER',
      'Dawn found no adapter',
      `Dawn found no WebGPU adapter${icds ? ` although Vulkan drivers are installed (${icds})` : ''}. ` +
        'Check that the GPU driver is loaded (nvidia-smi) and that its Vulkan driver matches it ' +
        `(vulkaninfo --summary lists the devices Vulkan sees). ${NVIDIA_VULKAN_FIX}.`,
    );
  }
  return out;
}
