import { defineConfig } from 'vite';

/**
 * The playground is a static site: `vite build` writes dist/ (page, worker, tfjs' wasm binaries,
 * the digits asset from public/), `vite preview` serves it. Workspace packages are bundled from
 * their TypeScript sources (the `@csq/source` export condition), so nothing needs building first.
 */
export default defineConfig({
  base: './',
  resolve: { conditions: ['@csq/source'] },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    // the worker bundles tfjs (2.4 MB): expected, not worth a warning
    chunkSizeWarningLimit: 4096,
    // no "plugins took N s" notice: builds on a loaded machine are slow for reasons outside them
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  preview: { port: 4173, strictPort: false },
  server: { port: 5173 },
  // dev server: pre-bundle the worker's big dependencies up front (found late, they would make
  // the page reload once while a run starts)
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-layers',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgpu',
      'chart.js',
    ],
  },
});
