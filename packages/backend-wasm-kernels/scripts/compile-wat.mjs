/** WAT text -> wasm bytes with wabt (SIMD on), validated. Shared by the build and its test. */
import createWabt from 'wabt';

export async function compileWat(text) {
  const wabt = await createWabt();
  const features = { simd: true };
  const mod = wabt.parseWat('kernels.wat', text, features);
  try {
    mod.resolveNames();
    mod.validate(features);
    return mod.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}
