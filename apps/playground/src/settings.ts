/**
 * The page's settings: defaults (the quickstart recipe), the query string that reproduces a run,
 * validation with a CsqError naming the setting, and the trainer config they become.
 */
import { BUDGET_MODES, type BudgetMode, CsqError } from '@csq/core';
import type { TrainConfigInput } from '@csq/trainer';

/** Backends the page can train on, fastest first; `auto` takes the first that works. */
export const PAGE_BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu'] as const;
/** One of {@link PAGE_BACKENDS}. */
export type PageBackend = (typeof PAGE_BACKENDS)[number];

/** Everything that defines a run of the page (all of it goes into the URL). */
export interface PlaygroundSettings {
  /** Target average bits (spec 3), 1 to 6. */
  targetBits: number;
  /** How the budget counts bits. */
  budget: BudgetMode;
  /** N: bit planes each quantized layer starts with. */
  bits: number;
  /** Weight of the budget term. */
  lambda: number;
  epochs: number;
  /** Seed of the model's initialisation and of the data order. */
  seed: number;
  /** Training digits used (the first of the 8,000 of the quickstart's train split). */
  train: number;
  /** Held-out digits evaluated each epoch (the first of the quickstart's 2,000). */
  heldout: number;
  batch: number;
  lr: number;
  backend: PageBackend;
}

/** The quickstart recipe's settings (csq train --recipe quickstart). */
export const DEFAULT_SETTINGS: PlaygroundSettings = {
  targetBits: 2,
  budget: 'slots',
  bits: 8,
  lambda: 0.05,
  epochs: 8,
  seed: 0,
  train: 8000,
  heldout: 2000,
  batch: 128,
  lr: 0.05,
  backend: 'auto',
};

/** Query-string key of each setting. */
export const QUERY_KEYS: Record<keyof PlaygroundSettings, string> = {
  targetBits: 'target',
  budget: 'budget',
  bits: 'bits',
  lambda: 'lambda',
  epochs: 'epochs',
  seed: 'seed',
  train: 'train',
  heldout: 'heldout',
  batch: 'batch',
  lr: 'lr',
  backend: 'backend',
};

type NumberRule = { min: number; max: number; integer: boolean; what: string };

/** The allowed range of each numeric setting (the form's inputs use the same bounds). */
export const NUMBER_RULES: Record<
  Exclude<keyof PlaygroundSettings, 'budget' | 'backend'>,
  NumberRule
> = {
  targetBits: { min: 1, max: 6, integer: false, what: 'target bits' },
  bits: { min: 1, max: 8, integer: true, what: 'N (starting bits per layer)' },
  lambda: { min: 0, max: 10, integer: false, what: 'lambda' },
  epochs: { min: 1, max: 50, integer: true, what: 'epochs' },
  seed: { min: 0, max: 2 ** 31 - 1, integer: true, what: 'seed' },
  train: { min: 1, max: 8000, integer: true, what: 'training digits' },
  heldout: { min: 1, max: 2000, integer: true, what: 'held-out digits' },
  batch: { min: 1, max: 1024, integer: true, what: 'batch size' },
  lr: { min: 1e-6, max: 10, integer: false, what: 'learning rate' },
};

function badSetting(key: string, raw: unknown, want: string): never {
  throw new CsqError(
    'CSQ_PLAYGROUND_SETTING',
    `setting "${key}" must be ${want}, got ${JSON.stringify(raw)}; fix it in the form or in ` +
      'the address bar.',
  );
}

/** Checks every field; throws CsqError CSQ_PLAYGROUND_SETTING naming the first bad one. */
export function validateSettings(s: PlaygroundSettings): PlaygroundSettings {
  for (const [key, rule] of Object.entries(NUMBER_RULES) as [
    keyof typeof NUMBER_RULES,
    NumberRule,
  ][]) {
    const v = s[key];
    const q = QUERY_KEYS[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) badSetting(q, v, `a number (${rule.what})`);
    if (rule.integer && !Number.isInteger(v)) badSetting(q, v, `an integer (${rule.what})`);
    if (v < rule.min || v > rule.max)
      badSetting(q, v, `${rule.what} from ${rule.min} to ${rule.max}`);
  }
  if (!BUDGET_MODES.includes(s.budget)) badSetting('budget', s.budget, BUDGET_MODES.join(', '));
  if (!PAGE_BACKENDS.includes(s.backend))
    badSetting('backend', s.backend, PAGE_BACKENDS.join(', '));
  return s;
}

/** Settings from a query string (missing keys take the defaults; unknown keys are refused). */
export function parseSettings(query: string | URLSearchParams): PlaygroundSettings {
  const params = typeof query === 'string' ? new URLSearchParams(query) : query;
  const byQuery = new Map(
    Object.entries(QUERY_KEYS).map(([k, q]) => [q, k as keyof PlaygroundSettings]),
  );
  const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
  for (const [q, raw] of params) {
    if (q === 'run') continue;
    const key = byQuery.get(q);
    if (!key) {
      badSetting(q, raw, `one of the known settings (${[...byQuery.keys(), 'run'].join(', ')})`);
    }
    if (key === 'budget' || key === 'backend') out[key] = raw;
    else {
      const v = raw.trim() === '' ? Number.NaN : Number(raw);
      out[key] = v;
      if (!Number.isFinite(v)) badSetting(q, raw, `a number (${NUMBER_RULES[key].what})`);
    }
  }
  return validateSettings(out as unknown as PlaygroundSettings);
}

/** The query string of `s` (only what differs from the defaults, in a fixed order). */
export function settingsQuery(s: PlaygroundSettings, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const [key, q] of Object.entries(QUERY_KEYS) as [keyof PlaygroundSettings, string][]) {
    if (s[key] !== DEFAULT_SETTINGS[key]) params.set(q, String(s[key]));
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

/** The trainer config of the settings: the quickstart recipe with the page's choices. */
export function toTrainConfig(s: PlaygroundSettings): TrainConfigInput {
  return {
    epochs: s.epochs,
    batchSize: s.batch,
    lr: s.lr,
    momentum: 0.9,
    weightDecay: 5e-4,
    warmupEpochs: s.epochs > 1 ? 1 : 0,
    seed: s.seed,
    augment: { cropPad: 0, flip: false },
    limitTrain: s.train,
    evalBatchSize: 500,
    exactEval: 'epoch',
    csq: {
      schedule: 'epoch',
      // the quickstart's ticket phase (epochs 7 and 8 of 8): the last two epochs
      ticket: Math.max(1, s.epochs - 2),
      finalTemp: 200,
      budget: { mode: s.budget, targetBits: s.targetBits, lambda: s.lambda },
    },
  };
}
