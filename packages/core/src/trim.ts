/**
 * Budget enforcement (the `trim` of `budget.enforce`): when the search ends above its target,
 * turn selected bit positions off in order of least importance (lowest mask logit first) until
 * the target is met in the budget's own counting, within every layer's bounds. Pure arithmetic
 * on mask logits; @csq/budget's `trimToBudget` reads and writes the masks of a model.
 */
import {
  type BitBounds,
  type BudgetLayer,
  type BudgetMode,
  type BudgetStats,
  budgetStats,
  resolveBounds,
} from './budget.js';
import { assertFinite, CsqError } from './errors.js';
import { selectedPositions } from './schedule.js';

/** One layer as the trim sees it: the budget's figures plus its mask logits. */
export interface TrimLayer extends Omit<BudgetLayer, 'bits' | 'positions'> {
  /** Mask logits m, one per bit position (N of them, 0 = MSB). */
  logits: ArrayLike<number>;
}

/** Options of `planTrim`. */
export interface TrimOptions {
  mode?: BudgetMode;
  targetBits: number;
  /** Selection rule: 'exact' (default; m > 0, the ticket phase's) or 'continuous' (m >= 0). */
  phase?: 'continuous' | 'exact';
  /** false: only bring layers into their bounds, leave the target alone (default true). */
  budget?: boolean;
}

/** One bit position the trim turned off (or on, to reach a layer's floor). */
export interface TrimAction {
  layer: string;
  /** Bit position (0 = MSB). */
  position: number;
  /** Its mask logit before the trim. */
  logit: number;
  /** `budget`: over the target; `maxBits` / `minBits`: outside the layer's bounds. */
  reason: 'budget' | 'maxBits' | 'minBits';
}

/** Where the budget stood before and after the trim, and what changed. */
export interface TrimPlan {
  mode: BudgetMode;
  targetBits: number;
  /** Average bits in the mode's counting before (`reachedBits` of the stats). */
  before: BudgetStats;
  after: BudgetStats;
  /** True when the target is met afterwards (false only when the floors forbid it). */
  met: boolean;
  /** Positions turned off, in the order they were turned off. */
  trimmed: TrimAction[];
  /** Positions turned on to bring a layer up to its floor. */
  raised: TrimAction[];
  /** New mask logits per layer (a copy; trimmed ones negated, raised ones made positive). */
  logits: Float32Array[];
}

/** Smallest magnitude a trimmed or raised logit gets (a logit of exactly 0 is ambiguous). */
export const TRIM_MIN_LOGIT = 0.01;

const EPS = 1e-12;

/**
 * Plans the trim: first each layer into its bounds (lowest logits off above `maxBits`, highest
 * unselected logits on below `minBits`), then, while the budget's R is above R_T, the selected
 * position with the lowest logit among layers above their floor is turned off; finally the
 * trimmed positions are given back, highest logit first, wherever that keeps R <= R_T (in the
 * `storage` count a removal can save nothing on its own). Trimmed logits become -max(|m|,
 * 0.01), raised ones +max(|m|, 0.01).
 */
export function planTrim(layers: readonly TrimLayer[], opts: TrimOptions): TrimPlan {
  const mode = opts.mode ?? 'slots';
  const phase = opts.phase ?? 'exact';
  assertFinite(opts.targetBits, 'targetBits', { positive: true });
  const logits = layers.map((l) => {
    if (l.logits.length !== l.maxBits) {
      throw new CsqError(
        'CSQ_BAD_SHAPE',
        `layer "${l.name}": ${l.logits.length} mask logits for N = ${l.maxBits} bits.`,
      );
    }
    return Float32Array.from(l.logits);
  });
  const selected = logits.map((m) => new Set(selectedPositions(m, phase)));
  const bounds: Required<BitBounds>[] = layers.map((l) => resolveBounds(l));
  const asBudget = (): BudgetLayer[] =>
    layers.map((l, k) => {
      const positions = [...selected[k]!].sort((a, b) => a - b);
      const { logits: _, ...rest } = l;
      return { ...rest, bits: positions.length, positions };
    });
  const stats = () => budgetStats(asBudget(), { mode, targetBits: opts.targetBits });
  const before = stats();
  type Step = { k: number; i: number; reason: TrimAction['reason'] };
  const trimmed: Step[] = [];
  const raised: Step[] = [];
  const off = (k: number, i: number, reason: TrimAction['reason']) => {
    selected[k]!.delete(i);
    trimmed.push({ k, i, reason });
  };
  // 1. bounds
  layers.forEach((_, k) => {
    const m = logits[k]!;
    const { minBits, maxBits } = bounds[k]!;
    const byLogit = (set: Iterable<number>) => [...set].sort((a, b) => m[a]! - m[b]! || b - a);
    for (const i of byLogit(selected[k]!).slice(0, Math.max(0, selected[k]!.size - maxBits))) {
      off(k, i, 'maxBits');
    }
    const unselected = byLogit(m.keys()).filter((i) => !selected[k]!.has(i));
    for (const i of unselected.reverse().slice(0, Math.max(0, minBits - selected[k]!.size))) {
      selected[k]!.add(i);
      raised.push({ k, i, reason: 'minBits' });
    }
  });
  // 2. budget: lowest logit first, among layers above their floor
  const budgetTrims: { k: number; i: number }[] = [];
  let now = stats();
  while (opts.budget !== false && now.ratio > now.targetRatio + EPS) {
    let best: { k: number; i: number } | undefined;
    selected.forEach((set, k) => {
      if (set.size <= bounds[k]!.minBits) return;
      for (const i of set) {
        const m = logits[k]![i]!;
        if (!best || m < logits[best.k]![best.i]!) best = { k, i };
      }
    });
    if (!best) break;
    off(best.k, best.i, 'budget');
    budgetTrims.push(best);
    now = stats();
  }
  // 3. give back what the target does not need, highest logit first
  for (const { k, i } of [...budgetTrims].reverse()) {
    if (now.ratio > now.targetRatio + EPS) break;
    selected[k]!.add(i);
    const next = stats();
    if (next.ratio > next.targetRatio + EPS) {
      selected[k]!.delete(i);
      continue;
    }
    now = next;
    trimmed.splice(
      trimmed.findIndex((t) => t.k === k && t.i === i),
      1,
    );
  }
  const action = ({ k, i, reason }: Step): TrimAction => ({
    layer: layers[k]!.name,
    position: i,
    logit: logits[k]![i]!,
    reason,
  });
  const report = { trimmed: trimmed.map(action), raised: raised.map(action) };
  for (const { k, i } of trimmed)
    logits[k]![i] = -Math.max(Math.abs(logits[k]![i]!), TRIM_MIN_LOGIT);
  for (const { k, i } of raised) logits[k]![i] = Math.max(Math.abs(logits[k]![i]!), TRIM_MIN_LOGIT);
  return {
    mode,
    targetBits: opts.targetBits,
    before,
    after: now,
    met: now.ratio <= now.targetRatio + EPS,
    ...report,
    logits,
  };
}
