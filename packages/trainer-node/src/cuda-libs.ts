/**
 * The NVIDIA pieces tfjs-node-gpu needs, as found on this machine (Linux): the driver, CUDA
 * toolkits under /usr/local/cuda*, and the CUDA runtime, cuBLAS and cuDNN libraries on the
 * library path, with their versions. For `doctor`; nothing here loads a library.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** The libraries libtensorflow 2.9.1 (tfjs-node-gpu 4.22) opens, by the soname it asks for. */
export const TFJS_NODE_GPU_NEEDS = {
  cudart: 'libcudart.so.11.0',
  cublas: 'libcublas.so.11',
  cudnn: 'libcudnn.so.8',
} as const;

/** One CUDA library file found. */
export interface CudaLibrary {
  /** cudart, cublas or cudnn. */
  lib: keyof typeof TFJS_NODE_GPU_NEEDS;
  /** The file name, e.g. libcudart.so.13 or libcudnn.so.8.9.7. */
  file: string;
  path: string;
  /** The version in the file name, e.g. "13" or "8.9.7". */
  version: string;
}

/** What {@link inspectCuda} found. */
export interface CudaReport {
  /** The loaded NVIDIA kernel driver's version (from /proc/driver/nvidia/version), if any. */
  driver?: string;
  /** CUDA toolkits: /usr/local/cuda* folders and their version (version.json / version.txt). */
  toolkits: { root: string; version?: string }[];
  libraries: CudaLibrary[];
  /** The folders searched (LD_LIBRARY_PATH, the toolkits' lib folders, system folders). */
  searched: string[];
}

/** Options of {@link inspectCuda}; the defaults read this machine. */
export interface InspectCudaOptions {
  env?: NodeJS.ProcessEnv;
  /** Toolkit folders (default: every /usr/local/cuda*). */
  roots?: string[];
  /** System library folders. */
  libDirs?: string[];
  /** `ldconfig -p` output (default: run it). */
  ldconfig?: string;
  /** The driver version file (default /proc/driver/nvidia/version). */
  driverFile?: string;
}

const SYSTEM_LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
];

const LIB_FILE = /^lib(cudart|cublas|cudnn)\.so\.(\d+(?:\.\d+)*)$/;

function ldconfigText(): string {
  for (const bin of ['/sbin/ldconfig', '/usr/sbin/ldconfig', 'ldconfig']) {
    try {
      return execFileSync(bin, ['-p'], { encoding: 'utf8', timeout: 5000, stdio: 'pipe' });
    } catch {
      // try the next place ldconfig lives
    }
  }
  return '';
}

function toolkitVersion(root: string): string | undefined {
  try {
    const json = JSON.parse(readFileSync(join(root, 'version.json'), 'utf8'));
    if (typeof json?.cuda?.version === 'string') return json.cuda.version;
  } catch {
    // older toolkits have version.txt
  }
  try {
    return /CUDA Version (\S+)/.exec(readFileSync(join(root, 'version.txt'), 'utf8'))![1];
  } catch {
    // pip-style installs have neither: the runtime header says it (13000 = 13.0)
  }
  try {
    const h = readFileSync(join(root, 'include/cuda_runtime_api.h'), 'utf8');
    const v = Number(/#define CUDART_VERSION\s+(\d+)/.exec(h)?.[1]);
    return v ? `${Math.floor(v / 1000)}.${(v % 1000) / 10}` : undefined;
  } catch {
    return undefined;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Finds the NVIDIA driver, CUDA toolkits and the cudart/cuBLAS/cuDNN libraries this process
 * could load: in LD_LIBRARY_PATH, the toolkits' lib64/lib folders, ld.so.cache and the system
 * library folders.
 */
export function inspectCuda(opts: InspectCudaOptions = {}): CudaReport {
  const env = opts.env ?? process.env;
  const roots =
    opts.roots ??
    listDir('/usr/local')
      .filter((d) => /^cuda(-[\d.]+)?$/.test(d))
      .map((d) => join('/usr/local', d));
  const seenRoots = new Set<string>(); // /usr/local/cuda is usually a link to cuda-X.Y
  const toolkits = roots
    .filter((r) => existsSync(r) && !seenRoots.has(real(r)) && Boolean(seenRoots.add(real(r))))
    .map((root) => {
      const version = toolkitVersion(root);
      return version ? { root, version } : { root };
    });
  const searched = [
    ...(env.LD_LIBRARY_PATH ?? '').split(delimiter).filter((d) => isAbsolute(d)),
    ...roots.flatMap((r) => [
      join(r, 'lib64'),
      join(r, 'lib'),
      join(r, 'targets/x86_64-linux/lib'),
    ]),
    ...(opts.libDirs ?? SYSTEM_LIB_DIRS),
  ];
  const found = new Map<string, CudaLibrary>(); // by the file's real path: symlinks once
  const add = (file: string, path: string) => {
    const m = LIB_FILE.exec(file);
    const key = `${file} ${real(path)}`;
    if (m && !found.has(key)) {
      found.set(key, { lib: m[1] as CudaLibrary['lib'], file, path, version: m[2]! });
    }
  };
  for (const dir of searched) for (const f of listDir(dir)) add(f, join(dir, f));
  for (const line of (opts.ldconfig ?? ldconfigText()).split('\n')) {
    const m = /^\s*(\S+)\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m) add(m[1]!, m[2]!);
  }
  let driver: string | undefined;
  try {
    const text = readFileSync(opts.driverFile ?? '/proc/driver/nvidia/version', 'utf8');
    driver = /Kernel Module(?: for \S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
  } catch {
    // no NVIDIA kernel driver loaded
  }
  return {
    ...(driver ? { driver } : {}),
    toolkits,
    libraries: [...found.values()],
    searched,
  };
}

/** The sonames tfjs-node-gpu needs that are missing from `report`. */
export function missingForTfjsNodeGpu(report: CudaReport): string[] {
  const files = new Set(report.libraries.map((l) => l.file));
  const has = (soname: string) =>
    files.has(soname) || report.libraries.some((l) => l.file.startsWith(`${soname}.`));
  return Object.values(TFJS_NODE_GPU_NEEDS).filter((s) => !has(s));
}

/** The command that installs the CUDA 11 / cuDNN 8 libraries tfjs-node-gpu needs beside others. */
export const CUDA11_FIX =
  'python3 -m pip install --target ~/.local/cuda11 nvidia-cuda-runtime-cu11 nvidia-cublas-cu11 ' +
  'nvidia-cufft-cu11 nvidia-curand-cu11 nvidia-cusolver-cu11 nvidia-cusparse-cu11 ' +
  '"nvidia-cudnn-cu11==8.*" && export LD_LIBRARY_PATH=$(ls -d ~/.local/cuda11/nvidia/*/lib | ' +
  "paste -sd:):$LD_LIBRARY_PATH (CUDA 11 and cuDNN 8 beside a newer CUDA; or use --backend webgpu, which needs only the driver's Vulkan part)";
