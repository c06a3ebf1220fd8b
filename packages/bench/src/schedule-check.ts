/**
 * Checks, from a finished run's own records, that the CSQ schedule ran as spec 2 and the
 * recipe (spec 6) say: the temperature per epoch, the ticket phase, frozen masks, and for the
 * rounds form (ImageNet) the temperature restart every round and a final run that keeps the
 * bits the last search round found. Every result carries these checks, so a row produced by a
 * broken schedule says so.
 */
import type { MetricsLine, RunConfig } from './train-job.js';

/** One named check and what was seen. */
export interface ScheduleCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const close = (a: number | undefined, b: number, rel = 1e-6) =>
  a !== undefined && Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

const sameBits = (a?: Record<string, number>, b?: Record<string, number>) =>
  a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b);

function bitsText(bits?: Record<string, number>): string {
  if (!bits) return '(none)';
  const values = Object.values(bits);
  return `${values.length} layers, ${values.reduce((a, b) => a + b, 0)} bits in all`;
}

function check(name: string, failures: string[], ok: string): ScheduleCheck {
  return failures.length === 0
    ? { name, ok: true, detail: ok }
    : {
        name,
        ok: false,
        detail: failures.slice(0, 3).join('; ') + (failures.length > 3 ? ' ...' : ''),
      };
}

/**
 * Spec 2 epoch form (CIFAR, ImageNet ResNet-18): beta_e = finalTemp^(e / ticket); from the
 * ticket epoch on the masks are hard and frozen.
 */
function epochChecks(cfg: RunConfig, lines: MetricsLine[]): ScheduleCheck[] {
  const ticket = cfg.ticket ?? Math.max(1, cfg.epochs - 2);
  const beta: string[] = [];
  const phase: string[] = [];
  for (const l of lines) {
    const want = cfg.finalTemp ** (l.epoch / ticket);
    if (!close(l.beta, want)) beta.push(`epoch ${l.epoch}: beta ${l.beta}, expected ${want}`);
    const p = l.epoch >= ticket ? 'ticket' : 'search';
    if (l.phase !== p) phase.push(`epoch ${l.epoch}: phase ${l.phase}, expected ${p}`);
  }
  const ticketLines = lines.filter((l) => l.epoch >= ticket);
  const frozen = ticketLines
    .filter((l) => !sameBits(l.layerBits, ticketLines[0]!.layerBits))
    .map((l) => `epoch ${l.epoch}: bits changed in the ticket phase`);
  return [
    check('temperature', beta, `beta = ${cfg.finalTemp}^(epoch/${ticket}) every epoch`),
    check('ticket phase', phase, `search before epoch ${ticket}, ticket (hard masks) from it`),
    check(
      'masks frozen in the ticket phase',
      frozen,
      ticketLines.length
        ? `same bits for all ${ticketLines.length} ticket epochs`
        : 'no ticket epochs',
    ),
  ];
}

/**
 * Spec 2 rounds form (ImageNet ResNet-50): R search rounds of E epochs, beta restarting at 1 and
 * reaching finalTemp at each round's end, then a final run of E epochs with hard masks, which
 * keeps the masks the last search round found (the reset m <- min(beta m, s0) happens between
 * search rounds only).
 */
/** The ticket's budget enforcement as summary.json reports it: positions turned off and on. */
export interface TicketTrim {
  trimmed: readonly { layer: string }[];
  raised: readonly { layer: string }[];
}

/** Bits per layer after the ticket's trim report: one less per trimmed, one more per raised. */
function afterTrim(
  bits: Record<string, number> | undefined,
  trim: TicketTrim | undefined,
): Record<string, number> | undefined {
  if (!bits || !trim) return bits;
  const out = { ...bits };
  for (const a of trim.trimmed) out[a.layer] = (out[a.layer] ?? 0) - 1;
  for (const a of trim.raised) out[a.layer] = (out[a.layer] ?? 0) + 1;
  return out;
}

function roundsChecks(cfg: RunConfig, lines: MetricsLine[], trim?: TicketTrim): ScheduleCheck[] {
  const E = cfg.epochs;
  const R = cfg.rounds ?? 1;
  const count: string[] = [];
  if (lines.length !== (R + 1) * E)
    count.push(`${lines.length} epochs, expected ${R} x ${E} + ${E} = ${(R + 1) * E}`);
  const beta: string[] = [];
  const phase: string[] = [];
  for (const l of lines) {
    const round = Math.floor(l.epoch / E);
    const c = l.epoch % E;
    if (l.round !== round) count.push(`epoch ${l.epoch}: round ${l.round}, expected ${round}`);
    if (round < R) {
      const want = E === 1 ? 1 : cfg.finalTemp ** (c / (E - 1));
      if (!close(l.beta, want))
        beta.push(`round ${round} epoch ${c}: beta ${l.beta}, expected ${want}`);
    }
    const p = round < R ? 'search' : 'ticket';
    if (l.phase !== p) phase.push(`round ${round} epoch ${c}: phase ${l.phase}, expected ${p}`);
  }
  const lastSearch = lines.filter((l) => Math.floor(l.epoch / E) === R - 1).at(-1);
  const final = lines.filter((l) => Math.floor(l.epoch / E) >= R);
  const kept: string[] = [];
  // budget enforcement at the ticket may turn positions off (trim) or on (a layer raised to its
  // floor): the final run keeps the last round's bits with exactly those changes
  const expected = afterTrim(lastSearch?.layerBits, trim);
  const changes = trim ? trim.trimmed.length + trim.raised.length : 0;
  if (final[0] && !sameBits(final[0].layerBits, expected)) {
    kept.push(
      `the last search round ended with ${bitsText(lastSearch?.layerBits)}` +
        (changes ? ` (${bitsText(expected)} after the ticket's budget enforcement)` : '') +
        `, the final run started with ${bitsText(final[0].layerBits)}`,
    );
  }
  const frozen = final
    .filter((l) => !sameBits(l.layerBits, final[0]!.layerBits))
    .map((l) => `epoch ${l.epoch}: bits changed in the final run`);
  return [
    check('epochs and rounds', count, `${R} search rounds of ${E} epochs, then a final run`),
    check(
      'temperature restarts every round',
      beta,
      `beta from 1 to ${cfg.finalTemp} within every search round`,
    ),
    check('final run with hard masks', phase, 'search rounds, then the ticket (hard-mask) run'),
    check(
      'final run keeps the bits of the last search round',
      kept,
      `final run started with ${bitsText(final[0]?.layerBits)}, as the last round ended`,
    ),
    check('masks frozen in the final run', frozen, `same bits for all ${final.length} epochs`),
  ];
}

/**
 * The schedule checks of a CSQ run from its config, its metrics.jsonl lines, the temperature
 * read back from the network's layers at the end (summary.json's finalBeta) and the ticket's
 * budget enforcement (summary.json's trim: its trimmed and raised positions).
 */
export function checkSchedule(
  cfg: RunConfig,
  metrics: MetricsLine[],
  finalBeta?: number,
  trim?: TicketTrim,
): ScheduleCheck[] {
  const lines = metrics.filter((l) => l.model === 'csq').sort((a, b) => a.epoch - b.epoch);
  if (lines.length === 0) return [{ name: 'metrics', ok: false, detail: 'no CSQ epochs logged' }];
  const checks =
    cfg.schedule === 'rounds' ? roundsChecks(cfg, lines, trim) : epochChecks(cfg, lines);
  const last = lines.at(-1)!;
  checks.push(
    finalBeta === undefined
      ? { name: 'beta set on the network', ok: false, detail: 'summary.json has no finalBeta' }
      : check(
          'beta set on the network',
          close(finalBeta, last.beta ?? Number.NaN)
            ? []
            : [`the layers hold beta ${finalBeta}, the schedule's last epoch had ${last.beta}`],
          `the layers hold the schedule's last beta (${finalBeta})`,
        ),
  );
  return checks;
}
