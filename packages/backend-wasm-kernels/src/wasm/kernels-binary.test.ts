import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types
import { compileWat } from '../../scripts/compile-wat.mjs';
import { KERNELS_SHARED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-binary.js';

describe('kernels-binary.ts', () => {
  it('is kernels.wat compiled by the pinned wabt (run `node scripts/build-wasm.mjs` if not)', async () => {
    const wat = readFileSync(new URL('./kernels.wat', import.meta.url), 'utf8');
    const bytes: Uint8Array = await compileWat(wat);
    expect(Buffer.from(bytes).toString('base64')).toBe(KERNELS_WASM_BASE64);
    const shared: Uint8Array = await compileWat(wat, { shared: true });
    expect(Buffer.from(shared).toString('base64')).toBe(KERNELS_SHARED_WASM_BASE64);
    expect(WebAssembly.validate(Buffer.from(KERNELS_WASM_BASE64, 'base64'))).toBe(true);
    expect(WebAssembly.validate(Buffer.from(KERNELS_SHARED_WASM_BASE64, 'base64'))).toBe(true);
  });
});
