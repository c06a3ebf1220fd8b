/**
 * The body of a csq kernel worker, as source text (a worker is started from a string: an `eval`
 * worker in Node, a Blob URL in browsers; see pool.ts). It defines `csqKernelWorker(init)`, which
 * instantiates csq's SIMD module against the backend's shared memory and then serves jobs from
 * the control block until told to stop. The layout constants are spliced in from pool.ts.
 */

/** Int32 fields of one worker's slot in the control block. */
export const SLOT = {
  /** bumped by the caller to post a job (or the stop) */
  seq: 0,
  /** set to seq by the worker when the job is done */
  done: 1,
  /** index of the export to run (in the names the worker got at init) */
  fn: 2,
  /** the worker runs parts first, first + stride, ... < parts */
  first: 3,
  stride: 4,
  parts: 5,
  /** arguments per part (Float64, MAX_ARGS apart in the args block) */
  nargs: 6,
  /** 1 after a part threw (a wasm trap); cleared by the caller */
  error: 7,
  /** 1 once the module is instantiated, -1 when that failed */
  ready: 8,
  /** 1: leave the loop and end */
  stop: 9,
} as const;
/** Int32s per worker slot (64 bytes, one cache line). */
export const SLOT_INTS = 16;
/** The most arguments a kernel export takes. */
export const MAX_ARGS = 16;
/** The most parts one run can have. */
export const MAX_PARTS = 64;

/** Source of `function csqKernelWorker(init)`; the caller appends how it receives `init`. */
export const WORKER_SOURCE = `
function csqKernelWorker(init) {
  const ctl = new Int32Array(init.ctl);
  const args = new Float64Array(init.args);
  const base = init.slot * ${SLOT_INTS};
  let fns;
  try {
    const exp = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
    fns = init.names.map((n) => exp[n]);
  } catch (e) {
    Atomics.store(ctl, base + ${SLOT.ready}, -1);
    Atomics.notify(ctl, base + ${SLOT.ready});
    return;
  }
  Atomics.store(ctl, base + ${SLOT.ready}, 1);
  Atomics.notify(ctl, base + ${SLOT.ready});
  let seen = 0;
  for (;;) {
    while (Atomics.load(ctl, base + ${SLOT.seq}) === seen) Atomics.wait(ctl, base + ${SLOT.seq}, seen);
    seen = Atomics.load(ctl, base + ${SLOT.seq});
    if (Atomics.load(ctl, base + ${SLOT.stop}) !== 0) break;
    const f = fns[ctl[base + ${SLOT.fn}]];
    const stride = ctl[base + ${SLOT.stride}];
    const parts = ctl[base + ${SLOT.parts}];
    const nargs = ctl[base + ${SLOT.nargs}];
    try {
      for (let p = ctl[base + ${SLOT.first}]; p < parts; p += stride) {
        f.apply(null, args.subarray(p * ${MAX_ARGS}, p * ${MAX_ARGS} + nargs));
      }
    } catch (e) {
      Atomics.store(ctl, base + ${SLOT.error}, 1);
    }
    Atomics.store(ctl, base + ${SLOT.done}, seen);
    Atomics.notify(ctl, base + ${SLOT.done});
  }
}
`;
