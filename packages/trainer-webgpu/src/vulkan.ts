/**
 * What Vulkan on this Linux machine offers Dawn (Node only, no csq imports): the loader
 * (`libvulkan.so.1`) and the driver manifests (ICDs) it would read. Dawn runs WebGPU on Vulkan
 * on Linux, so an adapter needs both; knowing which is missing turns "no adapter" into a fix.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** One Vulkan driver manifest (ICD json). */
export interface VulkanIcd {
  /** The manifest file. */
  path: string;
  /** Where it was found: named by VK_ICD_FILENAMES / VK_DRIVER_FILES, or a system folder. */
  source: 'env' | 'system';
  /** The driver library it names (`ICD.library_path`), or '' when unreadable. */
  library: string;
  /** `ICD.api_version`, or '' when absent. */
  apiVersion: string;
  /** A CPU implementation (SwiftShader, lavapipe/llvmpipe): WebGPU on it is a software adapter. */
  software: boolean;
  /** Why the manifest cannot be used (unreadable, not json, no ICD.library_path). */
  problem?: string;
}

/** What {@link inspectVulkan} found. */
export interface VulkanReport {
  /** The Vulkan loader libvulkan.so.1 the process can load, or undefined (then no adapter). */
  loader?: string;
  /** The driver manifests the loader reads, env-named ones only when VK_ICD_FILENAMES is set. */
  icds: VulkanIcd[];
  /** The folders searched for manifests (empty when the environment names them). */
  icdDirs: string[];
}

/** Options of {@link inspectVulkan}; the defaults read this machine. */
export interface InspectVulkanOptions {
  env?: NodeJS.ProcessEnv;
  /** Manifest folders (default: VULKAN_ICD_DIRS). */
  icdDirs?: string[];
  /** Library folders searched for libvulkan.so.1 after LD_LIBRARY_PATH and ld.so.cache. */
  libDirs?: string[];
  /** `ldconfig -p` output (default: run it; '' when it cannot run). */
  ldconfig?: string;
}

/** The folders the Vulkan loader reads driver manifests from on Linux, in its order. */
export const VULKAN_ICD_DIRS = [
  '/etc/vulkan/icd.d',
  '/usr/local/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/share/vulkan/icd.d',
];

/** System library folders (besides LD_LIBRARY_PATH and ld.so.cache). */
export const LIB_DIRS = [
  '/lib/x86_64-linux-gnu',
  '/usr/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/lib64',
  '/usr/lib64',
  '/lib',
  '/usr/lib',
  '/usr/local/lib',
];

const SOFTWARE_ICD = /swiftshader|lvp|lavapipe|llvmpipe|softpipe/i;

/** `ldconfig -p` (the dynamic loader's cache), or '' where it cannot run. */
export function readLdconfig(): string {
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(bin, ['-p'], { encoding: 'utf8', timeout: 5000, stdio: 'pipe' });
    } catch {
      // try the next place ldconfig lives
    }
  }
  return '';
}

/** Paths of `name` (e.g. libvulkan.so.1) listed in `ldconfig -p` output. */
export function ldconfigPaths(ldconfig: string, name: string): string[] {
  const out: string[] = [];
  for (const line of ldconfig.split('\n')) {
    const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m && m[1] === name) out.push(m[2]!);
  }
  return out;
}

function readIcd(path: string, source: 'env' | 'system'): VulkanIcd {
  const base = { path, source, library: '', apiVersion: '', software: SOFTWARE_ICD.test(path) };
  let json: { ICD?: { library_path?: unknown; api_version?: unknown } };
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return { ...base, problem: existsSync(path) ? 'not valid JSON' : 'no such file' };
  }
  const library = typeof json.ICD?.library_path === 'string' ? json.ICD.library_path : '';
  const apiVersion = typeof json.ICD?.api_version === 'string' ? json.ICD.api_version : '';
  return {
    ...base,
    library,
    apiVersion,
    software: base.software || SOFTWARE_ICD.test(library),
    ...(library ? {} : { problem: 'no ICD.library_path in it' }),
  };
}

/**
 * The Vulkan loader and driver manifests this process would use (Linux): VK_ICD_FILENAMES or
 * VK_DRIVER_FILES when set (as the loader does), else every `*.json` in VULKAN_ICD_DIRS; the
 * loader from LD_LIBRARY_PATH (as it was when Node started), ld.so.cache, then LIB_DIRS.
 */
export function inspectVulkan(opts: InspectVulkanOptions = {}): VulkanReport {
  const env = opts.env ?? process.env;
  const named = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES;
  let icds: VulkanIcd[];
  let icdDirs: string[] = [];
  if (named) {
    icds = named
      .split(delimiter)
      .filter(Boolean)
      .flatMap((p) => {
        // an entry may be a folder of manifests
        if (existsSync(p) && !p.endsWith('.json')) {
          return readdirSync(p)
            .filter((f) => f.endsWith('.json'))
            .map((f) => readIcd(join(p, f), 'env'));
        }
        return [readIcd(p, 'env')];
      });
  } else {
    icdDirs = opts.icdDirs ?? VULKAN_ICD_DIRS;
    icds = icdDirs.flatMap((d) => {
      let files: string[] = [];
      try {
        files = readdirSync(d).filter((f) => f.endsWith('.json'));
      } catch {
        // folder absent
      }
      return files.sort().map((f) => readIcd(join(d, f), 'system'));
    });
  }
  const fromEnv = (env.LD_LIBRARY_PATH ?? '').split(delimiter).filter((d) => isAbsolute(d));
  const candidates = [
    ...fromEnv.map((d) => join(d, 'libvulkan.so.1')),
    ...ldconfigPaths(opts.ldconfig ?? readLdconfig(), 'libvulkan.so.1'),
    ...(opts.libDirs ?? LIB_DIRS).map((d) => join(d, 'libvulkan.so.1')),
  ];
  const loader = candidates.find((p) => existsSync(p));
  return { ...(loader ? { loader } : {}), icds, icdDirs };
}

/** Short text for a manifest, e.g. "nvidia_icd.json (libGLX_nvidia.so.0, Vulkan 1.3.277)". */
export function icdSummary(icd: VulkanIcd): string {
  const file = icd.path.split('/').pop() ?? icd.path;
  const bits = [icd.library, icd.apiVersion ? `Vulkan ${icd.apiVersion}` : '', icd.problem ?? '']
    .filter(Boolean)
    .join(', ');
  return bits ? `${file} (${bits})` : file;
}
