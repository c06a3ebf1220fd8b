/**
 * Row splits for csq's [rows, ch] kernels (batch norm): {@link rowRanges} for the element-wise
 * ones (disjoint rows, bit-exact on any number of threads) and {@link RowSums} for the
 * per-channel sums (`bn_backward`, `bn_sums`: float32 partials of 64 rows, float64 totals), which
 * give each part its own partials and totals and add the totals in part order (one part: exactly
 * the single-thread totals; more: the same float32 blocks, float64 additions reordered).
 */
import { MIN_ELEMENTS_PER_PART, partCount, runKernelParts, splitRange } from './pool.js';
import type { Scratch, SimdExports } from './simd.js';

/** [r0, r1) row ranges for a [rows, ch] kernel on this backend's kernel threads. */
export function rowRanges(
  backend: unknown,
  rows: number,
  ch: number,
  align = 1,
): [number, number][] {
  return splitRange(rows, partCount(backend, rows * ch, MIN_ELEMENTS_PER_PART), align);
}

/**
 * `bn_forward` over [rows, ch] on this backend's kernel threads (disjoint rows, bit-exact):
 * y = (x - mean) k + beta, pointers as the export takes them.
 */
export function bnForwardRows(
  backend: unknown,
  simd: SimdExports,
  p: { x: number; y: number; rows: number; ch: number; mean: number; k: number; beta: number },
): void {
  const rowBytes = p.ch * 4;
  runKernelParts(
    backend,
    simd,
    'bn_forward',
    rowRanges(backend, p.rows, p.ch).map(([r0, r1]) => [
      p.x + r0 * rowBytes,
      p.y + r0 * rowBytes,
      r1 - r0,
      p.ch,
      p.mean,
      p.k,
      p.beta,
    ]),
  );
}

/** Per-part float32 partials and float64 totals of a row-blocked sums kernel. */
export class RowSums {
  readonly ranges: [number, number][];
  private readonly bufs: { acc1: number; acc2: number; tot1: number; tot2: number }[];

  /** Allocates (take views of the scratch only after this: an allocation can grow memory). */
  constructor(
    private readonly backend: unknown,
    private readonly scratch: Scratch,
    rows: number,
    private readonly ch: number,
  ) {
    this.ranges = rowRanges(backend, rows, ch, 64);
    this.bufs = this.ranges.map(() => ({
      acc1: scratch.alloc(ch * 4),
      acc2: scratch.alloc(ch * 4),
      tot1: scratch.alloc(ch * 8),
      tot2: scratch.alloc(ch * 8),
    }));
  }

  /**
   * Zeroes the sums, runs export `name` once per row range with the arguments `args` gives
   * (r0, r1 and that part's acc1, acc2, tot1, tot2 pointers), and returns the totals.
   */
  run(
    simd: SimdExports,
    name: keyof SimdExports & string,
    args: (
      r0: number,
      r1: number,
      acc1: number,
      acc2: number,
      tot1: number,
      tot2: number,
    ) => number[],
  ): [Float64Array, Float64Array] {
    const { scratch, ch } = this;
    for (const p of this.bufs) {
      scratch.f32(p.acc1, ch).fill(0);
      scratch.f32(p.acc2, ch).fill(0);
      scratch.f64(p.tot1, ch).fill(0);
      scratch.f64(p.tot2, ch).fill(0);
    }
    runKernelParts(
      this.backend,
      simd,
      name,
      this.ranges.map(([r0, r1], i) => {
        const p = this.bufs[i]!;
        return args(r0, r1, p.acc1, p.acc2, p.tot1, p.tot2);
      }),
    );
    const t1 = new Float64Array(ch);
    const t2 = new Float64Array(ch);
    for (const p of this.bufs) {
      const a = scratch.f64(p.tot1, ch);
      const b = scratch.f64(p.tot2, ch);
      for (let c = 0; c < ch; c++) {
        t1[c]! += a[c]!;
        t2[c]! += b[c]!;
      }
    }
    return [t1, t2];
  }
}
