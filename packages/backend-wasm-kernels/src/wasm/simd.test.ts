import { describe, expect, it } from 'vitest';
import { simdFor, simdReady } from './simd.js';

// A stand-in for the wasm backend: just the memory (shared, as in tfjs-backend-wasm's threaded
// build, or not) and the allocator-free fields simdFor reads.
function fakeBackend(shared: boolean) {
  const memory = shared
    ? new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true })
    : new WebAssembly.Memory({ initial: 1 });
  return { memory, backend: { wasm: { wasmMemory: memory } } };
}

describe('the SIMD module links to the backend memory', () => {
  for (const shared of [false, true]) {
    it(`${shared ? 'shared (threaded build)' : 'unshared'} memory: in-place SIMD arithmetic`, async () => {
      await simdReady();
      const { memory, backend } = fakeBackend(shared);
      const simd = simdFor(backend);
      expect(simd).not.toBeNull();
      const f = new Float32Array(memory.buffer, 0, 15);
      f.set([1, 2, 3, 4, 5, -1, 0.5, 2, 3, 4]); // a [0..5), b [5..10)
      simd!.mul_scaled(0, 20, 40, 5, 2); // out [10..15) = 2 a b
      expect(Array.from(new Float32Array(memory.buffer, 40, 5))).toEqual([-2, 2, 12, 24, 40]);
      expect(simdFor(backend)).toBe(simd); // one instance per memory
    });
  }

  it('returns null for a backend without a memory, links to any larger one', () => {
    expect(simdFor({ wasm: {} })).toBeNull();
    const larger = new WebAssembly.Memory({ initial: 2 });
    expect(simdFor({ wasm: { wasmMemory: larger } })).not.toBeNull();
  });
});
