import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsqError } from '@csq/core';
import { tempDir } from '@csq/test-utils/data-files';
import { describe, expect, it, vi } from 'vitest';
import { imageFolderSource } from './image-folder.js';
import { loadData } from './load-data.js';
import { SHARP_RANGE, sharpError } from './sharp.js';

// this file runs as if sharp were not installed (as for a user who trains on MNIST only)
vi.mock('sharp', () => {
  throw Object.assign(new Error("Cannot find package 'sharp' imported from /somewhere"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
});

const root = tempDir('csq-nosharp-');

describe('sharp is an optional peer', () => {
  it('is declared as one, with the range the error message gives', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies?.sharp).toBeUndefined();
    expect(pkg.peerDependencies.sharp).toBe(SHARP_RANGE);
    expect(pkg.peerDependenciesMeta.sharp.optional).toBe(true);
  });

  it('an image folder without sharp fails at once with how to install it', async () => {
    const dir = join(root, 'folder');
    mkdirSync(join(dir, 'cat'), { recursive: true });
    writeFileSync(join(dir, 'cat', 'a.png'), 'not read');
    const err = await imageFolderSource(dir, { workers: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CsqError);
    expect((err as CsqError).code).toBe('CSQ_DATA_MISSING_PACKAGE');
    expect((err as Error).message).toMatch(
      /imagefolder data needs the image library sharp, an optional dependency of @csq\/data that is not installed; install it beside @csq\/data: npm install sharp@"\^0\.35\.5"/,
    );
    const splits = join(root, 'splits');
    for (const sub of ['train', 'val']) {
      mkdirSync(join(splits, sub, 'cat'), { recursive: true });
      writeFileSync(join(splits, sub, 'cat', 'a.png'), 'not read');
    }
    const viaSpec = await loadData(`imagefolder:${splits}`).catch((e: unknown) => e);
    expect((viaSpec as CsqError).code).toBe('CSQ_DATA_MISSING_PACKAGE');
  });

  it('MNIST, IDX and CIFAR-10 never need it', async () => {
    const mnist = await loadData('mnist');
    expect(mnist.train.count).toBe(8000);
  });

  it('tells a broken native install apart from a missing one', () => {
    const broken = sharpError(
      new Error('Could not load the "sharp" module using the linux-x64 runtime'),
    );
    expect(broken.message).toMatch(/installed but cannot be loaded here \(Could not load/);
    expect(broken.message).toMatch(/sharp\.pixelplumbing\.com\/install/);
    const cjs = sharpError(
      Object.assign(new Error("Cannot find module 'sharp'"), { code: 'MODULE_NOT_FOUND' }),
    );
    expect(cjs.message).toMatch(/not installed/);
  });
});
