import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  // import.meta.url (used to resolve the optional tfjs-node peers) in the CJS build
  shims: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@csq\//],
});
