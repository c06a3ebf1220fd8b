import { defineConfig } from 'tsup';

export default defineConfig({
  // two entries share one copy of each module (CsqError must be one class for instanceof)
  entry: ['src/index.ts', 'src/base.ts'],
  splitting: true,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@csq\//],
});
