/**
 * Where a SwiftShader Vulkan driver is (Node only, no csq imports: the vitest config uses it).
 * SwiftShader is a CPU implementation of Vulkan that Chrome and Chromium ship; through it Dawn
 * offers a WebGPU adapter on machines without a GPU.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LIB_DIRS } from './vulkan.js';

/** Where a SwiftShader Vulkan driver was found. */
export interface SwiftShaderInstall {
  /** The driver manifest, for `VK_ICD_FILENAMES`. */
  icd: string;
  /** Its folder; holds a Vulkan loader (libvulkan.so.1) too in Chrome/Chromium builds. */
  dir: string;
  /** `dir/libvulkan.so.1` when present. */
  loader?: string;
}

/** Folders where Chrome/Chromium builds keep vk_swiftshader_icd.json. */
export const SWIFTSHADER_DIRS = [
  '/usr/lib/chromium', // Debian, Ubuntu (deb) chromium
  '/usr/lib/chromium-browser',
  '/usr/lib64/chromium-browser', // Fedora
  '/opt/google/chrome', // Google Chrome
  '/opt/google/chrome-beta',
  '/opt/chromium',
];

/**
 * Finds the SwiftShader Vulkan driver a Chrome/Chromium install ships (a CPU implementation of
 * Vulkan through which Dawn offers a WebGPU adapter on machines without a GPU). Looks in
 * `$CSQ_SWIFTSHADER_DIR` first, then the usual install folders. Undefined when there is none.
 */
export function findSwiftShader(): SwiftShaderInstall | undefined {
  const dirs = [process.env.CSQ_SWIFTSHADER_DIR, ...SWIFTSHADER_DIRS].filter(
    (d): d is string => typeof d === 'string' && d.length > 0,
  );
  for (const dir of dirs) {
    const icd = join(dir, 'vk_swiftshader_icd.json');
    if (!existsSync(icd)) continue;
    const loader = join(dir, 'libvulkan.so.1');
    return { icd, dir, ...(existsSync(loader) ? { loader } : {}) };
  }
  return undefined;
}

/**
 * Whether a Vulkan loader (`libvulkan.so.1`) is on this process's library path: the system
 * folders or `LD_LIBRARY_PATH` as it was when Node started (the dynamic loader reads it once,
 * so setting it later from JavaScript has no effect). Always true off Linux.
 */
export function hasVulkanLoader(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean), ...LIB_DIRS];
  return dirs.some((d) => existsSync(join(d, 'libvulkan.so.1')));
}

/**
 * Environment variables that give a child Node process a WebGPU adapter through SwiftShader:
 * `VK_ICD_FILENAMES` (unless already set) and, when the system has no Vulkan loader,
 * `LD_LIBRARY_PATH` with the Chromium folder first. Undefined when no SwiftShader is installed.
 * Use it for `child_process.spawn(..., { env: { ...process.env, ...swiftShaderEnv() } })` or a
 * test runner's worker environment.
 */
export function swiftShaderEnv(
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> | undefined {
  const found = findSwiftShader();
  if (!found) return undefined;
  const out: Record<string, string> = {};
  if (!env.VK_ICD_FILENAMES) out.VK_ICD_FILENAMES = found.icd;
  if (!hasVulkanLoader(env) && found.loader) {
    out.LD_LIBRARY_PATH = [found.dir, env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter);
  }
  return out;
}
