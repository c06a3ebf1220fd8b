import { defineConfig } from 'tsup';

const shared = {
  sourcemap: true,
  target: 'es2022' as const,
  external: [/^@tensorflow\//, /^@csq\//, 'zod'],
};

export default defineConfig([
  // the library entry, for programs that drive csq from code
  { ...shared, entry: ['src/index.ts'], format: ['esm', 'cjs'], dts: true, clean: true },
  // the command and its baseline worker thread (ESM, loaded by bin/csq.mjs)
  {
    ...shared,
    entry: ['src/main.ts', 'src/baseline-worker.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
  },
]);
