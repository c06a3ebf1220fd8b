/**
 * `csq train --backend webgpu` end to end through the built binary, on SwiftShader's Vulkan
 * driver when the machine has no GPU (tiny: 16 images of 8x8, one epoch). A child process,
 * because the Vulkan loader's LD_LIBRARY_PATH must be set before Node starts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeIdxDataset } from '@csq/test-utils/data-files';
import { swiftShaderEnv } from '@csq/trainer-webgpu/node';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, 'bin', 'csq.mjs');
const built = existsSync(join(pkg, 'dist', 'main.js'));
const gpuEnv = swiftShaderEnv();
const skip = !built
  ? 'dist/ is missing (run pnpm build; turbo builds it before test)'
  : !gpuEnv && !process.env.VK_ICD_FILENAMES
    ? 'no SwiftShader Vulkan driver (apt-get install chromium) and no VK_ICD_FILENAMES'
    : undefined;
if (skip) console.warn(`[@csq/cli] SKIPPED csq train --backend webgpu: ${skip}`);

const root = tempDir('csq-cli-webgpu-');
const data = join(root, 'idx');
writeIdxDataset(data, { train: 16, test: 8, rows: 8, cols: 8 });

function train(backend: string, out: string, env: Record<string, string> = {}) {
  const args = ['train', '--recipe', 'quickstart', '--data', `idx:${data}`, '--epochs', '1'];
  return spawnSync(
    process.execPath,
    [bin, ...args, '--batch', '8', '--backend', backend, '--out', out],
    { encoding: 'utf8', timeout: 240_000, env: { ...process.env, ...gpuEnv, ...env } },
  );
}

function firstLoss(out: string): number {
  return JSON.parse(readFileSync(join(out, 'metrics.jsonl'), 'utf8').split('\n')[0]!).loss;
}

describe.skipIf(skip !== undefined)('csq train --backend webgpu (Dawn, SwiftShader here)', () => {
  it('refuses a software adapter unless CSQ_WEBGPU_ALLOW_SOFTWARE=1, saying how', () => {
    const r = train('webgpu', join(root, 'refused'), { CSQ_WEBGPU_ALLOW_SOFTWARE: '' });
    if (!/swiftshader/i.test(`${process.env.VK_ICD_FILENAMES ?? gpuEnv?.VK_ICD_FILENAMES}`)) return;
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^csq train: backend "webgpu" is not available: .*run on the CPU/);
    expect(r.stderr).toContain('CSQ_WEBGPU_ALLOW_SOFTWARE=1');
    expect(r.stderr).toMatch(/Available here: wasm, cpu\./);
  });

  it('--backend auto never takes a software adapter, even with CSQ_WEBGPU_ALLOW_SOFTWARE=1', () => {
    const r = train('auto', join(root, 'auto'), { CSQ_WEBGPU_ALLOW_SOFTWARE: '1' });
    if (!/swiftshader/i.test(`${process.env.VK_ICD_FILENAMES ?? gpuEnv?.VK_ICD_FILENAMES}`)) return;
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^csq: using wasm .*; not used: .*webgpu \(software [^)]*\)/m);
  }, 120_000);

  it('trains one epoch on WebGPU with the same numbers as on wasm', () => {
    const out = join(root, 'webgpu');
    const r = train('webgpu', out, { CSQ_WEBGPU_ALLOW_SOFTWARE: '1' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^csq: using webgpu \(WebGPU \(Dawn\) on .+\)$/m);
    expect(r.stdout).toMatch(/\[csq\] epoch 1\/1 \| search/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ backend: 'webgpu', epochs: 1 });
    expect(existsSync(join(out, 'model', 'model.json'))).toBe(true);

    const ref = join(root, 'wasm');
    expect(train('wasm', ref).status).toBe(0);
    expect(Math.abs(firstLoss(out) - firstLoss(ref))).toBeLessThan(1e-3);
    expect(summary.softAccuracy).toBe(
      JSON.parse(readFileSync(join(ref, 'summary.json'), 'utf8')).softAccuracy,
    );
  }, 300_000);
});
