import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES } from './packages.js';
import { packAll, packagesDir, run } from './packing.js';

const work = mkdtempSync(join(tmpdir(), 'csq-pack-'));
let tarballs = new Map<string, string>();

function manifest(dir: string): Record<string, unknown> & {
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
} {
  return JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
}

beforeAll(() => {
  tarballs = packAll(join(work, 'tarballs'));
}, 300_000);

// Ten consumer projects, each with tfjs installed: removing them took over two minutes on a busy
// 2-core machine (the default hook limit), so the cleanup gets its own generous limit.
afterAll(() => rm(work, { recursive: true, force: true }), 600_000);

describe.each(PACKAGES)('$name as a published package', (pkg) => {
  it('passes publint', async () => {
    const { publint } = await import('publint');
    const { messages } = await publint({
      pkgDir: join(packagesDir, pkg.dir),
      level: 'error',
      strict: true,
      pack: 'pnpm',
    });
    expect(messages.filter((m) => m.type === 'error')).toEqual([]);
  });

  it('tarball holds the build, not sources or tests', () => {
    const list = run('tar', ['-tzf', tarballs.get(pkg.name)!], work)
      .split('\n')
      .filter(Boolean);
    expect(list).toContain('package/dist/index.js');
    expect(list).toContain('package/dist/index.cjs');
    expect(list).toContain('package/dist/index.d.ts');
    expect(list.some((f) => f.includes('.test.'))).toBe(false);
    expect(list.some((f) => f.startsWith('package/src/'))).toBe(false);
    // workspace: protocol must be rewritten to real versions
    const packed = run('tar', ['-xzOf', tarballs.get(pkg.name)!, 'package/package.json'], work);
    expect(packed).not.toContain('workspace:');
  });

  it('installs into an empty project with only its declared peers and imports from ESM and CJS', () => {
    const project = mkdtempSync(join(work, 'consumer-'));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }),
    );
    // the package, the @csq packages it depends on (not on the registry yet), and its required peers
    const m = manifest(pkg.dir);
    const peers = Object.entries(m.peerDependencies ?? {})
      .filter(([name]) => !m.peerDependenciesMeta?.[name]?.optional && !name.startsWith('@csq/'))
      .map(([name, range]) => `${name}@${range}`);
    const ours = [...tarballs.values()];
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...ours,
        ...peers,
        ...(pkg.extra ?? []),
      ],
      project,
    );
    writeFileSync(join(project, 'check.mjs'), pkg.esm);
    writeFileSync(join(project, 'check.cjs'), pkg.cjs);
    expect(run('node', ['check.mjs'], project).trim().split('\n').pop()).toBe('ok');
    expect(run('node', ['check.cjs'], project).trim().split('\n').pop()).toBe('ok');
  }, 300_000); // npm install on a busy machine
});
