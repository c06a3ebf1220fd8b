import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CsqError } from '@csq/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initWebGpu } from './node.js';
import { findSwiftShader, hasVulkanLoader, swiftShaderEnv } from './swiftshader.js';

let root: string;
let saved: string | undefined;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'csq-ss-'));
  saved = process.env.CSQ_SWIFTSHADER_DIR;
});
afterEach(() => {
  if (saved === undefined) delete process.env.CSQ_SWIFTSHADER_DIR;
  else process.env.CSQ_SWIFTSHADER_DIR = saved;
  rmSync(root, { recursive: true, force: true });
});

function fakeChromiumDir(withLoader: boolean): string {
  const dir = join(root, 'chromium');
  mkdirSync(dir);
  writeFileSync(join(dir, 'vk_swiftshader_icd.json'), '{"ICD":{"library_path":"./x.so"}}');
  if (withLoader) writeFileSync(join(dir, 'libvulkan.so.1'), '');
  return dir;
}

describe('findSwiftShader', () => {
  it('finds the driver in $CSQ_SWIFTSHADER_DIR first, with the loader beside it', () => {
    const dir = fakeChromiumDir(true);
    process.env.CSQ_SWIFTSHADER_DIR = dir;
    expect(findSwiftShader()).toEqual({
      icd: join(dir, 'vk_swiftshader_icd.json'),
      dir,
      loader: join(dir, 'libvulkan.so.1'),
    });
  });

  it('reports no loader when the folder has none', () => {
    const dir = fakeChromiumDir(false);
    process.env.CSQ_SWIFTSHADER_DIR = dir;
    expect(findSwiftShader()?.loader).toBeUndefined();
  });
});

describe.skipIf(process.platform !== 'linux')('hasVulkanLoader and swiftShaderEnv (Linux)', () => {
  it('LD_LIBRARY_PATH folders count', () => {
    const dir = fakeChromiumDir(true);
    expect(hasVulkanLoader({ LD_LIBRARY_PATH: ['/nowhere', dir].join(delimiter) })).toBe(true);
  });

  it('gives VK_ICD_FILENAMES and, without a system loader, LD_LIBRARY_PATH', () => {
    const dir = fakeChromiumDir(true);
    process.env.CSQ_SWIFTSHADER_DIR = dir;
    const systemLoader = hasVulkanLoader({});
    const env = swiftShaderEnv({ LD_LIBRARY_PATH: '/opt/x' });
    expect(env?.VK_ICD_FILENAMES).toBe(join(dir, 'vk_swiftshader_icd.json'));
    expect(env?.LD_LIBRARY_PATH).toBe(systemLoader ? undefined : [dir, '/opt/x'].join(delimiter));
  });

  it('keeps a VK_ICD_FILENAMES the user set', () => {
    process.env.CSQ_SWIFTSHADER_DIR = fakeChromiumDir(true);
    expect(swiftShaderEnv({ VK_ICD_FILENAMES: '/mine.json' })?.VK_ICD_FILENAMES).toBeUndefined();
  });
});

describe('initWebGpu (Node) option errors', () => {
  it('a vulkanIcd path that does not exist is CSQ_BAD_PATH', async () => {
    const p = initWebGpu({ vulkanIcd: join(root, 'missing.json') });
    await expect(p).rejects.toBeInstanceOf(CsqError);
    await expect(p).rejects.toMatchObject({ code: 'CSQ_BAD_PATH' });
  });
});
