/**
 * WAT text -> wasm bytes with wabt (SIMD on), validated. Shared by the build and its test.
 * `shared: true` builds the variant for tfjs-backend-wasm's threaded build, whose memory is a
 * shared one (4 GiB maximum): the same code importing `(memory 1 65536 shared)`.
 */
import createWabt from 'wabt';

const UNSHARED = '(import "env" "memory" (memory 1))';

export async function compileWat(text, { shared = false } = {}) {
  if (!text.includes(UNSHARED)) throw new Error(`kernels.wat must import ${UNSHARED}`);
  const source = shared
    ? text.replace(UNSHARED, '(import "env" "memory" (memory 1 65536 shared))')
    : text;
  const wabt = await createWabt();
  const features = { simd: true, threads: shared };
  const mod = wabt.parseWat('kernels.wat', source, features);
  try {
    mod.resolveNames();
    mod.validate(features);
    return mod.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}
