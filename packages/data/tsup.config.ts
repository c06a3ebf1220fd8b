import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // import.meta.url in the CJS build (worker path, the mnist package's location)
  shims: true,
  external: [/^@tensorflow\//, /^@csq\//, 'sharp', 'mnist'],
});
