/**
 * A description of the machine a run trained on, stored with every result: CPU model and cores,
 * memory, GPUs (from nvidia-smi when present), OS, Node.js and the tfjs backend in use.
 */
import { execFileSync } from 'node:child_process';
import { arch, availableParallelism, cpus, platform, release, totalmem } from 'node:os';
import { describeBackend } from './train-job.js';

/** What a result records about its machine. */
export interface MachineInfo {
  /** CPU model as the OS reports it. */
  cpu: string;
  /** Logical cores available to the process. */
  cores: number;
  /** Total memory in GiB (one decimal). */
  memoryGiB: number;
  /** GPUs listed by nvidia-smi ("name, memory"), empty when there is none or no driver. */
  gpus: string[];
  /** Platform, architecture and kernel release. */
  os: string;
  /** Node.js version. */
  node: string;
  /** csq backend name the run used (tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu). */
  backend: string;
  /** One line from @csq/trainer-node's describeBackend (e.g. "on a CUDA GPU", wasm SIMD). */
  backendDetail: string;
}

/** GPUs from `nvidia-smi` (empty without an NVIDIA driver). */
export function listGpus(): string[] {
  try {
    const out = execFileSync(
      'nvidia-smi',
      ['--query-gpu=name,memory.total', '--format=csv,noheader'],
      { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Describes this machine and the active tfjs backend (call right after training). */
export async function describeMachine(backend: string): Promise<MachineInfo> {
  let backendDetail: string;
  try {
    backendDetail = (await describeBackend()).text;
  } catch (e) {
    backendDetail = `unknown (${(e as Error).message})`;
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    gpus: listGpus(),
    os: `${platform()} ${arch()} ${release()}`,
    node: process.version,
    backend,
    backendDetail,
  };
}

/** A short label for tables: the GPU when the backend used one, else cores x CPU model. */
export function machineLabel(m: MachineInfo): string {
  const onGpu =
    /CUDA GPU/.test(m.backendDetail) ||
    (m.backend === 'webgpu' && !/swiftshader|llvmpipe|lavapipe/i.test(m.backendDetail));
  if (onGpu && m.gpus.length > 0) return m.gpus[0]!.split(',')[0]!.trim();
  const cpu = m.cpu
    .replace(/\s+/g, ' ')
    .replace(/\(R\)|\(TM\)|CPU|Processor/gi, '')
    .trim();
  return `${m.cores}x ${cpu}`.replace(/\s+/g, ' ');
}
