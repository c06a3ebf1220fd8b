import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', main: 'src/main.ts', 'harness/index': 'src/harness/index.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts', 'harness/index': 'src/harness/index.ts' } },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@csq\//],
});
