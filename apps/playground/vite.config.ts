import { defineConfig } from 'vite';

/**
 * Cross-origin isolation: with these headers the page (and its worker) may use
 * SharedArrayBuffer, so wasm trains on tfjs's threaded build, on every core. Everything the page
 * loads is its own, so nothing else is needed to serve it this way.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

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
  preview: { port: 4173, strictPort: false, headers: ISOLATION_HEADERS },
  server: { port: 5173, headers: ISOLATION_HEADERS },
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
