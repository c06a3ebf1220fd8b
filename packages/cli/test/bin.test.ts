import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(pkg, 'bin', 'csq.mjs');
const built = existsSync(join(pkg, 'dist', 'main.js'));
if (!built)
  console.warn(
    '[@csq/cli] SKIPPED the built-binary test: dist/ is missing (run pnpm build; turbo builds it before test)',
  );

describe.skipIf(!built)('the built csq binary', () => {
  it('trains the baseline in a worker thread next to the CSQ run', () => {
    const out = join(tempDir('csq-bin-'), 'run');
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'train',
        '--recipe',
        'quickstart',
        '--epochs',
        '1',
        '--limit-train',
        '64',
        '--batch',
        '32',
        '--baseline',
        '--backend',
        'wasm',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 240_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('training the float baseline in a second thread');
    expect(r.stdout).toMatch(/\[float\] epoch 1\/1 \| float/);
    expect(r.stdout).toMatch(/\[csq\] epoch 1\/1 \| search/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(typeof summary.floatAccuracy).toBe('number');
    const version = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toContain('csq train --recipe NAME');
  }, 300_000);
});
