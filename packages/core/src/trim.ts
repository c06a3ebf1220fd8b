/**
 * Budget enforcement (the `trim` of `budget.enforce`): when the search ends above its target,
 * turn selected bit positions off in order of least importance (lowest mask logit per bit of
 * budget saved, a removal that overshoots the target costing more; see `trimScore`) until the
 * target is met in the budget's own counting, within every layer's bounds. Pure arithmetic
 * on mask logits; @csq/budget's `trimToBudget` reads and writes the masks of a model.
 */
import {
  type BitBounds,
  type BudgetLayer,
  type BudgetMode,
  type BudgetStats,
  budgetStats,
  layerCount,
  layerWeight,
  resolveBounds,
} from './budget.js';
import { assertFinite, CsqError } from './errors.js';
import { selectedPositions } from './schedule.js';

/** One layer as the trim sees it: the budget's figures plus its mask logits. */
export interface TrimLayer extends Omit<BudgetLayer, 'bits' | 'positions'> {
  /** Mask logits m, one per bit position (N of them, 0 = MSB). */
  logits: ArrayLike<number>;
  /**
   * Gram matrix of the layer's exact digits d_i = H(p_i) - H(n_i) (N x N, row-major:
   * G_ij = sum over weights of d_i d_j; see `digitGram`). When every layer the trim may cut
   * has one, a cut costs the damage it does to the exact kernel (`kernelDamage`) instead of
   * its mask logit.
   */
  gram?: ArrayLike<number>;
}

/**
 * G_ij = sum_w d_i(w) d_j(w) of a layer's exact digits, given as `digits[w * bits + i]` in
 * {-1, 0, 1} (the bit axis last, as the p and n planes are stored).
 */
export function digitGram(digits: ArrayLike<number>, bits: number): Float64Array {
  if (!Number.isInteger(bits) || bits < 1 || digits.length % bits !== 0) {
    throw new CsqError(
      'CSQ_BAD_SHAPE',
      `digitGram: ${digits.length} digits are not a whole number of ${String(bits)}-bit weights.`,
    );
  }
  const g = new Float64Array(bits * bits);
  for (let w = 0; w < digits.length; w += bits) {
    for (let i = 0; i < bits; i++) {
      const di = digits[w + i]!;
      if (di === 0) continue;
      for (let j = i; j < bits; j++) g[i * bits + j]! += di * digits[w + j]!;
    }
  }
  for (let i = 0; i < bits; i++) for (let j = 0; j < i; j++) g[i * bits + j] = g[j * bits + i]!;
  return g;
}

/**
 * Scale-free damage to a layer's exact kernel when only `keep` of the positions `from` stay
 * selected: 1 - cos^2 between W_from = sum_{i in from} e_i d_i and W_keep (e_i = 2^(N-1-i),
 * spec 1 up to a constant). 0 when nothing changes (or only all-zero digit planes go), 1 when
 * nothing is left. Scale-free because the layer scale s keeps training after the ticket: what
 * a cut loses for good is the direction of the kernel, not its size.
 */
export function kernelDamage(
  gram: ArrayLike<number>,
  bits: number,
  from: readonly number[],
  keep: readonly number[],
): number {
  const e = (i: number) => 2 ** -i;
  const dot = (a: readonly number[], b: readonly number[]) => {
    let sum = 0;
    for (const i of a) for (const j of b) sum += e(i) * e(j) * gram[i * bits + j]!;
    return sum;
  };
  const ff = dot(from, from);
  const kk = dot(keep, keep);
  if (!(ff > 0)) return 0;
  if (!(kk > 0)) return 1;
  const fk = dot(from, keep);
  return Math.max(0, 1 - (fk * fk) / (ff * kk));
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
 * What turning one selected position off costs per unit of the budget it usefully saves: its
 * cost c (the damage it does to the exact kernel, `kernelDamage`, or without the layers' digit
 * Gram matrices its mask logit m) in the regularizer's own layer weighting w_l (the mode's
 * layer weight: 1, |W_l| or MACs_l a_l), divided by the part of its saving that the target
 * still needs, min(saving, need), both in units of R. Without overshoot this is the cost per
 * bit saved: in `slots`, `params` and `bops` w_l is proportional to the saving, so the order
 * is lowest cost first. A removal that saves k times more than is still needed costs k times
 * more, so the last bits of a target come off small layers instead of a whole bit off a
 * large one.
 */
export function trimScore(cost: number, weight: number, saving: number, need: number): number {
  return (weight * cost) / Math.min(saving, need);
}

/**
 * Plans the trim: first each layer into its bounds (lowest logits off above `maxBits`, highest
 * unselected logits on below `minBits`), then, while the budget's R is above R_T, the selected
 * position with the lowest cost (`trimScore`: lowest damage to the exact kernel, or lowest
 * logit without digit Gram matrices, per bit of budget saved, where a removal that overshoots
 * what is still needed costs more; equal costs go lowest logit first) among layers above their
 * floor is turned off. Damage, not the logit, decides when it is known: every selected
 * position is one the search kept (m > 0), and near the end of a search the logits of a layer
 * the budget barely weighs differ by noise, so a logit order could cut a layer's most
 * significant bit. Finally the trimmed positions are given back, highest logit first, wherever that keeps R <= R_T (in the
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
  // 2. budget: the cheapest cut first, among layers above their floor (see `trimScore`)
  const budgetTrims: { k: number; i: number }[] = [];
  // R = sum_l w_l c_l / den (spec 3): a removal saves w_l (c_l - c_l') / den of R
  const weights = asBudget().map((l) => layerWeight(l, mode));
  const den = asBudget().reduce((sum, l, k) => sum + weights[k]! * layerCount(l, mode, true), 0);
  // the damage of a cut is measured from the kernels the search ended with
  const start = selected.map((set) => [...set]);
  const useDamage = layers.every((l, k) => l.gram !== undefined || selected[k]!.size === 0);
  const damage = (k: number, keep: number[]) =>
    kernelDamage(layers[k]!.gram!, layers[k]!.maxBits, start[k]!, keep);
  let now = stats();
  while (opts.budget !== false && now.ratio > now.targetRatio + EPS) {
    const need = now.ratio - now.targetRatio;
    const current = asBudget();
    let best: { k: number; i: number; score: number; logit: number } | undefined;
    let lowest: { k: number; i: number } | undefined;
    selected.forEach((set, k) => {
      if (set.size <= bounds[k]!.minBits) return;
      const count = layerCount(current[k]!, mode);
      const was = useDamage ? damage(k, [...set]) : 0;
      for (const i of set) {
        const m = logits[k]![i]!;
        if (!lowest || m < logits[lowest.k]![lowest.i]!) lowest = { k, i };
        const rest = [...set].filter((j) => j !== i).sort((a, b) => a - b);
        const after = layerCount({ ...current[k]!, bits: rest.length, positions: rest }, mode);
        const saving = (weights[k]! * (count - after)) / den;
        if (!(saving > EPS)) continue;
        const cost = useDamage ? damage(k, rest) - was : m;
        const score = trimScore(cost, weights[k]!, saving, need);
        if (!best || score < best.score - EPS || (score <= best.score + EPS && m < best.logit)) {
          best = { k, i, score, logit: m };
        }
      }
    });
    // in the storage count a single removal can save nothing: then the lowest logit goes
    const pick = best ?? lowest;
    if (!pick) break;
    off(pick.k, pick.i, 'budget');
    budgetTrims.push({ k: pick.k, i: pick.i });
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
