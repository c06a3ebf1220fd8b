/**
 * The dependency order of the packages (../shared/spec/architecture.md): run-format and core
 * at the bottom; layers <- budget <- trainer <- trainer-node / trainer-webgpu <- cli <- bench
 * <- apps; data, loader, report (and the wasm kernels) beside layers, never importing training
 * code. A package may use only packages of a lower level, and the few same-level ones listed.
 */

/** Level of each package directory under packages/ (apps are all at APP_LEVEL). */
export const LEVELS: Record<string, number> = {
  core: 0,
  'run-format': 0,
  layers: 1,
  data: 1,
  loader: 1,
  report: 1,
  'backend-wasm-kernels': 1,
  budget: 2,
  trainer: 3,
  'trainer-node': 4,
  'trainer-webgpu': 4,
  cli: 5,
  bench: 6,
};

/** Level of every app (apps/*). */
export const APP_LEVEL = 7;

/** Same-level uses that the architecture allows: the run format reports errors with core's. */
export const SAME_LEVEL_ALLOWED: Record<string, readonly string[]> = {
  'run-format': ['core'],
  // the packed format's export entry may use the layers it converts
  loader: ['layers', 'data'], // data: the size report and tests read the embedded digits
  // WebGPU is an optional peer that trainer-node loads only when it tries that backend, so that
  // only trainer-webgpu names the WebGPU backend; trainer-webgpu never uses trainer-node
  'trainer-node': ['trainer-webgpu'],
};

/** Private tooling: not part of the order; test-utils may be used only by tests. */
export const TOOLING = ['test-utils', 'pack-check', 'repo-checks'];
