/**
 * The README's training examples build against this package's real exports (and the other
 * packages' they import): esbuild fails on an import that does not exist. They ran in full with
 * a tiny config in Chromium and in Node (see the package's report); here they are only bundled,
 * since SwiftShader needs minutes for even one epoch of mnistCnn.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundleSnippet } from '../test/harness/bundle.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const browserExample = examples.find((e) => /from '@csq\/trainer-webgpu';/.test(e));
const nodeExample = examples.find((e) => /from '@csq\/trainer-webgpu\/node';/.test(e));

describe('README examples', () => {
  it('the browser example trains with trainOnWebGpu and bundles without Node modules', async () => {
    expect(browserExample).toMatch(/await trainOnWebGpu\(\{/);
    const bundle = await bundleSnippet(browserExample!, 'browser');
    expect(bundle.inputs.some((f) => f.endsWith('src/train-webgpu.ts'))).toBe(true);
    expect(bundle.inputs.some((f) => /(^|\/)trainer\/src\/train\.ts$/.test(f))).toBe(true);
    expect(bundle.inputs.filter((f) => f.startsWith('node:') || /\/node\.ts$/.test(f))).toEqual([]);
  });

  it('the Node example trains with the /node entry', async () => {
    expect(nodeExample).toMatch(/await trainOnWebGpu\(\{/);
    const bundle = await bundleSnippet(nodeExample!, 'node');
    expect(bundle.inputs.some((f) => f === 'src/node.ts')).toBe(true);
  });
});
